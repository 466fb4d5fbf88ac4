#include "run/ops/cube_common.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "algebra/block_evaluator.hpp"
#include "algebra/expression.hpp"
#include "algebra/program.hpp"
#include "core/error.hpp"
#include "cube/validity_mask.hpp"
#include "io/block_pipeline.hpp"
#include "run/ops/estimate.hpp"
#include "run/ops/ops.hpp"

namespace sco::run::ops {

using nlohmann::json;

namespace {

// A cube step's worker. Its inputs are the steps' blocks (main, then reference), then as many
// quality blocks when the step has a quality cube, then the static mask when it has one: quality and
// mask become each step's validity mask before the evaluation.
// The inputs of a window: per time step the blocks of the step's cubes (one, or the expression's
// `per_step`), then the quality blocks (one per step), then the static mask.
class CubeWorker : public io::BlockWorker {
 public:
  CubeWorker(const cube::CubeStepSpec& spec, bool quality, std::vector<double> quality_valid, std::uint32_t clear_bits, bool mask,
             std::shared_ptr<const algebra::Program> program, std::size_t per_step)
      : eval_(spec), quality_(quality), quality_valid_(std::move(quality_valid)), clear_bits_(clear_bits), mask_(mask),
        program_(std::move(program)), per_step_(per_step) {
    if (program_) evaluator_.emplace(*program_, algebra::Precision::kFloat32);
  }
  void process(std::span<const core::BlockView> inputs, const core::MutableBlockView& out) override {
    const std::size_t raw = inputs.size() - (mask_ ? 1 : 0);
    const std::size_t n = raw / (per_step_ + (quality_ ? 1 : 0));
    if (program_) {
      computed(inputs, n, out.width, out.height);
    } else {
      blocks_.assign(inputs.begin(), inputs.begin() + static_cast<std::ptrdiff_t>(n));
    }
    if (quality_ || mask_) {
      cube::apply_validity(blocks_, quality_ ? inputs.subspan(n * per_step_, n) : std::span<const core::BlockView>{},
                           mask_ ? &inputs.back() : nullptr, quality_valid_, out.width, out.height, masks_, clear_bits_);
    }
    eval_.evaluate(blocks_, out);
  }

 private:
  // Each step's expression over its cubes' blocks, as float32 blocks (NaN: no value).
  void computed(std::span<const core::BlockView> inputs, std::size_t n, int width, int height) {
    const std::size_t cells = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
    values_.resize(n * cells);
    blocks_.clear();
    for (std::size_t k = 0; k < n; ++k) {
      core::MutableBlockView o{core::DataType::kFloat32, values_.data() + k * cells, width, width, height, std::nan("")};
      evaluator_->evaluate(inputs.subspan(k * per_step_, per_step_), o);
      core::BlockView b;
      b.type = core::DataType::kFloat32;
      b.data = o.data;
      b.pitch = width;
      b.width = width;
      b.height = height;
      blocks_.push_back(b);
    }
  }

