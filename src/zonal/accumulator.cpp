#include "zonal/accumulator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sco::zonal {

using core::DataType;

namespace {
constexpr std::size_t kCompactAt = 1 << 20;   // pairs before sorting and merging
constexpr std::size_t kDenseAt = 1 << 15;     // pairs before an 8/16-bit zone turns dense
}  // namespace

void Accumulator::reset(Needs needs, DataType type, double scale, double offset) {
  needs_ = needs;
  type_ = type;
  scale_ = scale;
  offset_ = offset;
  cov_all_ = cov_ = 0.0;
  shift_ = 0.0;
  shifted_ = false;
  sum_ = sum_d_ = sum_d2_ = 0.0;
  min_ = std::numeric_limits<double>::infinity();
  max_ = -std::numeric_limits<double>::infinity();
  w_sum_ = wv_sum_ = 0.0;
  area_ = 0.0;
  cells_ = 0;
  pairs_.clear();
  sorted_upto_ = 0;
  dense_.clear();
  dense_mode_ = false;
  merged_.clear();
  merged_valid_ = false;
}

template <typename T>
void Accumulator::add_typed(const core::BlockView& v, const double* coverage, const core::BlockView* weights,
                            const double* row_cell_area) {
  const bool nodata_test = v.nodata.has_value() && !std::isnan(*v.nodata);
  const T nodata = nodata_test ? static_cast<T>(*v.nodata) : T{};
  // A nodata value the type cannot hold matches nothing.
  const bool nodata_exact = nodata_test && static_cast<double>(nodata) == *v.nodata;
  const bool hist = needs_.histogram;
  const bool use_w = needs_.weights && weights != nullptr;
  const bool small_int = type_ == DataType::kByte || type_ == DataType::kInt8 || type_ == DataType::kUInt16 ||
                         type_ == DataType::kInt16;
  for (int y = 0; y < v.height; ++y) {
    const T* row = static_cast<const T*>(v.row(y));
    const double* cov = coverage + static_cast<std::ptrdiff_t>(y) * v.width;
    const std::uint8_t* mask = v.mask ? v.mask + static_cast<std::ptrdiff_t>(y) * v.mask_pitch : nullptr;
    double row_cov_all = 0.0;
    for (int x = 0; x < v.width; ++x) {
      const double c = cov[x];
      if (c <= 0.0) continue;
      ++cells_;
      row_cov_all += c;
      const T raw = row[x];
      if constexpr (!std::numeric_limits<T>::is_integer) {
        if (raw != raw) continue;
      }
      if (nodata_exact && raw == nodata) continue;
      if (mask && mask[x] == 0) continue;
      const double val = static_cast<double>(raw) * scale_ + offset_;
      if (!shifted_) {
        shift_ = val;
        shifted_ = true;
      }
      cov_ += c;
      sum_ += c * val;
      const double d = val - shift_;
      sum_d_ += c * d;
      sum_d2_ += c * d * d;
      min_ = std::min(min_, val);
      max_ = std::max(max_, val);
      if (use_w) {
        double w = 0.0;
        switch (weights->type) {
          case DataType::kFloat32: w = static_cast<const float*>(weights->row(y))[x]; break;
          case DataType::kFloat64: w = static_cast<const double*>(weights->row(y))[x]; break;
          case DataType::kByte: w = static_cast<const std::uint8_t*>(weights->row(y))[x]; break;
          case DataType::kUInt16: w = static_cast<const std::uint16_t*>(weights->row(y))[x]; break;
          case DataType::kInt16: w = static_cast<const std::int16_t*>(weights->row(y))[x]; break;
          case DataType::kUInt32: w = static_cast<const std::uint32_t*>(weights->row(y))[x]; break;
          case DataType::kInt32: w = static_cast<const std::int32_t*>(weights->row(y))[x]; break;
          case DataType::kInt8: w = static_cast<const std::int8_t*>(weights->row(y))[x]; break;
        }
        // Nodata or NaN weights count as no weight.
        if (std::isnan(w) || (weights->nodata && w == *weights->nodata)) w = 0.0;
        w = w * weights->scale + weights->offset;
        w_sum_ += c * w;
        wv_sum_ += c * w * val;
      }
      if (hist) {
        const double key = static_cast<double>(raw);
        if (dense_mode_) {
          dense_[static_cast<std::size_t>(key - dense_base_)] += c;
        } else {
          pairs_.emplace_back(key, c);
          if (small_int && pairs_.size() >= kDenseAt) {
            // Large zone on an 8/16-bit raster: move to a dense table (at most 65536 entries).
            dense_base_ = core::type_min(type_);
            dense_.assign(static_cast<std::size_t>(core::type_max(type_) - core::type_min(type_) + 1), 0.0);
            for (const auto& [k, w] : pairs_) dense_[static_cast<std::size_t>(k - dense_base_)] += w;
            pairs_.clear();
            sorted_upto_ = 0;
            dense_mode_ = true;
          } else if (pairs_.size() >= kCompactAt + sorted_upto_) {
            compact();
          }
        }
      }
    }
    cov_all_ += row_cov_all;
    area_ += row_cov_all * row_cell_area[y];
  }
  merged_valid_ = false;
}

