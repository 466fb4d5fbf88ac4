#pragma once
// Per-pixel operations over a time series of rasters on one grid (a data cube), evaluated block by
// block: every pixel's series is gathered from the time steps' blocks, reduced, and written.
// Missing observations (nodata, NaN, masked) are skipped; a pixel without observation is nodata.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/block.hpp"
#include "cube/cf_time.hpp"
#include "cube/trend.hpp"

namespace sco::cube {

enum class SeriesOpKind {
  kMean, kMin, kMax, kSum, kMedian, kPercentile, kCount,
  kCountAbove, kCountBelow, kRunAbove, kRunBelow,
  kSenSlope, kMkZ, kMkP, kSpi,
  kDateOfMax, kDateOfMin,
  kSd, kVariance, kFirst, kLast, kProduct,
};

struct SeriesOp {
  SeriesOpKind kind = SeriesOpKind::kMean;
  double param = 0.0;  // percentile in [0, 1], or the threshold
  std::string name;    // as given, for metadata
};

// "mean", "min", "max", "sum", "median", "p90", "count", "count_above:30", "count_below:0",
// "run_above:30", "run_below:1", "sd", "variance" (sample, n - 1), "first", "last" (the first / last observed step), "product", "sen_slope", "mk_z", "mk_p", "spi:3" (SPI of the last step over
// 3 months, cube/spi.hpp), "date_of_max", "date_of_min" (the label of the step holding the extreme,
// the earliest on ties: its day of the year, or its number without dates). Throws naming the text.
SeriesOp parse_series_op(std::string_view text);
std::string series_ops_help();

// The day of the year (1 = 1 January, in the calendar) of each selected step; without dates the step
// numbers 1, 2, ...: what date_of_max and date_of_min report.
std::vector<double> step_labels(const std::vector<DateTime>& dates, Calendar calendar, const std::vector<std::size_t>& steps);

// Evaluates `op` for every pixel of a block. `steps[k]` is the block of time step k, `t[k]` its time
// (in the unit the slope is wanted per, e.g. years). Output is written as float32 NaN for nodata.
class SeriesEvaluator {
 public:
  SeriesEvaluator(SeriesOp op, std::vector<double> t);
  // `thresholds`, when given, holds one threshold per pixel of `out` (row-major, pitch out.width):
  // count_above/below and run_above/below then compare each pixel with its own threshold (a NaN
  // threshold gives nodata).
  void evaluate(const std::vector<core::BlockView>& steps, const core::MutableBlockView& out,
                const float* thresholds = nullptr);
  // For sen_slope, mk_z and mk_p: the steps' seasons (several a year: the Seasonal Kendall test and
  // seasonal slope) and the fewest distinct years a pixel needs (fewer: nodata, "record too short").
  void set_trend_layout(SeasonLayout layout, int min_years);
  // For spi:K: the steps' calendar months and years (month_layout), the years [first, last] the
  // distribution is fitted over, and the fewest accumulations of the output's month it needs.
  void set_spi(SeasonLayout months, int first_year, int last_year, int min_years);
  // For date_of_max / date_of_min: each step's label (step_labels); default the step numbers.
  void set_labels(std::vector<double> labels) { labels_ = std::move(labels); }
  // Reducers that need no order within a pixel's series (mean, sum, min, max, count, count_above /
  // count_below with a fixed threshold) fold the steps in one at a time: fold_begin, fold_step for
  // every step in order, fold_finish. Same values as evaluate (`thresholds` as there).
  bool folds() const;
  void fold_begin(const core::MutableBlockView& out, const float* thresholds = nullptr);
  void fold_step(const core::BlockView& step);
  void fold_finish(const core::MutableBlockView& out);

 private:
  double reduce(const double* x, double threshold);
  void start_accumulators(std::size_t cells);
  void accumulate_row(const double* x, int width, double* a, double* b, const float* thresholds) const;
  void finish_row(int width, const double* a, const double* b, float* out, float nodata, const float* thresholds) const;
  double percentile(const double* x, double q);
  double scratch_quantile(double q);
  bool quantile_u16(const std::vector<core::BlockView>& steps, const core::MutableBlockView& out, double q);
  bool quantile_u16_select(const std::vector<core::BlockView>& steps, const core::MutableBlockView& out, double q);
  static void gather_u16_row(const core::BlockView& v, int y, int w, std::uint16_t* dst, std::uint16_t* counts);
  double sen_slope(const double* x);
  SeriesOp op_;
  std::vector<double> t_;
  double spi(const double* x);
  SeasonLayout seasons_;
  int min_years_ = 0;
  int ref_first_ = 0, ref_last_ = 0;
  std::vector<double> labels_;
  std::vector<double> inv_dt_;   // 1 / (t_j - t_i) for i < j, in pair order (0 when t_j == t_i)
  std::vector<double> series_;   // steps x pixels of one row, step-major
  const float* thresholds_ = nullptr;  // of the block being folded
  std::vector<double> scratch_;
  std::vector<std::uint16_t> u16_;
  std::vector<std::uint16_t> columns_, counts_;  // quantile_u16: the steps' rows, sorted per column
  std::vector<double> acc_a_, acc_b_;
  std::vector<float> slopes_;
  std::vector<std::uint32_t> keys_;
};

}  // namespace sco::cube
