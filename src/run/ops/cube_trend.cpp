// cube.trend: Sen's slope, Mann-Kendall Z or p per pixel over a period of a cube, per year or decade
// of the cube's own calendar; seasonal (Hirsch, Slack & Smith 1982) for sub-annual series.
#include <cmath>

#include <fmt/format.h>

#include "core/error.hpp"
#include "cube/trend.hpp"
#include "run/ops/cube_common.hpp"
#include "run/ops/ops.hpp"

namespace sco::run::ops {

namespace {

class CubeTrendOp final : public StepOp {
 public:
  std::string name() const override { return "cube.trend"; }
  std::string summary() const override {
    return "Sen's slope, Mann-Kendall Z or p per pixel over a period; seasonal (Seasonal Kendall test, seasonal Sen slope) "
           "when the series has several steps a year; nodata where fewer than min_years years hold data";
  }
  std::vector<OpField> fields() const override {
    return {{"input", "a cube input"}, {"statistic", "sen_slope (default), mk_z, mk_p"}, {"per", "year (default) or decade"},
            {"period", "[START, END] (default: all steps)"},
            {"min_years", "the fewest distinct years with data a trend is reported from (default 10)"},
            {"mask", "a raster: 0 or nodata pixels left out"},
            {"quality", "a cube of QA values per step"}, {"quality_valid", "the QA values that count"},
          {"quality_clear_bits", "or the QA bits that must be 0"}};
  }
  bool makes_raster() const override { return true; }

  void bind(const indicators::StepReader& rd, const BindScope& scope, indicators::Step& s) const override {
    rd.allow({"input", "statistic", "per", "period", "min_years", "mask", "quality", "quality_valid", "quality_clear_bits"});
    s.input = scope.input_of_kind(rd, "input", indicators::InputKind::kCube, s.op);
    const std::string stat = rd.text("statistic", false, "sen_slope");
    if (stat != "sen_slope" && stat != "mk_z" && stat != "mk_p") rd.fail_field("statistic", fmt::format("'{}' is not sen_slope, mk_z or mk_p", stat));
    s.reducer = cube::parse_series_op(stat);
    s.per = bind_per(rd);
    s.period = rd.period("period", false);
    s.min_years = bind_min_years(rd);
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
  const std::string method = trend_method_of(ctx, s);
  if (method.rfind("record too short", 0) == 0) {
    ctx.warn(fmt::format("step '{}': {}: no trend is reported (a trend needs at least {} years of data; set min_years to change it)",
                         s.id, method, s.min_years));
  }
}

int bind_min_years(const indicators::StepReader& rd) {
  const double v = rd.number("min_years", false).value_or(10.0);
  if (!(v >= 2 && v == std::floor(v) && v <= 10000)) rd.fail_field("min_years", "a whole number of years, at least 2");
  return static_cast<int>(v);
}

std::string trend_method_of(const RunContext& ctx, const indicators::Step& s) {
  const ResolvedInput& in = ctx.inputs.at(s.input);
  const cube::SeasonLayout layout = cube::season_layout(in.dates, ctx.selections.at(s.id).main);
  return cube::trend_method(layout, cube::years_observed(nullptr, layout), s.min_years);
}

const StepOp& cube_trend_op() {
  static const CubeTrendOp op;
  return op;
}

}  // namespace sco::run::ops
