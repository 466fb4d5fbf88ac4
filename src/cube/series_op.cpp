#include "cube/series_op.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/simd.hpp"
#include "cube/radix_select.hpp"
#include "cube/reducers.hpp"
#include "cube/sort_network.hpp"
#include "cube/spi.hpp"
#include "cube/trend.hpp"

namespace sco::cube {

using core::ErrorCode;

std::string series_ops_help() {
  return "mean, min, max, sum, median, pNN (percentile, e.g. p90), count (observations),\n"
         "sd, variance (sample standard deviation and variance, n - 1; missing with fewer than 2 observations),\n"
         "first, last (the first / last observed step), product (of the observed steps),\n"
         "count_above:T, count_below:T (steps above / below T), run_above:T, run_below:T (longest run of\n"
         "consecutive steps above / below T; a missing step breaks a run), sen_slope (Sen's slope per year),\n"
         "mk_z, mk_p (Mann-Kendall Z and two-sided p-value, tie-corrected; seasonal for several steps a year),\n"
         "spi:K (Standardized Precipitation Index of the last month over K months, gamma fitted per calendar month),\n"
         "date_of_max, date_of_min (day of the year of the step with the largest / smallest value, the earliest on ties)";
}

SeriesOp parse_series_op(std::string_view text) {
  SeriesOp op;
  op.name = std::string(text);
  const std::string s(text);
  auto number = [&](const std::string& v) {
    char* end = nullptr;
    const double x = std::strtod(v.c_str(), &end);
    if (v.empty() || end != v.c_str() + v.size()) {
      core::fail(ErrorCode::kInvalidInput, "operation '{}': '{}' is not a number", text, v);
    }
    return x;
  };
  const auto colon = s.find(':');
  const std::string head = s.substr(0, colon);
  const std::string arg = colon == std::string::npos ? "" : s.substr(colon + 1);
  struct Entry {
    const char* name;
    SeriesOpKind kind;
    bool needs_arg;
  };
  static const Entry kTable[] = {
      {"mean", SeriesOpKind::kMean, false},         {"min", SeriesOpKind::kMin, false},
      {"max", SeriesOpKind::kMax, false},           {"sum", SeriesOpKind::kSum, false},
      {"median", SeriesOpKind::kMedian, false},     {"count", SeriesOpKind::kCount, false},
      {"count_above", SeriesOpKind::kCountAbove, true}, {"count_below", SeriesOpKind::kCountBelow, true},
      {"run_above", SeriesOpKind::kRunAbove, true}, {"run_below", SeriesOpKind::kRunBelow, true},
      {"sen_slope", SeriesOpKind::kSenSlope, false}, {"mk_z", SeriesOpKind::kMkZ, false},
      {"mk_p", SeriesOpKind::kMkP, false},           {"spi", SeriesOpKind::kSpi, true},
      {"date_of_max", SeriesOpKind::kDateOfMax, false}, {"date_of_min", SeriesOpKind::kDateOfMin, false},
      {"sd", SeriesOpKind::kSd, false},             {"variance", SeriesOpKind::kVariance, false},
      {"first", SeriesOpKind::kFirst, false},       {"last", SeriesOpKind::kLast, false},
      {"product", SeriesOpKind::kProduct, false},
  };
  for (const auto& e : kTable) {
    if (head == e.name) {
      if (e.needs_arg && arg.empty()) core::fail(ErrorCode::kInvalidInput, "operation '{}' needs a threshold: {}:T", text, e.name);
      if (!e.needs_arg && !arg.empty()) core::fail(ErrorCode::kInvalidInput, "operation '{}' takes no argument", text);
      op.kind = e.kind;
      if (e.needs_arg) op.param = number(arg);
      if (e.kind == SeriesOpKind::kSpi && !(op.param >= 1 && op.param <= 48 && op.param == std::floor(op.param))) {
        core::fail(ErrorCode::kInvalidInput, "operation '{}': the SPI's scale is a whole number of months, 1 to 48", text);
      }
      return op;
    }
  }
  if (s.size() > 1 && s[0] == 'p') {
    const double q = number(s.substr(1));
    if (q < 0 || q > 100) core::fail(ErrorCode::kInvalidInput, "operation '{}': a percentile lies in 0..100", text);
    op.kind = SeriesOpKind::kPercentile;
    op.param = q / 100.0;
    return op;
  }
  core::fail(ErrorCode::kInvalidInput,
             "unknown operation '{}' (operations: mean, min, max, sum, median, pNN, count, count_above:T, "
             "count_below:T, run_above:T, run_below:T, sd, variance, first, last, product, sen_slope, mk_z, mk_p, spi:K, date_of_max, date_of_min)",
             text);
}

std::vector<double> step_labels(const std::vector<DateTime>& dates, Calendar calendar, const std::vector<std::size_t>& steps) {
  std::vector<double> labels;
  for (std::size_t k = 0; k < steps.size(); ++k) {
    if (dates.empty()) {
      labels.push_back(static_cast<double>(k + 1));
      continue;
    }
    const DateTime& d = dates[steps[k]];
    labels.push_back(std::floor(days_from_epoch(d, calendar)) - days_from_epoch(DateTime{d.year, 1, 1}, calendar) + 1);
  }
  return labels;
}

SeriesEvaluator::SeriesEvaluator(SeriesOp op, std::vector<double> t) : op_(std::move(op)), t_(std::move(t)) {
  const std::size_t n = t_.size();
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) inv_dt_.push_back(t_[j] != t_[i] ? 1.0 / (t_[j] - t_[i]) : 0.0);
  }
}

