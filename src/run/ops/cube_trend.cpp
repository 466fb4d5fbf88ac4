// cube.trend: Sen's slope, Mann-Kendall Z or p per pixel over a period of a cube, per year or decade
// of the cube's own calendar.
#include <fmt/format.h>

#include "core/error.hpp"
#include "run/ops/cube_common.hpp"
#include "run/ops/ops.hpp"

namespace sco::run::ops {

namespace {

class CubeTrendOp final : public StepOp {
 public:
  std::string name() const override { return "cube.trend"; }
  std::string summary() const override { return "Sen's slope, Mann-Kendall Z or p per pixel over a period (at least 3 steps)"; }
  std::vector<OpField> fields() const override {
    return {{"input", "a cube input"}, {"statistic", "sen_slope (default), mk_z, mk_p"}, {"per", "year (default) or decade"},
            {"period", "[START, END] (default: all steps)"}, {"mask", "a raster: 0 or nodata pixels left out"},
            {"quality", "a cube of QA values per step"}, {"quality_valid", "the QA values that count"}};
  }
  bool makes_raster() const override { return true; }

  void bind(const indicators::StepReader& rd, const BindScope& scope, indicators::Step& s) const override {
    rd.allow({"input", "statistic", "per", "period", "mask", "quality", "quality_valid"});
    s.input = scope.input_of_kind(rd, "input", indicators::InputKind::kCube, s.op);
    const std::string stat = rd.text("statistic", false, "sen_slope");
    if (stat != "sen_slope" && stat != "mk_z" && stat != "mk_p") rd.fail_field("statistic", fmt::format("'{}' is not sen_slope, mk_z or mk_p", stat));
    s.reducer = cube::parse_series_op(stat);
    s.per = bind_per(rd);
    s.period = rd.period("period", false);
    bind_masks(rd, scope, s);
  }

  void prepare(RunContext& ctx, const indicators::Step& s) const override { prepare_trend(ctx, s); }
  StepEstimate estimate(const RunContext& ctx, const indicators::Step& s) const override { return cube_estimate(ctx, s); }
  void execute(RunContext& ctx, const indicators::Step& s) const override { run_cube_step(ctx, s, {}); }
};

}  // namespace

// A trend's period: at least 3 steps; without dates, a warning that it is per step.
void prepare_trend(RunContext& ctx, const indicators::Step& s) {
  ctx.selections[s.id] = {ctx.select(s, s.period, "period"), {}};
  if (ctx.selections[s.id].main.size() < 3) {
    core::fail(core::ErrorCode::kInvalidInput, "recipe '{}': step '{}': a trend needs at least 3 time steps, the period has {}",
               ctx.recipe.source, s.id, ctx.selections[s.id].main.size());
  }
  if (ctx.inputs.at(s.input).dates.empty()) {
    ctx.warn(fmt::format("step '{}': input '{}' has no dates; the trend is per step, not per {}", s.id, s.input, s.per == 10.0 ? "decade" : "year"));
  }
}

const StepOp& cube_trend_op() {
  static const CubeTrendOp op;
  return op;
}

}  // namespace sco::run::ops
