#include "zonal/accumulator.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "zonal/runs_kernel.hpp"
#include "zonal/weighted_quantile.hpp"

namespace sco::zonal {

using core::DataType;

namespace {
bool cpu_has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}
bool cpu_has_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  return yes;
}
}  // namespace

// The same kernel twice: for baseline x86-64 (2 double lanes) and for AVX2 + FMA (4 lanes). The
// kernel uses only vector extensions and its own helpers, so nothing compiled for AVX2 is shared
// with the baseline code.
namespace kernel_base {
#define SCO_LANES 2
#include "zonal/moments_kernel.inc"
#undef SCO_LANES
}  // namespace kernel_base
#if defined(__x86_64__) && defined(__GNUC__)
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace kernel_avx2 {
#define SCO_LANES 4
#include "zonal/moments_kernel.inc"
#undef SCO_LANES
}  // namespace kernel_avx2
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx2,fma")
namespace kernel_avx512 {
#define SCO_LANES 8
#include "zonal/moments_kernel.inc"
#undef SCO_LANES
}  // namespace kernel_avx512
#pragma GCC pop_options
#else
namespace kernel_avx2 = kernel_base;
namespace kernel_avx512 = kernel_base;
#endif

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
  sum_d_ = sum_d2_ = 0.0;
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

void Accumulator::hist_add(double key, double c) {
  if (dense_mode_) {
    dense_[static_cast<std::size_t>(key - dense_base_)] += c;
    return;
  }
  pairs_.emplace_back(key, c);
  hist_grown();
}

void Accumulator::hist_grown() {
  const bool small_int = type_ == DataType::kByte || type_ == DataType::kInt8 || type_ == DataType::kUInt16 ||
                         type_ == DataType::kInt16;
  if (small_int && pairs_.size() >= kDenseAt) {
    // A large zone on an 8/16-bit raster: move to a dense table (at most 65536 entries).
    dense_base_ = core::type_min(type_);
    // One slot per value, and a spare one at the end that takes what must not count.
    dense_.assign(static_cast<std::size_t>(core::type_max(type_) - core::type_min(type_) + 2), 0.0);
    for (const auto& [k, w] : pairs_) dense_[static_cast<std::size_t>(k - dense_base_)] += w;
    pairs_.clear();
    sorted_upto_ = 0;
    dense_mode_ = true;
  } else if (pairs_.size() >= kCompactAt + sorted_upto_) {
    compact();
  }
}