bool SeriesEvaluator::folds() const {
  switch (op_.kind) {
    case SeriesOpKind::kMean: case SeriesOpKind::kSum: case SeriesOpKind::kMin: case SeriesOpKind::kMax:
    case SeriesOpKind::kCount: case SeriesOpKind::kCountAbove: case SeriesOpKind::kCountBelow:
      return true;
    default:
      return false;
  }
}

namespace {
template <typename T>
void load_row(const core::BlockView& v, int y, double* dst, int n) {
  const T* row = static_cast<const T*>(v.row(y));
  const std::optional<T> nodata = core::nodata_as<T>(v.nodata);
  const bool nd_fits = nodata.has_value();
  const T nd = nodata.value_or(T{});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double scale = v.scale, offset = v.offset;
  // Two loops, so that the one without a mask vectorises (a load of mask[x] cannot be speculated).
  if (v.mask) {
    const std::uint8_t* mask = v.mask + static_cast<std::ptrdiff_t>(y) * v.mask_pitch;
    for (int x = 0; x < n; ++x) {
      const double raw = static_cast<double>(row[x]);
      const bool missing = raw != raw || (nd_fits && row[x] == nd) || mask[x] == 0;
      dst[x] = missing ? nan : raw * scale + offset;
    }
    return;
  }
  // A NaN value stays NaN through the scaling, and a NaN nodata matches nothing: one comparison at
  // most per cell, and none when there is no nodata to match (both loops vectorise).
  if (!nd_fits || nd != nd) {
    for (int x = 0; x < n; ++x) dst[x] = static_cast<double>(row[x]) * scale + offset;
    return;
  }
  for (int x = 0; x < n; ++x) dst[x] = row[x] == nd ? nan : static_cast<double>(row[x]) * scale + offset;
}

// Row y of a step's block as doubles (scaled; NaN where missing).
void load_step_row(const core::BlockView& v, int y, double* dst, int w) {
  switch (v.type) {
    case core::DataType::kByte: load_row<std::uint8_t>(v, y, dst, w); break;
    case core::DataType::kInt8: load_row<std::int8_t>(v, y, dst, w); break;
    case core::DataType::kUInt16: load_row<std::uint16_t>(v, y, dst, w); break;
    case core::DataType::kInt16: load_row<std::int16_t>(v, y, dst, w); break;
    case core::DataType::kUInt32: load_row<std::uint32_t>(v, y, dst, w); break;
    case core::DataType::kInt32: load_row<std::int32_t>(v, y, dst, w); break;
    case core::DataType::kFloat32: load_row<float>(v, y, dst, w); break;
    case core::DataType::kFloat64: load_row<double>(v, y, dst, w); break;
  }
}
}  // namespace

