// raster.calc: band math over raster inputs and earlier raster steps, by name.
#include <fmt/format.h>

#include "algebra/expression.hpp"
#include "core/error.hpp"
#include "run/context.hpp"
#include "run/ops/estimate.hpp"
#include "run/ops/ops.hpp"

namespace sco::run::ops {

namespace {

class RasterCalcOp final : public StepOp {
 public:
  std::string name() const override { return "raster.calc"; }
  std::string summary() const override { return "band math over raster inputs and earlier raster steps ([band-math.md](band-math.md))"; }
  std::vector<OpField> fields() const override { return {{"expression", "the formula; names are inputs and earlier steps"}}; }
  bool makes_raster() const override { return true; }

  void bind(const indicators::StepReader& rd, const BindScope& scope, indicators::Step& s) const override {
    rd.allow({"expression"});
    const algebra::Expr e = bind_expression(rd, s);
    for (const auto& name : algebra::referenced_inputs(e)) {
      const indicators::InputDecl* in = scope.recipe.find_input(name);
      const indicators::Step* st = scope.find_step(name);
      if (in && in->kind != indicators::InputKind::kRaster) {
        rd.fail_field("expression", fmt::format("input '{}' is a {}, not a raster", name, indicators::input_kind_name(in->kind)));
      }
      if (st && !st->makes_raster()) rd.fail_field("expression", fmt::format("step '{}' makes a table, not a raster", name));
      if (!in && !st) rd.fail_field("expression", fmt::format("'{}' is neither an input nor an earlier step", name));
    }
  }

  StepEstimate estimate(const RunContext& ctx, const indicators::Step& s) const override {
    return pipeline_estimate(ctx, algebra::referenced_inputs(algebra::parse_expression(s.expression)).size(), 4, s.output);
  }

  void execute(RunContext& ctx, const indicators::Step& s) const override {
    ExpressionJob job;
    for (const auto& [name, path] : ctx.raster_path) job.inputs.emplace_back(name, io::PipelineInput{path, 1});
    job.expression = s.expression;
    job.output = ctx.raster_spec(s);
    job.record_inputs = false;
    job.output.metadata.emplace_back("SCO_EXPRESSION", s.expression);
    run_expression_job(job, ctx.exec);
    ctx.raster_path[s.id] = job.output.path;
  }
};

}  // namespace

algebra::Expr bind_expression(const indicators::StepReader& rd, indicators::Step& s) {
  s.expression = rd.text("expression", true);
  try {
    return algebra::parse_expression(s.expression);
  } catch (const core::Error& err) {
    rd.fail_field("expression", err.what());
  }
  return {};
}

const StepOp& raster_calc_op() {
  static const RasterCalcOp op;
  return op;
}

}  // namespace sco::run::ops
