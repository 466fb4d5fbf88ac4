#include "cube/series_op.hpp"

#include <cmath>
#include <cstdlib>
#include <limits>

#include <fmt/format.h>

#include "core/error.hpp"
#include "cube/reducers.hpp"
#include "cube/trend.hpp"

namespace sco::cube {

using core::ErrorCode;

std::string series_ops_help() {
  return "mean, min, max, sum, median, pNN (percentile, e.g. p90), count (observations),\n"
         "count_above:T, count_below:T (steps above / below T), run_above:T, run_below:T (longest run of\n"
         "consecutive steps above / below T; a missing step breaks a run), sen_slope (Sen's slope per year),\n"
         "mk_z, mk_p (Mann-Kendall Z and two-sided p-value, tie-corrected)";
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
      {"mk_p", SeriesOpKind::kMkP, false},
  };
  for (const auto& e : kTable) {
    if (head == e.name) {
      if (e.needs_arg && arg.empty()) core::fail(ErrorCode::kInvalidInput, "operation '{}' needs a threshold: {}:T", text, e.name);
      if (!e.needs_arg && !arg.empty()) core::fail(ErrorCode::kInvalidInput, "operation '{}' takes no argument", text);
      op.kind = e.kind;
      if (e.needs_arg) op.param = number(arg);
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
             "count_below:T, run_above:T, run_below:T, sen_slope, mk_z, mk_p)",
             text);
}

SeriesEvaluator::SeriesEvaluator(SeriesOp op, std::vector<double> t) : op_(std::move(op)), t_(std::move(t)) {}

namespace {
template <typename T>
void load_row(const core::BlockView& v, int y, double* dst, int n) {
  const T* row = static_cast<const T*>(v.row(y));
  const bool has_nd = v.nodata.has_value() && !std::isnan(*v.nodata);
  const double nd = has_nd ? *v.nodata : 0.0;
  const std::uint8_t* mask = v.mask ? v.mask + static_cast<std::ptrdiff_t>(y) * v.mask_pitch : nullptr;
  for (int x = 0; x < n; ++x) {
    const double raw = static_cast<double>(row[x]);
    const bool missing = raw != raw || (has_nd && raw == nd) || (mask && mask[x] == 0);
    dst[x] = missing ? std::numeric_limits<double>::quiet_NaN() : raw * v.scale + v.offset;
  }
}
}  // namespace

double SeriesEvaluator::reduce(const double* x) {
  const std::size_t n = t_.size();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (series_count(x, n) == 0) return nan;
  const double thr = op_.param;
  switch (op_.kind) {
    case SeriesOpKind::kMean: return series_mean(x, n);
    case SeriesOpKind::kMin: return series_min(x, n);
    case SeriesOpKind::kMax: return series_max(x, n);
    case SeriesOpKind::kSum: return series_sum(x, n);
    case SeriesOpKind::kMedian: return series_percentile(x, n, 0.5, scratch_);
    case SeriesOpKind::kPercentile: return series_percentile(x, n, op_.param, scratch_);
    case SeriesOpKind::kCount: return static_cast<double>(series_count(x, n));
    case SeriesOpKind::kCountAbove: return static_cast<double>(count_where(x, n, [thr](double v) { return v > thr; }));
    case SeriesOpKind::kCountBelow: return static_cast<double>(count_where(x, n, [thr](double v) { return v < thr; }));
    case SeriesOpKind::kRunAbove: return static_cast<double>(longest_run(x, n, [thr](double v) { return v > thr; }));
    case SeriesOpKind::kRunBelow: return static_cast<double>(longest_run(x, n, [thr](double v) { return v < thr; }));
    case SeriesOpKind::kSenSlope: return trend(t_.data(), x, n, scratch_).slope;
    case SeriesOpKind::kMkZ: return trend(t_.data(), x, n, scratch_).z;
    case SeriesOpKind::kMkP: return trend(t_.data(), x, n, scratch_).p;
  }
  return nan;
}

void SeriesEvaluator::evaluate(const std::vector<core::BlockView>& steps, const core::MutableBlockView& out) {
  const std::size_t n = steps.size();
  if (n != t_.size()) core::fail(ErrorCode::kInternal, "{} steps for {} times", n, t_.size());
  if (out.type != core::DataType::kFloat32) core::fail(ErrorCode::kInternal, "cube outputs are float32");
  const int w = out.width;
  series_.resize(n * static_cast<std::size_t>(w));
  std::vector<double> px(n);
  for (int y = 0; y < out.height; ++y) {
    for (std::size_t k = 0; k < n; ++k) {
      double* dst = series_.data() + k * static_cast<std::size_t>(w);
      const core::BlockView& v = steps[k];
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
    float* o = static_cast<float*>(out.row(y));
    for (int x = 0; x < w; ++x) {
      for (std::size_t k = 0; k < n; ++k) px[k] = series_[k * static_cast<std::size_t>(w) + static_cast<std::size_t>(x)];
      const double r = reduce(px.data());
      o[x] = std::isfinite(r) ? static_cast<float>(r) : static_cast<float>(out.nodata);
    }
  }
}

}  // namespace sco::cube