// Reducers that need no per-pixel order: each step folded into per-cell accumulators as it comes, a
// row at a time (one vectorisable pass per row, the row in L1), then the results written.
void SeriesEvaluator::start_accumulators(std::size_t cells) {
  const double inf = std::numeric_limits<double>::infinity();
  acc_a_.assign(cells, op_.kind == SeriesOpKind::kMin ? inf : op_.kind == SeriesOpKind::kMax ? -inf : 0.0);
  acc_b_.assign(cells, 0.0);
}

void SeriesEvaluator::fold_begin(const core::MutableBlockView& out, const float* thresholds) {
  if (!folds()) core::fail(ErrorCode::kInternal, "'{}' needs each pixel's whole series", op_.name);
  start_accumulators(static_cast<std::size_t>(out.width) * static_cast<std::size_t>(out.height));
  series_.resize(static_cast<std::size_t>(out.width));
  thresholds_ = thresholds;
}

void SeriesEvaluator::fold_step(const core::BlockView& step) {
  const int w = step.width;
  for (int y = 0; y < step.height; ++y) {
    const std::size_t at = static_cast<std::size_t>(y) * static_cast<std::size_t>(w);
    load_step_row(step, y, series_.data(), w);
    accumulate_row(series_.data(), w, acc_a_.data() + at, acc_b_.data() + at, thresholds_ ? thresholds_ + at : nullptr);
  }
}

void SeriesEvaluator::fold_finish(const core::MutableBlockView& out) {
  const int w = out.width;
  for (int y = 0; y < out.height; ++y) {
    const std::size_t at = static_cast<std::size_t>(y) * static_cast<std::size_t>(w);
    finish_row(w, acc_a_.data() + at, acc_b_.data() + at, static_cast<float*>(out.row(y)), static_cast<float>(out.nodata),
               thresholds_ ? thresholds_ + at : nullptr);
  }
}

void SeriesEvaluator::accumulate_row(const double* x, int w, double* a, double* b, const float* thresholds) const {
  const double thr = op_.param;
  switch (op_.kind) {
    case SeriesOpKind::kMean: case SeriesOpKind::kSum:
      for (int i = 0; i < w; ++i) a[i] += x[i] == x[i] ? x[i] : 0.0;
      break;
    case SeriesOpKind::kMin:
      for (int i = 0; i < w; ++i) a[i] = (x[i] == x[i] && x[i] < a[i]) ? x[i] : a[i];
      break;
    case SeriesOpKind::kMax:
      for (int i = 0; i < w; ++i) a[i] = (x[i] == x[i] && x[i] > a[i]) ? x[i] : a[i];
      break;
    case SeriesOpKind::kCountAbove:
      if (thresholds) {
        for (int i = 0; i < w; ++i) a[i] += x[i] > static_cast<double>(thresholds[i]) ? 1.0 : 0.0;
      } else {
        for (int i = 0; i < w; ++i) a[i] += x[i] > thr ? 1.0 : 0.0;
      }
      break;
    case SeriesOpKind::kCountBelow:
      if (thresholds) {
        for (int i = 0; i < w; ++i) a[i] += x[i] < static_cast<double>(thresholds[i]) ? 1.0 : 0.0;
      } else {
        for (int i = 0; i < w; ++i) a[i] += x[i] < thr ? 1.0 : 0.0;
      }
      break;
    default:
      break;
  }
  for (int i = 0; i < w; ++i) b[i] += x[i] == x[i] ? 1.0 : 0.0;
}