void Accumulator::add(const core::BlockView& v, const double* coverage, const core::BlockView* weights,
                      const double* row_cell_area) {
  switch (v.type) {
    case DataType::kByte: return add_typed<std::uint8_t>(v, coverage, weights, row_cell_area);
    case DataType::kInt8: return add_typed<std::int8_t>(v, coverage, weights, row_cell_area);
    case DataType::kUInt16: return add_typed<std::uint16_t>(v, coverage, weights, row_cell_area);
    case DataType::kInt16: return add_typed<std::int16_t>(v, coverage, weights, row_cell_area);
    case DataType::kUInt32: return add_typed<std::uint32_t>(v, coverage, weights, row_cell_area);
    case DataType::kInt32: return add_typed<std::int32_t>(v, coverage, weights, row_cell_area);
    case DataType::kFloat32: return add_typed<float>(v, coverage, weights, row_cell_area);
    case DataType::kFloat64: return add_typed<double>(v, coverage, weights, row_cell_area);
  }
}

void Accumulator::compact() const {
  std::sort(pairs_.begin(), pairs_.end());
  std::size_t out = 0;
  for (std::size_t i = 0; i < pairs_.size();) {
    double w = 0.0;
    const double k = pairs_[i].first;
    while (i < pairs_.size() && pairs_[i].first == k) w += pairs_[i++].second;
    pairs_[out++] = {k, w};
  }
  pairs_.resize(out);
  sorted_upto_ = out;
}

const std::vector<std::pair<double, double>>& Accumulator::sorted_histogram() const {
  if (merged_valid_) return merged_;
  merged_.clear();
  if (dense_mode_) {
    for (std::size_t i = 0; i < dense_.size(); ++i) {
      if (dense_[i] > 0.0) merged_.emplace_back((static_cast<double>(i) + dense_base_) * scale_ + offset_, dense_[i]);
    }
  } else {
    compact();
    for (const auto& [k, w] : pairs_) {
      if (w > 0.0) merged_.emplace_back(k * scale_ + offset_, w);
    }
    // A negative scale reverses the order.
    if (scale_ < 0) std::reverse(merged_.begin(), merged_.end());
  }
  if (dense_mode_ && scale_ < 0) std::reverse(merged_.begin(), merged_.end());
  merged_valid_ = true;
  return merged_;
}

double Accumulator::quantile(double q) const {
  const auto& h = sorted_histogram();
  if (h.empty()) return std::nan("");
  double total = 0.0;
  for (const auto& [v, w] : h) total += w;
  // The smallest value whose cumulative covered area reaches q of the total. A relative tolerance
  // absorbs round-off in the coverage fractions (q = 0.5 on two equal halves picks the lower one).
  const double target = q * total * (1.0 - 1e-12);
  double cum = 0.0;
  for (const auto& [v, w] : h) {
    cum += w;
    if (cum >= target) return v;
  }
  return h.back().first;
}

double Accumulator::value(const StatSpec& s) const {
  const double nan = std::nan("");
  const bool any = cov_ > 0.0;
  switch (s.kind) {
    case StatKind::kCount: return cov_;
    case StatKind::kSum: return any ? sum_ : 0.0;
    case StatKind::kMean: return any ? sum_ / cov_ : nan;
    case StatKind::kMin: return any ? min_ : nan;
    case StatKind::kMax: return any ? max_ : nan;
    case StatKind::kVariance:
    case StatKind::kStddev: {
      if (!any) return nan;
      const double m = sum_d_ / cov_;
      const double var = std::max(0.0, sum_d2_ / cov_ - m * m);
      return s.kind == StatKind::kVariance ? var : std::sqrt(var);
    }
    case StatKind::kMedian: return any ? quantile(0.5) : nan;
    case StatKind::kQuantile: return any ? quantile(s.q) : nan;
    case StatKind::kMajority:
    case StatKind::kMinority: {
      const auto& h = sorted_histogram();
      if (h.empty()) return nan;
      std::size_t best = 0;
      for (std::size_t i = 1; i < h.size(); ++i) {
        if (s.kind == StatKind::kMajority ? h[i].second > h[best].second : h[i].second < h[best].second) best = i;
      }
      return h[best].first;
    }
    case StatKind::kVariety: return static_cast<double>(sorted_histogram().size());
    case StatKind::kFrac: return nan;  // several columns: see fractions()
    case StatKind::kWeightedMean: return w_sum_ > 0.0 ? wv_sum_ / w_sum_ : nan;
    case StatKind::kWeightedSum: return wv_sum_;
    case StatKind::kArea: return area_;
    case StatKind::kValidFraction: return cov_all_ > 0.0 ? cov_ / cov_all_ : nan;
    case StatKind::kCells: return static_cast<double>(cells_);
  }
  return nan;
}

std::vector<std::pair<double, double>> Accumulator::fractions() const {
  std::vector<std::pair<double, double>> out;
  if (cov_ <= 0.0) return out;
  for (const auto& [v, w] : sorted_histogram()) out.emplace_back(v, w / cov_);
  return out;
}

}  // namespace sco::zonal
