// cube.reduce: one value per pixel over a period of a cube (mean, sum, count above a threshold or above
// each pixel's own percentile of a baseline, longest run...).
#include "run/ops/cube_common.hpp"
#include "run/ops/ops.hpp"

namespace sco::run::ops {

namespace {

class CubeReduceOp final : public StepOp {
 public:
  std::string name() const override { return "cube.reduce"; }
  std::string summary() const override { return "one value per pixel over a period: mean, sum, counts and runs above thresholds"; }
  std::vector<OpField> fields() const override {
    return {{"input", "a cube input"}, {"reducer", reducer_names()}, {"threshold", "for count_* and run_*"},
            {"threshold_percentile", "or each pixel's own percentile of the baseline"}, {"percentile", "for percentile"},
            {"period", "[START, END] (default: all steps)"}, {"baseline", "[START, END] of threshold_percentile"},
            {"expression", "band math over cube inputs of the input's steps, evaluated at each step and then reduced (e.g. "
                           "(nir - red) / (nir + red))"},
            {"mask", "a raster: 0 or nodata pixels left out"}, {"quality", "a cube of QA values per step"},
            {"quality_valid", "the QA values that count (default: non-zero)"},
            {"quality_clear_bits", "or the QA bits that must be 0 (Landsat QA_PIXEL: [0, 1, 2, 3, 4, 5])"}};
  }
  bool makes_raster() const override { return true; }

  void bind(const indicators::StepReader& rd, const BindScope& scope, indicators::Step& s) const override {
    rd.allow({"input", "reducer", "threshold", "threshold_percentile", "percentile", "period", "baseline", "expression", "mask", "quality",
              "quality_valid", "quality_clear_bits"});
    s.input = scope.input_of_kind(rd, "input", indicators::InputKind::kCube, s.op);
    bind_step_expression(rd, scope, s);
    bind_reducer(rd, s, true);
    s.period = rd.period("period", false);
    s.baseline = rd.period("baseline", false);
    if (s.baseline.given && !s.threshold_percentile) rd.fail_field("baseline", "only used with threshold_percentile");
    bind_masks(rd, scope, s);
  }

  void prepare(RunContext& ctx, const indicators::Step& s) const override {
    check_step_cubes(ctx, s);
    ctx.selections[s.id] = {ctx.select(s, s.period, "period"),
                            s.threshold_percentile ? ctx.select(s, s.baseline, "baseline") : std::vector<std::size_t>{}};
  }
  StepEstimate estimate(const RunContext& ctx, const indicators::Step& s) const override { return cube_estimate(ctx, s); }
  // In a pass of several, the shared quality cube and mask are read once: counted with the first step.
  StepEstimate estimate_in_group(const RunContext& ctx, std::span<const indicators::Step> group, std::size_t k) const override {
    return cube_estimate(ctx, group[k], k == 0);
  }

  void execute(RunContext& ctx, const indicators::Step& s) const override { run_cube_step(ctx, s, spec_of(s)); }

  // Reductions over the same time steps with the same quality cube and mask (e.g. the medians of four
  // bands masked by one SCL) run in one pass: the quality is read, and its validity computed, once.
  bool runs_with(const RunContext& ctx, const indicators::Step& a, const indicators::Step& b) const override {
    if (a.threshold_percentile || b.threshold_percentile || a.output != b.output) return false;
    if (a.quality != b.quality || a.quality_valid != b.quality_valid || a.quality_clear_bits != b.quality_clear_bits || a.mask != b.mask) return false;
    const Selection& sa = ctx.selections.at(a.id);
    const Selection& sb = ctx.selections.at(b.id);
    const ResolvedInput& ia = ctx.inputs.at(a.input);
    const ResolvedInput& ib = ctx.inputs.at(b.input);
    return sa.main == sb.main && sa.reference.empty() && sb.reference.empty() && ia.steps.size() == ib.steps.size() && ia.dates == ib.dates;
  }
  void execute_group(RunContext& ctx, std::span<const indicators::Step> steps) const override {
    std::vector<cube::CubeStepSpec> specs;
    for (const auto& s : steps) specs.push_back(spec_of(s));
    run_cube_group(ctx, steps, specs);
  }

 private:
  static cube::CubeStepSpec spec_of(const indicators::Step& s) {
    cube::CubeStepSpec cs;
    if (s.threshold_percentile) {
      cs.form = cube::CubeStepSpec::Form::kThreshold;
      cs.percentile = *s.threshold_percentile / 100.0;
    }
    return cs;
  }
};

}  // namespace

const StepOp& cube_reduce_op() {
  static const CubeReduceOp op;
  return op;
}

}  // namespace sco::run::ops