void SeriesEvaluator::finish_row(int w, const double* a, const double* b, float* out, float nodata, const float* thresholds) const {
  for (int i = 0; i < w; ++i) {
    double r;
    switch (op_.kind) {
      case SeriesOpKind::kMean: r = a[i] / b[i]; break;
      case SeriesOpKind::kCount: r = b[i]; break;
      default: r = a[i]; break;
    }
    const bool thr_ok = !thresholds || thresholds[i] == thresholds[i];
    out[i] = b[i] > 0 && thr_ok && std::isfinite(r) ? static_cast<float>(r) : nodata;
  }
}

// numpy's default percentile (linear between order statistics) with two selections, not a sort.
double SeriesEvaluator::percentile(const double* x, double q) {
  scratch_.clear();
  for (std::size_t k = 0; k < t_.size(); ++k) {
    if (x[k] == x[k]) scratch_.push_back(x[k]);
  }
  return scratch_quantile(q);
}

namespace {
// numpy's default q-quantile of v (reordered): linear between the order statistics around (m - 1) q.
template <typename T>
double select_quantile(std::vector<T>& v, double q) {
  const std::size_t m = v.size();
  if (m == 0) return std::numeric_limits<double>::quiet_NaN();
  const double h = (static_cast<double>(m) - 1.0) * q;
  const std::size_t lo = static_cast<std::size_t>(h);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(lo), v.end());
  const double vlo = static_cast<double>(v[lo]);
  if (lo + 1 >= m || h == static_cast<double>(lo)) return vlo;
  const double vhi = static_cast<double>(*std::min_element(v.begin() + static_cast<std::ptrdiff_t>(lo) + 1, v.end()));
  return vlo + (h - static_cast<double>(lo)) * (vhi - vlo);
}
}  // namespace

double SeriesEvaluator::scratch_quantile(double q) { return select_quantile(scratch_, q); }

// Medians and percentiles of unscaled 16-bit unsigned steps (Sentinel-2 and Landsat digital numbers),
// exact, the same result as the double path. A row at a time: every step's row copied into a buffer of
// n rows with the missing values as 65535 (they sort last; a valid 65535 sorts among them, equal), each
// pixel's observations counted, the columns sorted by a sorting network (vectorised, branch-free), and
// each pixel's quantile read from its first `count` sorted values. Over 128 steps, each pixel's values
// are selected instead. False when a step is of another type or scaled.
bool SeriesEvaluator::quantile_u16(const std::vector<core::BlockView>& steps, const core::MutableBlockView& out, double q) {
  for (const auto& v : steps) {
    if (v.type != core::DataType::kUInt16 || v.scale != 1.0 || v.offset != 0.0) return false;
  }
  const std::size_t n = steps.size();
  if (n > 128) return quantile_u16_select(steps, out, q);
  const int w = out.width;
  const auto& network = sort_network(static_cast<int>(n));
  columns_.resize(n * static_cast<std::size_t>(w));
  counts_.resize(static_cast<std::size_t>(w));
  for (int y = 0; y < out.height; ++y) {
    std::fill(counts_.begin(), counts_.end(), std::uint16_t{0});
    for (std::size_t k = 0; k < n; ++k) gather_u16_row(steps[k], y, w, columns_.data() + k * static_cast<std::size_t>(w), counts_.data());
    sort_columns(columns_.data(), w, network);
    float* o = static_cast<float*>(out.row(y));
    for (int x = 0; x < w; ++x) {
      const std::size_t m = counts_[static_cast<std::size_t>(x)];
      if (m == 0) {
        o[x] = static_cast<float>(out.nodata);
        continue;
      }
      const double h = (static_cast<double>(m) - 1.0) * q;
      const std::size_t lo = static_cast<std::size_t>(h);
      const double vlo = columns_[lo * static_cast<std::size_t>(w) + static_cast<std::size_t>(x)];
      double r = vlo;
      if (lo + 1 < m && h != static_cast<double>(lo)) r = vlo + (h - static_cast<double>(lo)) * (columns_[(lo + 1) * static_cast<std::size_t>(w) + static_cast<std::size_t>(x)] - vlo);
      o[x] = static_cast<float>(r);
    }
  }
  return true;
}