  cube::CubeStepEvaluator eval_;
  bool quality_;
  std::vector<double> quality_valid_;
  std::uint32_t clear_bits_ = 0;
  bool mask_;
  std::shared_ptr<const algebra::Program> program_;
  std::optional<algebra::BlockEvaluator> evaluator_;
  std::size_t per_step_ = 1;
  std::vector<float> values_;
  std::vector<core::BlockView> blocks_;
  std::vector<std::uint8_t> masks_;
};

}  // namespace

std::string reducer_names() {
  return "mean, min, max, sum, median, percentile, count, count_above, count_below, run_above, run_below, date_of_max, date_of_min";
}

void bind_reducer(const indicators::StepReader& rd, indicators::Step& s, bool thresholds) {
  const std::string name = rd.text("reducer", false, "mean");
  std::string text = name;
  const bool needs_threshold = name == "count_above" || name == "count_below" || name == "run_above" || name == "run_below";
  if (needs_threshold) {
    if (!thresholds) rd.fail_field("reducer", fmt::format("'{}' is not available in {}", name, s.op));
    if (rd.has("threshold_percentile")) {
      s.threshold_percentile = rd.number("threshold_percentile", true);
      if (*s.threshold_percentile < 0 || *s.threshold_percentile > 100) rd.fail_field("threshold_percentile", "a percentile lies in 0..100");
      if (rd.has("threshold")) rd.fail_field("threshold", "give threshold or threshold_percentile, not both");
      text += ":0";
    } else {
      if (!rd.has("threshold")) rd.fail_field("threshold", fmt::format("reducer '{}' needs a threshold (or threshold_percentile)", name));
      text += fmt::format(":{}", *rd.number("threshold", true));
    }
  } else if (name == "percentile") {
    const double q = *rd.number("percentile", true);
    if (q < 0 || q > 100) rd.fail_field("percentile", "a percentile lies in 0..100");
    text = fmt::format("p{}", q);
  } else if (rd.has("threshold") || rd.has("threshold_percentile")) {
    rd.fail_field(rd.has("threshold") ? "threshold" : "threshold_percentile", fmt::format("reducer '{}' takes no threshold", name));
  }
  static const std::set<std::string> kKnown = {"mean", "min", "max", "sum", "median", "percentile", "count",
                                               "count_above", "count_below", "run_above", "run_below", "date_of_max", "date_of_min"};
  if (!kKnown.count(name)) rd.fail_field("reducer", fmt::format("unknown reducer '{}' (reducers: {})", name, reducer_names()));
  s.reducer = cube::parse_series_op(text);
}

void bind_masks(const indicators::StepReader& rd, const BindScope& scope, indicators::Step& s) {
  s.mask = scope.raster_ref(rd, "mask", false);
  if (rd.has("quality")) {
    const std::string q = rd.text("quality", true);
    const indicators::InputDecl* in = scope.recipe.find_input(q);
    if (!in || in->kind != indicators::InputKind::kCube) rd.fail_field("quality", fmt::format("'{}' is not a cube input of the recipe", q));
    s.quality = q;
  }
  if (rd.has("quality_valid")) {
    if (s.quality.empty()) rd.fail_field("quality_valid", "only used with 'quality'");
    const json v = rd.value("quality_valid");
    if (!v.is_array() || v.empty()) rd.fail_field("quality_valid", "expected an array of values");
    for (const auto& x : v) {
      if (!x.is_number()) rd.fail_field("quality_valid", "expected an array of numbers");
      s.quality_valid.push_back(x.get<double>());
    }
  }
  if (rd.has("quality_clear_bits")) {
    if (s.quality.empty()) rd.fail_field("quality_clear_bits", "only used with 'quality'");
    const json v = rd.value("quality_clear_bits");
    if (!v.is_array() || v.empty()) rd.fail_field("quality_clear_bits", "expected an array of bit numbers (0-31)");
    for (const auto& x : v) {
      if (!x.is_number_integer() || x.get<int>() < 0 || x.get<int>() > 31) rd.fail_field("quality_clear_bits", "bits are whole numbers 0 to 31");
      s.quality_clear_bits |= 1u << x.get<int>();
    }
  }
}

void bind_step_expression(const indicators::StepReader& rd, const BindScope& scope, indicators::Step& s) {
  if (!rd.has("expression")) return;
  const algebra::Expr e = bind_expression(rd, s);
  for (const auto& name : algebra::referenced_inputs(e)) {
    const indicators::InputDecl* in = scope.recipe.find_input(name);
    if (!in) rd.fail_field("expression", fmt::format("'{}' is not an input of the recipe", name));
    if (in->kind != indicators::InputKind::kCube) {
      rd.fail_field("expression", fmt::format("input '{}' is a {}; the expression is evaluated at each time step over cubes", name,
                                              indicators::input_kind_name(in->kind)));
    }
  }
}

std::vector<std::string> step_cubes(const indicators::Step& s) {
  if (s.expression.empty()) return {s.input};
  return algebra::referenced_inputs(algebra::parse_expression(s.expression));
}

void check_step_cubes(const RunContext& ctx, const indicators::Step& s) {
  const ResolvedInput& main = ctx.inputs.at(s.input);
  for (const auto& c : step_cubes(s)) {
    const ResolvedInput& other = ctx.inputs.at(c);
    if (other.steps.size() != main.steps.size() || other.dates != main.dates) {
      core::fail(core::ErrorCode::kInvalidInput, "recipe '{}': step '{}': field 'expression': cube '{}' ({} steps, {}) is not on the steps of "
                 "'{}' ({} steps, {})", ctx.recipe.source, s.id, c, other.steps.size(), other.dates_text(), s.input, main.steps.size(),
                 main.dates_text());
    }
  }
}

double bind_per(const indicators::StepReader& rd) {
  const std::string per = rd.text("per", false, "year");
  if (per == "year") return 1.0;
  if (per == "decade") return 10.0;
  rd.fail_field("per", fmt::format("'{}' is not year or decade", per));
}

void run_cube_step(RunContext& ctx, const indicators::Step& s, cube::CubeStepSpec cs) {
  const ResolvedInput& in = ctx.inputs.at(s.input);
  const Selection& sel = ctx.selections.at(s.id);
  const bool two = cs.form != cube::CubeStepSpec::Form::kReduce;
  cs.op = s.reducer;
  cs.t_main = ctx.years(in, sel.main, s.per);
  if (two) cs.t_reference = ctx.years(in, sel.reference, s.per);
  const cube::SeriesOpKind k = s.reducer.kind;
  const bool trend = k == cube::SeriesOpKind::kSenSlope || k == cube::SeriesOpKind::kMkZ || k == cube::SeriesOpKind::kMkP;
  if (trend && !two) {
    cs.seasons = cube::season_layout(in.dates, sel.main, s.per);
    cs.min_years = s.min_years;
  }
  if (k == cube::SeriesOpKind::kDateOfMax || k == cube::SeriesOpKind::kDateOfMin) cs.labels = cube::step_labels(in.dates, in.calendar, sel.main);
  std::vector<io::PipelineInput> pin;
  auto add = [&pin](const ResolvedInput& cube, const std::vector<std::size_t>& idx) {
    for (std::size_t i : idx) pin.push_back(cube.step_input(i));
  };
  // Per step, each cube the step reads (the expression's, else the input).
  const std::vector<std::string> cubes = step_cubes(s);
  std::shared_ptr<const algebra::Program> program;
  if (!s.expression.empty()) program = std::make_shared<const algebra::Program>(algebra::Program::compile(algebra::parse_expression(s.expression), cubes));
  auto add_steps = [&](const std::vector<std::size_t>& idx) {
    for (std::size_t i : idx) {
      for (const auto& c : cubes) pin.push_back(ctx.inputs.at(c).step_input(i));
    }
  };
  add_steps(sel.main);
  if (two) add_steps(sel.reference);
  const bool has_quality = !s.quality.empty(), has_mask = !s.mask.empty();
  if (has_quality) {
    add(ctx.inputs.at(s.quality), sel.main);
    if (two) add(ctx.inputs.at(s.quality), sel.reference);
  }
  if (has_mask) pin.push_back({ctx.raster_path.at(s.mask), 1});
  auto describe = [&in](const std::vector<std::size_t>& idx) {
    if (in.dates.empty()) return fmt::format("steps {}..{}", idx.front() + 1, idx.back() + 1);
    return in.dates[idx.front()].iso().substr(0, 10) + ".." + in.dates[idx.back()].iso().substr(0, 10);
  };
  io::OutputSpec spec = ctx.raster_spec(s);
  // Many steps: smaller windows, bounded memory (per input its samples, a validity byte, and the
  // expression's float32 value).
  spec.tile = io::series_tile(pin, (has_quality || has_mask ? 1 : 0) + (program ? 4 : 0));
  spec.metadata.emplace_back("SCO_TIME_STEPS", describe(sel.main) + (sel.reference.empty() ? "" : " vs " + describe(sel.reference)));
  if (trend && !two) spec.metadata.emplace_back("SCO_TREND_METHOD", trend_method_of(ctx, s));
  io::run_block_pipeline(
      pin, spec, [&] { return std::make_unique<CubeWorker>(cs, has_quality, s.quality_valid, s.quality_clear_bits, has_mask, program, cubes.size()); },
      ctx.exec.pipeline());
  ctx.raster_path[s.id] = spec.path;
}

StepEstimate cube_estimate(const RunContext& ctx, const indicators::Step& s) {
  const Selection& sel = ctx.selections.at(s.id);
  const std::size_t steps = sel.main.size() + sel.reference.size();
  const std::size_t inputs = steps * (step_cubes(s).size() + (s.quality.empty() ? 0 : 1)) + (s.mask.empty() ? 0 : 1);
  StepEstimate e = pipeline_estimate(ctx, inputs, 4, s.output);
  // The steps' blocks of a window, per thread.
  const std::uint64_t cells = static_cast<std::uint64_t>(ctx.grid.width) * static_cast<std::uint64_t>(ctx.grid.height);
  const int t = io::series_tile(inputs);
  const std::uint64_t window = static_cast<std::uint64_t>(t > 0 ? t : 512) * static_cast<std::uint64_t>(t > 0 ? t : 512);
  e.peak_bytes += static_cast<std::uint64_t>(std::max(1, ctx.exec.threads)) * steps * std::min<std::uint64_t>(cells, window) * 4;
  return e;
}

}  // namespace sco::run::ops

