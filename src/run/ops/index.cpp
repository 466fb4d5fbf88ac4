// index.NAME: a spectral index (NDVI, NDBI, NBR...) of an image input, its bands by sensor layout.
#include <fmt/format.h>

#include "algebra/spectral_index.hpp"
#include "run/join.hpp"
#include "run/context.hpp"
#include "run/ops/estimate.hpp"
#include "run/ops/ops.hpp"

namespace sco::run::ops {

namespace {

class IndexOp final : public StepOp {
 public:
  std::string name() const override { return "index.NAME"; }
  bool matches(std::string_view op) const override { return op.substr(0, 6) == "index."; }
  std::string summary() const override {
    std::vector<std::string> ids;
    for (const auto& idx : algebra::spectral_indices()) ids.push_back(idx.id);
    return "the spectral index NAME of an image (" + join(ids) + "; [indices.md](indices.md))";
  }
  std::vector<OpField> fields() const override {
    return {{"input", "an image input"}, {"sensor", "its band layout (landsat7, sentinel2, ...)"},
            {"scale", "factor to reflectance (default 1)"}, {"offset", "added after scale (default 0)"}};
  }
  bool makes_raster() const override { return true; }

  void bind(const indicators::StepReader& rd, const BindScope& scope, indicators::Step& s) const override {
    rd.allow({"input", "sensor", "scale", "offset"});
    s.index = s.op.substr(6);
    if (!algebra::find_index(s.index)) {
      std::vector<std::string> ids;
      for (const auto& idx : algebra::spectral_indices()) ids.push_back(std::string("index.") + idx.id);
      rd.fail_field("op", fmt::format("unknown index '{}' (indices: {})", s.index, join(ids)));
    }
    s.input = scope.input_of_kind(rd, "input", indicators::InputKind::kImage, s.op);
    s.sensor = rd.text("sensor", true);
    if (!algebra::find_sensor(s.sensor)) {
      std::vector<std::string> ids;
      for (const auto& sn : algebra::sensors()) ids.push_back(sn.id);
      rd.fail_field("sensor", fmt::format("unknown sensor '{}' (sensors: {})", s.sensor, join(ids)));
    }
    s.scale = rd.number("scale", false).value_or(1.0);
    s.offset = rd.number("offset", false).value_or(0.0);
  }

  StepEstimate estimate(const RunContext& ctx, const indicators::Step& s) const override {
    return pipeline_estimate(ctx, algebra::find_index(s.index)->roles.size(), 2, s.output);
  }

  void execute(RunContext& ctx, const indicators::Step& s) const override {
    IndexRequest ir;
    ir.index = s.index;
    ir.input = ctx.inputs.at(s.input).sources[0].prepared;
    ir.sensor = s.sensor;
    ir.scale = s.scale;
    ir.offset = s.offset;
    std::vector<std::string> warnings;  // about digital numbers: the recipe's scale says what it means
    ExpressionJob job = build_index_job(ir, warnings);
    job.output = ctx.raster_spec(s);
    job.record_inputs = false;
    job.extra_metadata.clear();
    run_expression_job(job, ctx.exec);
    ctx.raster_path[s.id] = job.output.path;
  }
};

}  // namespace

const StepOp& index_op() {
  static const IndexOp op;
  return op;
}

}  // namespace sco::run::ops