namespace {
// Missing values of a copied row set to 65535 and the valid ones counted: branch-free loops per case,
// vectorised.
SCO_KERNEL_CLONES
void mark_missing(std::uint16_t* dst, std::uint16_t* counts, const std::uint8_t* mask, bool has_nodata, std::uint16_t nodata, int w) {
  if (mask && has_nodata) {
    for (int x = 0; x < w; ++x) {
      const std::uint16_t v = dst[x];
      const bool ok = (mask[x] != 0) & (v != nodata);
      dst[x] = ok ? v : std::uint16_t{65535};
      counts[x] = static_cast<std::uint16_t>(counts[x] + ok);
    }
  } else if (mask) {
    for (int x = 0; x < w; ++x) {
      const bool ok = mask[x] != 0;
      dst[x] = ok ? dst[x] : std::uint16_t{65535};
      counts[x] = static_cast<std::uint16_t>(counts[x] + ok);
    }
  } else if (has_nodata) {
    for (int x = 0; x < w; ++x) {
      const bool ok = dst[x] != nodata;
      dst[x] = ok ? dst[x] : std::uint16_t{65535};
      counts[x] = static_cast<std::uint16_t>(counts[x] + ok);
    }
  } else {
    for (int x = 0; x < w; ++x) counts[x] = static_cast<std::uint16_t>(counts[x] + 1);
  }
}
}  // namespace

// Row y of a 16-bit step into dst, missing values (masked, nodata) as 65535; counts[x] += valid.
void SeriesEvaluator::gather_u16_row(const core::BlockView& v, int y, int w, std::uint16_t* dst, std::uint16_t* counts) {
  std::memcpy(dst, v.row(y), static_cast<std::size_t>(w) * sizeof(std::uint16_t));  // rows may be unaligned
  const std::uint8_t* mask = v.mask ? v.mask + static_cast<std::ptrdiff_t>(y) * v.mask_pitch : nullptr;
  const std::optional<std::uint16_t> nodata = core::nodata_as<std::uint16_t>(v.nodata);
  mark_missing(dst, counts, mask, nodata.has_value(), nodata.value_or(0), w);
}

// Long series: each pixel's observations selected as stored (nth_element), exact.
bool SeriesEvaluator::quantile_u16_select(const std::vector<core::BlockView>& steps, const core::MutableBlockView& out, double q) {
  const std::size_t n = steps.size();
  std::vector<const core::Unaligned<std::uint16_t>*> rows(n);
  std::vector<const std::uint8_t*> masks(n);
  std::vector<std::optional<std::uint16_t>> nodata(n);
  for (std::size_t k = 0; k < n; ++k) nodata[k] = core::nodata_as<std::uint16_t>(steps[k].nodata);
  u16_.reserve(n);
  for (int y = 0; y < out.height; ++y) {
    for (std::size_t k = 0; k < n; ++k) {
      rows[k] = static_cast<const core::Unaligned<std::uint16_t>*>(steps[k].row(y));
      masks[k] = steps[k].mask ? steps[k].mask + static_cast<std::ptrdiff_t>(y) * steps[k].mask_pitch : nullptr;
    }
    float* o = static_cast<float*>(out.row(y));
    for (int x = 0; x < out.width; ++x) {
      u16_.clear();
      for (std::size_t k = 0; k < n; ++k) {
        const std::uint16_t v = rows[k][x];
        if ((masks[k] && masks[k][x] == 0) || (nodata[k] && v == *nodata[k])) continue;
        u16_.push_back(v);
      }
      const double r = select_quantile(u16_, q);
      o[x] = std::isfinite(r) ? static_cast<float>(r) : static_cast<float>(out.nodata);
    }
  }
  return true;
}

// Sen's slope with the pairs' inverse time differences shared by every pixel. Slopes are selected
// in float (the output is float32): half the memory traffic of doubles for the 630 pairs of a
// 36-step series.
void SeriesEvaluator::set_trend_layout(SeasonLayout layout, int min_years) {
  if (layout.season.size() != t_.size() || layout.year.size() != t_.size()) {
    core::fail(core::ErrorCode::kInternal, "series: a season layout of {} steps for {}", layout.season.size(), t_.size());
  }
  seasons_ = std::move(layout);
  min_years_ = min_years;
}

