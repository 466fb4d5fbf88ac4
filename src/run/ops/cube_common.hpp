#pragma once
// What the cube ops (cube.reduce, cube.trend, cube.anomaly, cube.change) share: the reducer field,
// the mask / quality fields, and running a cube step over its selections through the block pipeline.
#include "cube/cube_step.hpp"
#include "run/context.hpp"
#include "run/step_op.hpp"

namespace sco::run::ops {

// "reducer" (+ "threshold" / "threshold_percentile" / "percentile") into step.reducer.
void bind_reducer(const indicators::StepReader& rd, indicators::Step& s, bool thresholds);
// "mask" (a raster) and "quality" / "quality_valid" (a cube of the same steps), for every cube op.
void bind_masks(const indicators::StepReader& rd, const BindScope& scope, indicators::Step& s);
// "per": "year" or "decade".
double bind_per(const indicators::StepReader& rd);
// "expression": band math evaluated at each time step over cube inputs of the same steps (e.g. an
// index from a red and a NIR cube), whose result is what the step reduces; "" when absent.
void bind_step_expression(const indicators::StepReader& rd, const BindScope& scope, indicators::Step& s);
// The cube inputs a step reads at each time step: the expression's, else its input.
std::vector<std::string> step_cubes(const indicators::Step& s);
// Checks that the expression's cubes have the step input's dates.
void check_step_cubes(const RunContext& ctx, const indicators::Step& s);
std::string reducer_names();

// The cube step `s` in the form `spec` (its times filled here) over the step's selections.
void run_cube_step(RunContext& ctx, const indicators::Step& s, cube::CubeStepSpec spec);
// Several cube steps sharing their selections, quality cube, mask and form, in as few passes (one file
// each) as keep each pass's windows as large as its first step's alone: the quality is read, and its
// validity computed, once per pass.
void run_cube_group(RunContext& ctx, std::span<const indicators::Step> steps, const std::vector<cube::CubeStepSpec>& specs);
// What step `s` reads and holds; `with_shared` false for a step after the first of a pass, whose
// quality cube and mask the first step's estimate counts.
StepEstimate cube_estimate(const RunContext& ctx, const indicators::Step& s, bool with_shared = true);

}  // namespace sco::run::ops

namespace sco::run::ops {
// The selection of a trend (cube.trend, zonal.trend): at least 3 steps; a warning without dates; a
// warning when the period holds fewer years than the step's min_years (no trend will be reported).
void prepare_trend(RunContext& ctx, const indicators::Step& s);
// "min_years" (default 10): the fewest distinct years with data a trend is reported from.
int bind_min_years(const indicators::StepReader& rd);
// The trend method of a step's selection, or "record too short (N years < MIN)".
std::string trend_method_of(const RunContext& ctx, const indicators::Step& s);
}  // namespace sco::run::ops

namespace sco::run::ops {
// cube.anomaly and cube.change: the reduction over a main period minus (or in percent of) the one over
// a reference period; they differ in their fields' names and whether the main period is required.
class DifferenceOp final : public StepOp {
 public:
  struct Names {
    std::string op, summary, main, reference;
    bool main_required;
    std::string main_meaning, reference_meaning;
  };
  explicit DifferenceOp(Names names) : n_(std::move(names)) {}
  std::string name() const override { return n_.op; }
  std::string summary() const override { return n_.summary; }
  std::vector<OpField> fields() const override;
  bool makes_raster() const override { return true; }
  void bind(const indicators::StepReader& rd, const BindScope& scope, indicators::Step& s) const override;
  void prepare(RunContext& ctx, const indicators::Step& s) const override;
  StepEstimate estimate(const RunContext& ctx, const indicators::Step& s) const override { return cube_estimate(ctx, s); }
  void execute(RunContext& ctx, const indicators::Step& s) const override;

 private:
  Names n_;
};
}  // namespace sco::run::ops