template <typename T, bool kHist, bool kWeights>
void Accumulator::add_typed(const core::BlockView& v, const double* coverage, std::ptrdiff_t coverage_pitch,
                            const core::BlockView* weights, const double* row_cell_area) {
  const std::optional<T> band_nodata = core::nodata_as<T>(v.nodata);
  const bool nodata_exact = band_nodata.has_value();
  const T nodata = band_nodata.value_or(T{});
  auto valid = [&](T raw, std::uint8_t m) {
    bool ok = m != 0;
    if constexpr (!std::numeric_limits<T>::is_integer) ok = ok & (raw == raw);
    if (nodata_exact) ok = ok & (raw != nodata);
    return ok;
  };
  if (!shifted_) {
    // Moments are taken about the first valid value, which keeps the variance accurate.
    for (int y = 0; y < v.height && !shifted_; ++y) {
      const auto* row = static_cast<const core::Unaligned<T>*>(v.row(y));
      const double* cov = coverage + static_cast<std::ptrdiff_t>(y) * coverage_pitch;
      const std::uint8_t* mask = v.mask ? v.mask + static_cast<std::ptrdiff_t>(y) * v.mask_pitch : nullptr;
      for (int x = 0; x < v.width; ++x) {
        if (cov[x] > 0.0 && valid(row[x], mask ? mask[x] : 1)) {
          shift_ = static_cast<double>(row[x]) * scale_ + offset_;
          shifted_ = true;
          break;
        }
      }
    }
  }
  const double shift = shift_, scale = scale_, offset = offset_;
  // The moments, extremes, cells and area of the window in one pass, by the widest vector kernel
  // this CPU has (moments_kernel.inc).
  const double nd = nodata_exact ? static_cast<double>(nodata) : std::numeric_limits<double>::quiet_NaN();
  const auto* data = static_cast<const core::Unaligned<T>*>(v.data);
  WindowMoments m;
  if (cpu_has_avx512()) {
    kernel_avx512::moments_window<T>(data, v.pitch, coverage, coverage_pitch, v.mask, v.mask_pitch, v.width, v.height,
                                     row_cell_area, nd, scale, offset, shift, m);
  } else if (cpu_has_avx2()) {
    kernel_avx2::moments_window<T>(data, v.pitch, coverage, coverage_pitch, v.mask, v.mask_pitch, v.width, v.height,
                                   row_cell_area, nd, scale, offset, shift, m);
  } else {
    kernel_base::moments_window<T>(data, v.pitch, coverage, coverage_pitch, v.mask, v.mask_pitch, v.width, v.height,
                                   row_cell_area, nd, scale, offset, shift, m);
  }
  cells_ += static_cast<std::int64_t>(m.touched);
  cov_all_ += m.cov_all;
  area_ += m.area;
  cov_ += m.cov;
  sum_d_ += m.d;
  sum_d2_ += m.d2;
  min_ = std::min(min_, m.lo);
  max_ = std::max(max_, m.hi);
  if constexpr (kWeights || kHist) {
    for (int y = 0; y < v.height; ++y) {
      const auto* row = static_cast<const core::Unaligned<T>*>(v.row(y));
      const double* cov = coverage + static_cast<std::ptrdiff_t>(y) * coverage_pitch;
      const std::uint8_t* mask = v.mask ? v.mask + static_cast<std::ptrdiff_t>(y) * v.mask_pitch : nullptr;
      if constexpr (kWeights) {
        for (int x = 0; x < v.width; ++x) {
          const double c = cov[x];
          const T raw = row[x];
          if (c <= 0.0 || !valid(raw, mask ? mask[x] : 1)) continue;
          const double val = static_cast<double>(raw) * scale + offset;
          double w = weights->value_at(x, y);
          // Nodata or NaN weights count as no weight.
          if (std::isnan(w) || (weights->nodata && w == *weights->nodata)) w = 0.0;
          w = w * weights->scale + weights->offset;
          w_sum_ += c * w;
          wv_sum_ += c * w * val;
        }
      }
      if constexpr (kHist) {
        if (dense_mode_) {
          // Dense table: every cell adds to its slot, an invalid or uncovered one to the spare
          // slot past the end; no branch to mispredict where values or validity change.
          double* const table = dense_.data();
          const std::size_t spare = dense_.size() - 1;
          for (int x = 0; x < v.width; ++x) {
            const double c = cov[x];
            const T raw = row[x];
            const bool ok = (c > 0.0) & valid(raw, mask ? mask[x] : 1);
            const auto slot = static_cast<std::size_t>(static_cast<double>(raw) - dense_base_);
            table[ok ? slot : spare] += c;
          }
        } else {
          // Runs of equal values go to the pair list as one entry: neighbouring cells often share
          // a value, and fewer pairs are faster to select from (runs_kernel.hpp).
          HistEntry* at = pairs_.room(static_cast<std::size_t>(v.width) + 8);
          pairs_.commit(collect_runs<T>(row, cov, mask, v.width, nd, at));
          hist_grown();
        }
      }
    }
  }
  merged_valid_ = false;
}

template <typename T>
void Accumulator::add_dispatch(const core::BlockView& v, const double* coverage, std::ptrdiff_t pitch,
                               const core::BlockView* weights, const double* row_cell_area) {
  const bool w = needs_.weights && weights != nullptr;
  if (needs_.histogram) {
    if (w) add_typed<T, true, true>(v, coverage, pitch, weights, row_cell_area);
    else add_typed<T, true, false>(v, coverage, pitch, weights, row_cell_area);
  } else {
    if (w) add_typed<T, false, true>(v, coverage, pitch, weights, row_cell_area);
    else add_typed<T, false, false>(v, coverage, pitch, weights, row_cell_area);
  }
}

void Accumulator::add(const core::BlockView& v, const double* coverage, std::ptrdiff_t pitch,
                      const core::BlockView* weights, const double* row_cell_area) {
  switch (v.type) {
    case DataType::kByte: return add_dispatch<std::uint8_t>(v, coverage, pitch, weights, row_cell_area);
    case DataType::kInt8: return add_dispatch<std::int8_t>(v, coverage, pitch, weights, row_cell_area);
    case DataType::kUInt16: return add_dispatch<std::uint16_t>(v, coverage, pitch, weights, row_cell_area);
    case DataType::kInt16: return add_dispatch<std::int16_t>(v, coverage, pitch, weights, row_cell_area);
    case DataType::kUInt32: return add_dispatch<std::uint32_t>(v, coverage, pitch, weights, row_cell_area);
    case DataType::kInt32: return add_dispatch<std::int32_t>(v, coverage, pitch, weights, row_cell_area);
    case DataType::kFloat32: return add_dispatch<float>(v, coverage, pitch, weights, row_cell_area);
    case DataType::kFloat64: return add_dispatch<double>(v, coverage, pitch, weights, row_cell_area);
  }
}

