#pragma once
// One cube step of a recipe, evaluated block by block over two selections of time steps: the main
// selection (the period) and a reference selection (the baseline). Three forms:
//   reduce      op(main)                        e.g. months above 25 C in the period
//   threshold   op(main) with each pixel's threshold = its percentile over the reference steps
//               e.g. months wetter than the pixel's own 90th percentile of the baseline
//   difference  op(main) - op(reference), or 100 (op(main) - op(reference)) / |op(reference)|
//               e.g. the anomaly of the period's mean against the baseline mean
#include <optional>
#include <vector>

#include "core/block.hpp"
#include "cube/series_op.hpp"

namespace sco::cube {

struct CubeStepSpec {
  enum class Form { kReduce, kThreshold, kDifference };
  Form form = Form::kReduce;
  SeriesOp op;
  std::vector<double> t_main;       // times of the main steps (in the slope's unit)
  std::vector<double> t_reference;  // times of the reference steps (empty for kReduce)
  double percentile = 0.9;          // kThreshold, in [0, 1]
  bool relative = false;            // kDifference in percent
  SeasonLayout seasons;             // trends: the main steps' seasons and years (empty: plain, no minimum)
  int min_years = 0;                // trends: fewer distinct years with data: nodata
  bool spi = false;                 // spi:K: `seasons` holds the months; fitted over these years
  int spi_first_year = -1000000, spi_last_year = 1000000;
  std::vector<double> labels;       // date_of_max / date_of_min: the main steps' days of the year
};

class CubeStepEvaluator {
 public:
  explicit CubeStepEvaluator(CubeStepSpec spec);
  // `steps`: the main steps' blocks, then the reference steps'. `out` is float32.
  void evaluate(const std::vector<core::BlockView>& steps, const core::MutableBlockView& out);

 private:
  CubeStepSpec spec_;
  SeriesEvaluator main_;
  std::optional<SeriesEvaluator> reference_;
  std::vector<core::BlockView> main_steps_, reference_steps_;
  std::vector<float> buffer_;
};

}  // namespace sco::cube