namespace sco::run::ops {

std::vector<OpField> DifferenceOp::fields() const {
  return {{"input", "a cube input"}, {"reducer", "mean (default), min, max, sum, median, percentile, count"}, {"percentile", "for percentile"},
          {n_.main, n_.main_meaning}, {n_.reference, n_.reference_meaning}, {"relative", "true: in percent of the reference"},
          {"mask", "a raster: 0 or nodata pixels left out"}, {"quality", "a cube of QA values per step"}, {"quality_valid", "the QA values that count"},
          {"quality_clear_bits", "or the QA bits that must be 0"}};
}

void DifferenceOp::bind(const indicators::StepReader& rd, const BindScope& scope, indicators::Step& s) const {
  rd.allow({"input", "reducer", "percentile", n_.main, n_.reference, "relative", "mask", "quality", "quality_valid", "quality_clear_bits"});
  s.input = scope.input_of_kind(rd, "input", indicators::InputKind::kCube, s.op);
  bind_reducer(rd, s, false);
  s.period = rd.period(n_.main, n_.main_required);
  s.baseline = rd.period(n_.reference, true);
  s.relative = rd.boolean("relative", false);
  bind_masks(rd, scope, s);
}

void DifferenceOp::prepare(RunContext& ctx, const indicators::Step& s) const {
  ctx.selections[s.id] = {ctx.select(s, s.period, n_.main.c_str()), ctx.select(s, s.baseline, n_.reference.c_str())};
}

void DifferenceOp::execute(RunContext& ctx, const indicators::Step& s) const {
  cube::CubeStepSpec cs;
  cs.form = cube::CubeStepSpec::Form::kDifference;
  cs.relative = s.relative;
  run_cube_step(ctx, s, cs);
}

}  // namespace sco::run::ops