void Accumulator::merge(const Accumulator& o) {
  cov_all_ += o.cov_all_;
  cells_ += o.cells_;
  area_ += o.area_;
  w_sum_ += o.w_sum_;
  wv_sum_ += o.wv_sum_;
  if (o.shifted_) {
    if (!shifted_) {
      shift_ = o.shift_;
      shifted_ = true;
    }
    // Re-centre the other's moments on this shift: with e = o.shift - shift,
    // sum c (v - shift) = sum c (v - o.shift) + e sum c, and likewise for the squares.
    const double e = o.shift_ - shift_;
    sum_d2_ += o.sum_d2_ + 2.0 * e * o.sum_d_ + e * e * o.cov_;
    sum_d_ += o.sum_d_ + e * o.cov_;
    cov_ += o.cov_;
    min_ = std::min(min_, o.min_);
    max_ = std::max(max_, o.max_);
  }
  if (needs_.histogram) {
    if (o.dense_mode_) {
      for (std::size_t i = 0; i + 1 < o.dense_.size(); ++i) {
        if (o.dense_[i] > 0.0) hist_add(static_cast<double>(i) + o.dense_base_, o.dense_[i]);
      }
    } else {
      for (const auto& [k, w] : o.pairs_) hist_add(k, w);
    }
  }
  merged_valid_ = false;
}

void Accumulator::save(core::ByteWriter& out) const {
  out.put(needs_);
  out.put(type_);
  for (double v : {scale_, offset_, cov_all_, cov_, shift_, sum_d_, sum_d2_, min_, max_, w_sum_, wv_sum_, area_}) out.put(v);
  out.put<std::uint8_t>(shifted_ ? 1 : 0);
  out.put(cells_);
  if (!needs_.histogram) return;
  // The pairs as they are (one block, unsorted: the receiver merges them by key when it needs to;
  // sorting here cost n log n per partial zone on every rank). A dense table as its non-empty slots.
  if (!dense_mode_) {
    out.put_bytes(std::as_bytes(std::span(pairs_.begin(), pairs_.end())));
    return;
  }
  std::vector<HistEntry> entries;
  for (std::size_t i = 0; i + 1 < dense_.size(); ++i) {
    if (dense_[i] > 0.0) entries.emplace_back(static_cast<double>(i) + dense_base_, dense_[i]);
  }
  out.put_bytes(std::as_bytes(std::span(entries)));
}

void Accumulator::load(core::ByteReader& in) {
  const auto needs = in.get<Needs>();
  const auto type = in.get<DataType>();
  const double scale = in.get<double>(), offset = in.get<double>();
  reset(needs, type, scale, offset);
  for (double* v : {&cov_all_, &cov_, &shift_, &sum_d_, &sum_d2_, &min_, &max_, &w_sum_, &wv_sum_, &area_}) *v = in.get<double>();
  shifted_ = in.get<std::uint8_t>() != 0;
  cells_ = in.get<std::int64_t>();
  if (!needs_.histogram) return;
  const auto block = in.get_bytes();
  if (block.size() % sizeof(HistEntry) != 0) core::fail(core::ErrorCode::kInternal, "a histogram of {} bytes between ranks", block.size());
  const std::size_t n = block.size() / sizeof(HistEntry);
  std::memcpy(static_cast<void*>(pairs_.room(n)), block.data(), block.size());
  pairs_.commit(n);
  hist_grown();  // densified or compacted as if added one by one
}

void Accumulator::compact() const {
  std::sort(pairs_.begin(), pairs_.end());
  std::size_t out = 0;
  for (std::size_t i = 0; i < pairs_.size();) {
    double w = 0.0;
    const double k = pairs_[i].key;
    while (i < pairs_.size() && pairs_[i].key == k) w += pairs_[i++].w;
    pairs_[out++] = {k, w};
  }
  pairs_.truncate(out);
  sorted_upto_ = out;
}