void SeriesEvaluator::set_spi(SeasonLayout months, int first_year, int last_year, int min_years) {
  set_trend_layout(std::move(months), min_years);
  ref_first_ = first_year;
  ref_last_ = last_year;
}

// The SPI of the last step: its accumulation over K consecutive months, on the mixed gamma
// distribution of the same calendar month's accumulations within the reference years.
double SeriesEvaluator::spi(const double* x) {
  const std::size_t n = t_.size();
  const int k = static_cast<int>(op_.param);
  const auto month_index = [&](std::size_t i) { return seasons_.year[i] * 12 + seasons_.season[i]; };
  const auto accumulated = [&](std::size_t i) {
    if (i + 1 < static_cast<std::size_t>(k) || month_index(i) - month_index(i + 1 - k) != k - 1) return std::nan("");
    double sum = 0.0;
    for (std::size_t j = i + 1 - k; j <= i; ++j) sum += x[j];  // NaN when a month is missing
    return sum;
  };
  const std::size_t last = n - 1;
  scratch_.clear();
  for (std::size_t i = 0; i < n; ++i) {
    if (seasons_.season[i] == seasons_.season[last] && seasons_.year[i] >= ref_first_ && seasons_.year[i] <= ref_last_) {
      const double a = accumulated(i);
      if (!std::isnan(a)) scratch_.push_back(a);
    }
  }
  if (static_cast<int>(scratch_.size()) < min_years_) return std::nan("");  // record too short
  return spi_of(accumulated(last), fit_mixed_gamma(scratch_.data(), scratch_.size()));
}

double SeriesEvaluator::sen_slope(const double* x) {
  const std::size_t n = t_.size();
  slopes_.clear();
  std::size_t p = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double xi = x[i];
    for (std::size_t j = i + 1; j < n; ++j, ++p) {
      if (xi == xi && x[j] == x[j] && inv_dt_[p] != 0.0) slopes_.push_back(static_cast<float>((x[j] - xi) * inv_dt_[p]));
    }
  }
  const std::size_t m = slopes_.size();
  if (m == 0) return std::numeric_limits<double>::quiet_NaN();
  if (m % 2) return radix_select(slopes_.data(), m, m / 2, keys_);
  const auto [lo, hi] = radix_select_pair(slopes_.data(), m, m / 2 - 1, keys_);
  return 0.5 * (static_cast<double>(lo) + static_cast<double>(hi));
}


