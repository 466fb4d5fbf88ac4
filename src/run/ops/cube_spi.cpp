// cube.spi: the Standardized Precipitation Index per pixel of a monthly precipitation cube, at the
// last month of the step's period, over 1 to 48 months, fitted per calendar month over a reference
// period (cube/spi.hpp).
#include <cmath>

#include <fmt/format.h>

#include "core/error.hpp"
#include "cube/spi.hpp"
#include "cube/trend.hpp"
#include "run/ops/cube_common.hpp"
#include "run/ops/ops.hpp"

namespace sco::run::ops {

namespace {

class CubeSpiOp final : public StepOp {
 public:
  std::string name() const override { return "cube.spi"; }
  std::string summary() const override {
    return "the Standardized Precipitation Index per pixel at the period's last month: precipitation over `scale` months on a "
           "gamma distribution (zeros mixed in) fitted to the same calendar month of the reference years; an error when the "
           "series holds fewer than min_years of them, nodata where a pixel does";
  }
  std::vector<OpField> fields() const override {
    return {{"input", "a cube input of monthly precipitation"}, {"scale", "months accumulated: 1, 3 (default), 6, 12, ... up to 48"},
            {"period", "[START, END]: the steps used; the SPI is that of END's month (default: all steps)"},
            {"reference", "[START, END]: the years the distribution is fitted over (default: all years of the period)"},
            {"min_years", "the fewest reference years with data (default 10)"},
            {"mask", "a raster: 0 or nodata pixels left out"}};
  }
  bool makes_raster() const override { return true; }

  void bind(const indicators::StepReader& rd, const BindScope& scope, indicators::Step& s) const override {
    rd.allow({"input", "scale", "period", "reference", "min_years", "mask"});
    s.input = scope.input_of_kind(rd, "input", indicators::InputKind::kCube, s.op);
    const double scale = rd.number("scale", false).value_or(3.0);
    if (!(scale >= 1 && scale <= 48 && scale == std::floor(scale))) rd.fail_field("scale", "a whole number of months, 1 to 48");
    s.reducer = cube::parse_series_op(fmt::format("spi:{}", static_cast<int>(scale)));
    s.period = rd.period("period", false);
    s.baseline = rd.period("reference", false);
    s.min_years = bind_min_years(rd);
    bind_masks(rd, scope, s);
  }

  void prepare(RunContext& ctx, const indicators::Step& s) const override {
    const ResolvedInput& in = ctx.inputs.at(s.input);
    if (in.dates.empty()) {
      core::fail(core::ErrorCode::kInvalidInput, "recipe '{}': step '{}': input '{}' has no dates; the SPI needs monthly steps",
                 ctx.recipe.source, s.id, s.input);
    }
    ctx.selections[s.id] = {ctx.select(s, s.period, "period"), {}};
    const auto& main = ctx.selections[s.id].main;
    if (main.empty()) core::fail(core::ErrorCode::kInvalidInput, "recipe '{}': step '{}': the period selects no step", ctx.recipe.source, s.id);
    const cube::DateTime& last = in.dates[main.back()];
    const int scale = static_cast<int>(s.reducer.param);
    if (static_cast<int>(main.size()) < scale) {
      core::fail(core::ErrorCode::kInvalidInput, "recipe '{}': step '{}': input '{}' has {} monthly step(s) ({}), fewer than the SPI's scale of {} months",
                 ctx.recipe.source, s.id, s.input, main.size(), in.dates_text(), scale);
    }
    int years = 0;
    for (std::size_t i : main) {
      const cube::DateTime& d = in.dates[i];
      if (d.month == last.month && (!s.baseline.given || s.baseline.contains(d))) ++years;
    }
    if (years < s.min_years) {
      core::fail(core::ErrorCode::kInvalidInput, "recipe '{}': step '{}': input '{}' ({}): {} to fit the SPI of month {:02d} (min_years; the WMO "
                 "recommends 30)", ctx.recipe.source, s.id, s.input, in.dates_text(), cube::record_too_short(years, s.min_years), last.month);
    }
  }
  StepEstimate estimate(const RunContext& ctx, const indicators::Step& s) const override { return cube_estimate(ctx, s); }
  void execute(RunContext& ctx, const indicators::Step& s) const override {
    cube::CubeStepSpec cs;
    cs.spi = true;
    cs.seasons = cube::month_layout(ctx.inputs.at(s.input).dates, ctx.selections.at(s.id).main);
    cs.min_years = s.min_years;
    if (s.baseline.given) {
      cs.spi_first_year = static_cast<int>(s.baseline.first / 10000);
      cs.spi_last_year = static_cast<int>(s.baseline.last / 10000);
    }
    run_cube_step(ctx, s, cs);
  }
};

}  // namespace

const StepOp& cube_spi_op() {
  static const CubeSpiOp op;
  return op;
}

}  // namespace sco::run::ops