namespace {

// Sums the weights of equal keys of e[0, n) into `out` as (key x scale + offset, weight), in no
// order, by an open-addressing table of indices: linear in n. A zone's pairs repeat few values (runs
// in one row, the same runs row after row), so merging before sorting leaves little to sort.
void sum_equal_keys(const HistEntry* e, std::size_t n, double scale, double offset,
                    std::vector<std::pair<double, double>>& out) {
  thread_local std::vector<std::uint32_t> slots;
  thread_local std::vector<double> keys;
  int bits = 4;
  while ((std::size_t{1} << bits) < 2 * n) ++bits;
  const std::size_t mask = (std::size_t{1} << bits) - 1;
  slots.assign(mask + 1, UINT32_MAX);
  keys.clear();
  out.clear();
  for (std::size_t i = 0; i < n; ++i) {
    const double k = e[i].key;
    std::uint64_t b;
    std::memcpy(&b, &k, sizeof b);
    if ((b << 1) == 0) b = 0;  // -0.0 and 0.0 are one value (in bits: this file has no signed zeros)
    std::size_t h = static_cast<std::size_t>((b * 0x9E3779B97F4A7C15ull) >> (64 - bits));
    while (slots[h] != UINT32_MAX && keys[slots[h]] != k) h = (h + 1) & mask;
    if (slots[h] == UINT32_MAX) {
      slots[h] = static_cast<std::uint32_t>(keys.size());
      keys.push_back(k);
      out.emplace_back(k * scale + offset, 0.0);
    }
    out[slots[h]].second += e[i].w;
  }
}

}  // namespace

const std::vector<std::pair<double, double>>& Accumulator::sorted_histogram() const {
  if (merged_valid_) return merged_;
  merged_.clear();
  if (dense_mode_) {
    for (std::size_t i = 0; i + 1 < dense_.size(); ++i) {
      if (dense_[i] > 0.0) merged_.emplace_back((static_cast<double>(i) + dense_base_) * scale_ + offset_, dense_[i]);
    }
    if (scale_ < 0) std::reverse(merged_.begin(), merged_.end());
  } else {
    sum_equal_keys(pairs_.begin(), pairs_.size(), scale_, offset_, merged_);
    std::erase_if(merged_, [](const std::pair<double, double>& p) { return !(p.second > 0.0); });
    std::sort(merged_.begin(), merged_.end());
  }
  merged_valid_ = true;
  return merged_;
}

namespace {

// The smallest key of a[0, n) whose cumulative weight, in key order, reaches `target` (> 0), with
// `below` the weight of the keys known to precede the range, and [key_lo, key_hi] the range of
// the keys (the caller has it from summing the weights). The entries are reordered.
//
// Bucket selection first: the keys are counted into n/8 equal-width bins between their extremes,
// the bin where the cumulative weight crosses the target is found, and its entries (a handful for
// spread-out values) are moved to the front and searched in turn, with the range narrowed to the
// bin's width. Two or three linear passes without data-dependent branches. Bins are monotonic in the
// key (a subtraction and a positive scale), so the bin order is the key order. Key ranges that are
// not finite, or bins that keep nearly everything, end in a three-way weighted quickselect.
double weighted_select(HistEntry* a, std::size_t n, double target, double below, double key_lo, double key_hi) {
  thread_local std::vector<double> bins;
  for (int level = 0; level < 6 && n > 64; ++level) {
    double lo = key_lo, hi = key_hi;
    if (level > 0) {
      lo = hi = a[0].key;
      for (std::size_t i = 1; i < n; ++i) {
        lo = std::min(lo, a[i].key);
        hi = std::max(hi, a[i].key);
      }
    }
    if (lo == hi) return lo;
    if (!std::isfinite(hi - lo)) break;
    const std::size_t nb = std::clamp<std::size_t>(n / 8, 64, 1 << 16);
    const double f = static_cast<double>(nb) / (hi - lo);
    const auto bin_of = [&](double k) { return std::min(static_cast<std::size_t>((k - lo) * f), nb - 1); };
    // Two tables, for even and odd entries: neighbouring entries often fall in one bin, and adding
    // to one slot in turn would wait on the previous addition each time.
    bins.assign(2 * nb, 0.0);
    double* const even = bins.data();
    double* const odd = bins.data() + nb;
    std::size_t i = 0;
    for (; i + 1 < n; i += 2) {
      even[bin_of(a[i].key)] += a[i].w;
      odd[bin_of(a[i + 1].key)] += a[i + 1].w;
    }
    if (i < n) even[bin_of(a[i].key)] += a[i].w;
    std::size_t t = 0;
    while (t + 1 < nb && below + even[t] + odd[t] < target) {
      below += even[t] + odd[t];
      ++t;
    }
    std::size_t m = 0;
    for (std::size_t j = 0; j < n; ++j) {
      if (bin_of(a[j].key) == t) std::swap(a[m++], a[j]);
    }
    if (m * 2 > n) {
      n = m;  // little narrowed: finish by quickselect
      break;
    }
    n = m;
  }
  std::size_t lo = 0, hi = n;
  while (hi - lo > 32) {
    const double x = a[lo].key, y = a[lo + (hi - lo) / 2].key, z = a[hi - 1].key;
    const double pivot = std::max(std::min(x, y), std::min(std::max(x, y), z));
    // Three-way partition: [lo, lt) < pivot, [lt, gt) == pivot, [gt, hi) > pivot.
    std::size_t lt = lo, i = lo, gt = hi;
    double w_less = 0.0, w_eq = 0.0;
    while (i < gt) {
      if (a[i].key < pivot) {
        w_less += a[i].w;
        std::swap(a[lt++], a[i++]);
      } else if (a[i].key > pivot) {
        std::swap(a[i], a[--gt]);
      } else {
        w_eq += a[i].w;
        ++i;
      }
    }
    if (below + w_less >= target) {
      hi = lt;
    } else if (below + w_less + w_eq >= target) {
      return pivot;
    } else {
      below += w_less + w_eq;
      lo = gt;
    }
  }
  std::sort(a + lo, a + hi);
  for (std::size_t i = lo; i < hi; ++i) {
    below += a[i].w;
    if (below >= target) return a[i].key;
  }
  return a[hi > lo ? hi - 1 : 0].key;
}

}  // namespace