// Operations that need each pixel's series in order (row-wise ones are handled by reduce_row).
double SeriesEvaluator::reduce(const double* x, double thr) {
  const std::size_t n = t_.size();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (series_count(x, n) == 0 || thr != thr) return nan;
  switch (op_.kind) {
    case SeriesOpKind::kMedian: return percentile(x, 0.5);
    case SeriesOpKind::kPercentile: return percentile(x, op_.param);
    case SeriesOpKind::kRunAbove: return static_cast<double>(longest_run(x, n, [thr](double v) { return v > thr; }));
    case SeriesOpKind::kRunBelow: return static_cast<double>(longest_run(x, n, [thr](double v) { return v < thr; }));
    case SeriesOpKind::kSenSlope: case SeriesOpKind::kMkZ: case SeriesOpKind::kMkP: {
      if (min_years_ > 0 && years_observed(x, seasons_) < min_years_) return nan;  // record too short
      if (seasons_.seasons <= 1 && op_.kind == SeriesOpKind::kSenSlope) return sen_slope(x);
      const TrendResult r = seasonal_trend(t_.data(), x, n, seasons_, scratch_);
      return op_.kind == SeriesOpKind::kSenSlope ? r.slope : op_.kind == SeriesOpKind::kMkZ ? r.z : r.p;
    }
    case SeriesOpKind::kSpi: return spi(x);
    case SeriesOpKind::kFirst: case SeriesOpKind::kLast: {
      for (std::size_t k = 0; k < n; ++k) {
        const double v = x[op_.kind == SeriesOpKind::kFirst ? k : n - 1 - k];
        if (v == v) return v;
      }
      return nan;
    }
    case SeriesOpKind::kProduct: {
      double p = 1.0;
      for (std::size_t k = 0; k < n; ++k) p *= x[k] == x[k] ? x[k] : 1.0;
      return p;
    }
    case SeriesOpKind::kSd: case SeriesOpKind::kVariance: {
      double sum = 0.0, count = 0.0;
      for (std::size_t k = 0; k < n; ++k) {
        if (x[k] == x[k]) sum += x[k], count += 1.0;
      }
      if (count < 2.0) return nan;
      const double mean = sum / count;
      double ss = 0.0;  // two passes: no cancellation for values far from zero
      for (std::size_t k = 0; k < n; ++k) {
        if (x[k] == x[k]) ss += (x[k] - mean) * (x[k] - mean);
      }
      const double variance = ss / (count - 1.0);
      return op_.kind == SeriesOpKind::kSd ? std::sqrt(variance) : variance;
    }
    case SeriesOpKind::kDateOfMax: case SeriesOpKind::kDateOfMin: {
      std::size_t best = n;
      for (std::size_t k = 0; k < n; ++k) {
        if (x[k] != x[k]) continue;
        if (best == n || (op_.kind == SeriesOpKind::kDateOfMax ? x[k] > x[best] : x[k] < x[best])) best = k;
      }
      return best < labels_.size() ? labels_[best] : static_cast<double>(best + 1);
    }
    default: return nan;  // row-wise operations
  }
}

void SeriesEvaluator::evaluate(const std::vector<core::BlockView>& steps, const core::MutableBlockView& out,
                               const float* thresholds) {
  const std::size_t n = steps.size();
  if (n != t_.size()) core::fail(ErrorCode::kInternal, "{} steps for {} times", n, t_.size());
  if (out.type != core::DataType::kFloat32) core::fail(ErrorCode::kInternal, "cube outputs are float32");
  const int w = out.width;
  series_.resize(n * static_cast<std::size_t>(w));
  std::vector<double> px(n);
  const bool quantile = op_.kind == SeriesOpKind::kMedian || op_.kind == SeriesOpKind::kPercentile;
  const double q = op_.kind == SeriesOpKind::kMedian ? 0.5 : op_.param;
  if (quantile && !thresholds && quantile_u16(steps, out, q)) return;
  if (folds()) {
    fold_begin(out, thresholds);
    for (const core::BlockView& v : steps) fold_step(v);
    fold_finish(out);
    return;
  }
  scratch_.reserve(n);
  for (int y = 0; y < out.height; ++y) {
    for (std::size_t k = 0; k < n; ++k) load_step_row(steps[k], y, series_.data() + k * static_cast<std::size_t>(w), w);
    float* o = static_cast<float*>(out.row(y));
    if (quantile && !thresholds) {
      // Medians and percentiles: each pixel's observations gathered straight from the rows.
      for (int x = 0; x < w; ++x) {
        scratch_.clear();
        for (std::size_t k = 0; k < n; ++k) {
          const double v = series_[k * static_cast<std::size_t>(w) + static_cast<std::size_t>(x)];
          if (v == v) scratch_.push_back(v);
        }
        const double r = scratch_quantile(q);
        o[x] = std::isfinite(r) ? static_cast<float>(r) : static_cast<float>(out.nodata);
      }
      continue;
    }
    for (int x = 0; x < w; ++x) {
      for (std::size_t k = 0; k < n; ++k) px[k] = series_[k * static_cast<std::size_t>(w) + static_cast<std::size_t>(x)];
      const double thr = thresholds ? static_cast<double>(thresholds[static_cast<std::ptrdiff_t>(y) * w + x]) : op_.param;
      const double r = reduce(px.data(), thr);
      o[x] = std::isfinite(r) ? static_cast<float>(r) : static_cast<float>(out.nodata);
    }
  }
}

}  // namespace sco::cube
