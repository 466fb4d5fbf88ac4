#include "cube/cube_step.hpp"

#include <cmath>

#include "core/error.hpp"

namespace sco::cube {

namespace {
SeriesOp percentile_op(double q) {
  SeriesOp op;
  op.kind = SeriesOpKind::kPercentile;
  op.param = q;
  op.name = "percentile";
  return op;
}
}  // namespace

CubeStepEvaluator::CubeStepEvaluator(CubeStepSpec spec) : spec_(std::move(spec)), main_(spec_.op, spec_.t_main) {
  if (spec_.spi) main_.set_spi(spec_.seasons, spec_.spi_first_year, spec_.spi_last_year, spec_.min_years);
  else if (!spec_.seasons.year.empty()) main_.set_trend_layout(spec_.seasons, spec_.min_years);
  if (!spec_.labels.empty()) main_.set_labels(spec_.labels);
  if (spec_.form == CubeStepSpec::Form::kThreshold) reference_.emplace(percentile_op(spec_.percentile), spec_.t_reference);
  if (spec_.form == CubeStepSpec::Form::kDifference) reference_.emplace(spec_.op, spec_.t_reference);
}

void CubeStepEvaluator::evaluate(const std::vector<core::BlockView>& steps, const core::MutableBlockView& out) {
  const std::size_t nm = spec_.t_main.size();
  const std::size_t nr = reference_ ? spec_.t_reference.size() : 0;
  if (steps.size() != nm + nr) core::fail(core::ErrorCode::kInternal, "cube step: {} blocks for {} + {} steps", steps.size(), nm, nr);
  main_steps_.assign(steps.begin(), steps.begin() + static_cast<std::ptrdiff_t>(nm));
  if (!reference_) {
    main_.evaluate(main_steps_, out);
    return;
  }
  reference_steps_.assign(steps.begin() + static_cast<std::ptrdiff_t>(nm), steps.end());
  const int w = out.width, h = out.height;
  buffer_.resize(static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
  // The reference result, NaN where it has no value.
  core::MutableBlockView ref{core::DataType::kFloat32, buffer_.data(), w, w, h, std::nan("")};
  reference_->evaluate(reference_steps_, ref);
  if (spec_.form == CubeStepSpec::Form::kThreshold) {
    main_.evaluate(main_steps_, out, buffer_.data());
    return;
  }
  main_.evaluate(main_steps_, out);
  const float nodata = static_cast<float>(out.nodata);
  for (int y = 0; y < h; ++y) {
    float* o = static_cast<float*>(out.row(y));
    const float* r = buffer_.data() + static_cast<std::ptrdiff_t>(y) * w;
    for (int x = 0; x < w; ++x) {
      const bool valid = o[x] != nodata && o[x] == o[x] && r[x] == r[x];
      double d = static_cast<double>(o[x]) - static_cast<double>(r[x]);
      if (spec_.relative) d = r[x] != 0.0f ? 100.0 * d / std::fabs(static_cast<double>(r[x])) : std::nan("");
      o[x] = valid && std::isfinite(d) ? static_cast<float>(d) : nodata;
    }
  }
}

}  // namespace sco::cube