double Accumulator::interpolated(double q) const {
  const auto& h = sorted_histogram();
  return interpolated_quantile(h.data(), h.size(), q);
}

double Accumulator::quantile(double q) const {
  // Sparse histograms are not sorted for a quantile: a weighted selection (linear time) finds the
  // smallest value whose cumulative covered area reaches the target. A relative tolerance absorbs
  // round-off in the coverage fractions (q = 0.5 on two equal halves picks the lower one).
  if (!dense_mode_ && !merged_valid_ && scale_ > 0 && !pairs_.empty()) {
    // Total weight and key range in one pass, four entries at a time (independent additions).
    const HistEntry* e = pairs_.data();
    const std::size_t n = pairs_.size();
    double t0 = 0.0, t1 = 0.0, t2 = 0.0, t3 = 0.0;
    double lo0 = e[0].key, lo1 = lo0, hi0 = lo0, hi1 = lo0;
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      t0 += e[i].w;
      t1 += e[i + 1].w;
      t2 += e[i + 2].w;
      t3 += e[i + 3].w;
      lo0 = std::min(lo0, std::min(e[i].key, e[i + 1].key));
      lo1 = std::min(lo1, std::min(e[i + 2].key, e[i + 3].key));
      hi0 = std::max(hi0, std::max(e[i].key, e[i + 1].key));
      hi1 = std::max(hi1, std::max(e[i + 2].key, e[i + 3].key));
    }
    for (; i < n; ++i) {
      t0 += e[i].w;
      lo0 = std::min(lo0, e[i].key);
      hi0 = std::max(hi0, e[i].key);
    }
    const double total = (t0 + t1) + (t2 + t3);
    const double lo = std::min(lo0, lo1), hi = std::max(hi0, hi1);
    const double target = q * total * (1.0 - 1e-12);
    sorted_upto_ = 0;  // the selection reorders the pairs
    if (target <= 0.0) return lo * scale_ + offset_;
    return weighted_select(pairs_.data(), n, target, 0.0, lo, hi) * scale_ + offset_;
  }
  const auto& h = sorted_histogram();
  if (h.empty()) return std::nan("");
  double total = 0.0;
  for (const auto& [v, w] : h) total += w;
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
    // sum = sum of c (v - shift) + shift x sum of c
    case StatKind::kSum: return any ? sum_d_ + shift_ * cov_ : 0.0;
    case StatKind::kMean: return any ? shift_ + sum_d_ / cov_ : nan;
    case StatKind::kMin: return any ? min_ : nan;
    case StatKind::kMax: return any ? max_ : nan;
    case StatKind::kVariance:
    case StatKind::kStddev: {
      if (!any) return nan;
      const double m = sum_d_ / cov_;
      const double var = std::max(0.0, sum_d2_ / cov_ - m * m);
      return s.kind == StatKind::kVariance ? var : std::sqrt(var);
    }
    case StatKind::kMedian: return any ? interpolated(0.5) : nan;
    case StatKind::kQuantile: return any ? interpolated(s.q) : nan;
    case StatKind::kMedianIcdf: return any ? quantile(0.5) : nan;
    case StatKind::kQuantileIcdf: return any ? quantile(s.q) : nan;
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
