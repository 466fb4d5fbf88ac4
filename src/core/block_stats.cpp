#include "core/block_stats.hpp"

#include <span>

#include "core/ranks.hpp"

#include <algorithm>
#include <cmath>

#include "core/simd.hpp"

namespace sco::core {

namespace {
// Branch-free per row so that it vectorises: invalid lanes contribute 0 to sums and +-inf to
// min/max. Row partial sums are in double to keep totals exact enough over billions of pixels.
template <typename T>
inline __attribute__((always_inline)) void add_typed(RunningStats& s, const MutableBlockView& b) {
  const bool nodata_nan = std::isnan(b.nodata);
  const T nd = static_cast<T>(b.nodata);
  constexpr double kInf = std::numeric_limits<double>::infinity();
  for (int y = 0; y < b.height; ++y) {
    const T* row = static_cast<const T*>(b.row(y));
    double lo = kInf, hi = -kInf, sum = 0.0, sq = 0.0;
    std::int64_t n = 0;
    for (int x = 0; x < b.width; ++x) {
      const T v = row[x];
      bool ok = nodata_nan | (v != nd);
      if constexpr (!std::numeric_limits<T>::is_integer) ok = ok & (v == v);
      const double d = ok ? static_cast<double>(v) : 0.0;
      lo = std::min(lo, ok ? d : kInf);
      hi = std::max(hi, ok ? d : -kInf);
      sum += d;
      sq += d * d;
      n += ok;
    }
    s.min = std::min(s.min, lo);
    s.max = std::max(s.max, hi);
    s.sum += sum;
    s.sum_sq += sq;
    s.count += n;
  }
  s.total += static_cast<std::int64_t>(b.width) * b.height;
}

SCO_KERNEL_CLONES void add_any(RunningStats& s, const MutableBlockView& b) {
  switch (b.type) {
    case DataType::kByte: return add_typed<std::uint8_t>(s, b);
    case DataType::kInt8: return add_typed<std::int8_t>(s, b);
    case DataType::kUInt16: return add_typed<std::uint16_t>(s, b);
    case DataType::kInt16: return add_typed<std::int16_t>(s, b);
    case DataType::kUInt32: return add_typed<std::uint32_t>(s, b);
    case DataType::kInt32: return add_typed<std::int32_t>(s, b);
    case DataType::kFloat32: return add_typed<float>(s, b);
    case DataType::kFloat64: return add_typed<double>(s, b);
  }
}
}  // namespace

void RunningStats::add_block(const MutableBlockView& b) { add_any(*this, b); }

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

RunningStats merged_across_ranks(const RunningStats& mine, RankLink* ranks) {
  if (!ranks || ranks->size() < 2) return mine;
  const auto parts = ranks->gather(std::as_bytes(std::span(&mine, 1)));
  RunningStats all = mine;
  for (std::size_t r = 1; r < parts.size(); ++r) all.merge(ByteReader(parts[r]).get<RunningStats>());
  const auto bytes = ranks->broadcast(std::as_bytes(std::span(&all, 1)));
  return ByteReader(bytes).get<RunningStats>();
}

}  // namespace sco::core
