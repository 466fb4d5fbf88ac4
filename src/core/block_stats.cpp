#include "core/block_stats.hpp"

#include <algorithm>
#include <cmath>

namespace sco::core {

namespace {
template <typename T>
void add_typed(RunningStats& s, const MutableBlockView& b) {
  const bool nodata_nan = std::isnan(b.nodata);
  const T nd = static_cast<T>(b.nodata);
  for (int y = 0; y < b.height; ++y) {
    const T* row = static_cast<const T*>(b.row(y));
    double lo = s.min, hi = s.max, sum = 0.0, sq = 0.0;
    std::int64_t n = 0;
    for (int x = 0; x < b.width; ++x) {
      const T v = row[x];
      if constexpr (!std::numeric_limits<T>::is_integer) {
        if (v != v) continue;
      }
      if (!nodata_nan && v == nd) continue;
      const double d = static_cast<double>(v);
      lo = std::min(lo, d);
      hi = std::max(hi, d);
      sum += d;
      sq += d * d;
      ++n;
    }
    s.min = lo;
    s.max = hi;
    s.sum += sum;
    s.sum_sq += sq;
    s.count += n;
  }
  s.total += static_cast<std::int64_t>(b.width) * b.height;
}
}  // namespace

void RunningStats::add_block(const MutableBlockView& b) {
  switch (b.type) {
    case DataType::kByte: return add_typed<std::uint8_t>(*this, b);
    case DataType::kInt8: return add_typed<std::int8_t>(*this, b);
    case DataType::kUInt16: return add_typed<std::uint16_t>(*this, b);
    case DataType::kInt16: return add_typed<std::int16_t>(*this, b);
    case DataType::kUInt32: return add_typed<std::uint32_t>(*this, b);
    case DataType::kInt32: return add_typed<std::int32_t>(*this, b);
    case DataType::kFloat32: return add_typed<float>(*this, b);
    case DataType::kFloat64: return add_typed<double>(*this, b);
  }
}

void RunningStats::merge(const RunningStats& o) {
  count += o.count;
  total += o.total;
  min = std::min(min, o.min);
  max = std::max(max, o.max);
  sum += o.sum;
  sum_sq += o.sum_sq;
}

double RunningStats::mean() const { return count ? sum / static_cast<double>(count) : std::nan(""); }

double RunningStats::stddev() const {
  if (!count) return std::nan("");
  const double m = mean();
  return std::sqrt(std::max(0.0, sum_sq / static_cast<double>(count) - m * m));
}

}  // namespace sco::core
