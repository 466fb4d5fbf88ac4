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

// One output of a cube pass: its step evaluator, and the expression over its cubes at each time step
// (null: the input's values as they are).
struct CubePart {
  cube::CubeStepSpec spec;
  std::shared_ptr<const algebra::Program> program;
  std::size_t per_step = 1;  // blocks of each time step: the expression's cubes, else 1
};

// A cube pass's worker: one output plane per part. Its inputs per window: each part's blocks (per time
// step, its cubes), then one quality block per time step when there is a quality cube, then the
// static mask when there is one. Quality and mask become one validity mask per time step, computed
// once and shared by every part (combined with a step's own mask where it has one).
class CubeWorker : public io::BlockWorker {
 public:
  CubeWorker(const std::vector<CubePart>& parts, bool quality, std::vector<double> quality_valid, std::uint32_t clear_bits, bool mask)
      : parts_(parts), quality_(quality), quality_valid_(std::move(quality_valid)), clear_bits_(clear_bits), mask_(mask) {
    for (const auto& p : parts_) {
      evals_.push_back(std::make_unique<cube::CubeStepEvaluator>(p.spec));
      evaluators_.push_back(p.program ? std::make_unique<algebra::BlockEvaluator>(*p.program, algebra::Precision::kFloat32) : nullptr);
    }
  }
  void process(std::span<const core::BlockView> inputs, const core::MutableBlockView& out) override {
    std::size_t per_step = 0;
    for (const auto& p : parts_) per_step += p.per_step;
    const std::size_t raw = inputs.size() - (mask_ ? 1 : 0);
    const std::size_t n = raw / (per_step + (quality_ ? 1 : 0));
    const bool validity = quality_ || mask_;
    if (validity) {
      cube::shared_validity(quality_ ? inputs.subspan(n * per_step, n) : std::span<const core::BlockView>{}, mask_ ? &inputs.back() : nullptr,
                            n, quality_valid_, out.width, out.height, shared_, clear_bits_);
    }
    std::size_t first = 0;
    for (std::size_t k = 0; k < parts_.size(); ++k) {
      const std::span<const core::BlockView> own = inputs.subspan(first, n * parts_[k].per_step);
      first += own.size();
      if (parts_[k].program) computed(k, own, n, out.width, out.height);
      else blocks_.assign(own.begin(), own.end());
      if (validity) cube::attach_validity(blocks_, shared_.data(), out.width, out.height, masks_);
      evals_[k]->evaluate(blocks_, out.plane(static_cast<int>(k)));
    }
  }

 private:
  // Part k's expression at each time step over its cubes' blocks, as float32 blocks (NaN: no value).
  void computed(std::size_t k, std::span<const core::BlockView> inputs, std::size_t n, int width, int height) {
    const std::size_t cells = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
    const std::size_t per_step = parts_[k].per_step;
    values_.resize(n * cells);
    blocks_.clear();
    for (std::size_t t = 0; t < n; ++t) {
      core::MutableBlockView o{core::DataType::kFloat32, values_.data() + t * cells, width, width, height, std::nan("")};
      evaluators_[k]->evaluate(inputs.subspan(t * per_step, per_step), o);
      core::BlockView b;
      b.type = core::DataType::kFloat32;
      b.data = o.data;
      b.pitch = width;
      b.width = width;
      b.height = height;
      blocks_.push_back(b);
    }
  }

  std::vector<CubePart> parts_;
  std::vector<std::unique_ptr<cube::CubeStepEvaluator>> evals_;
  std::vector<std::unique_ptr<algebra::BlockEvaluator>> evaluators_;
  bool quality_;
  std::vector<double> quality_valid_;
  std::uint32_t clear_bits_ = 0;
  bool mask_;
  std::vector<float> values_;
  std::vector<core::BlockView> blocks_;
  std::vector<std::uint8_t> shared_, masks_;
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

namespace {
// Step `s`'s spec (its times, seasons, labels filled) and expression.
CubePart cube_part(const RunContext& ctx, const indicators::Step& s, cube::CubeStepSpec cs) {
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
  CubePart part{std::move(cs), nullptr, 1};
  const std::vector<std::string> cubes = step_cubes(s);
  part.per_step = cubes.size();
  if (!s.expression.empty()) part.program = std::make_shared<const algebra::Program>(algebra::Program::compile(algebra::parse_expression(s.expression), cubes));
  return part;
}

// The raster of step `s`: its path, tiling, and what the file says of the time steps.
io::OutputSpec cube_output(const RunContext& ctx, const indicators::Step& s, bool two) {
  const ResolvedInput& in = ctx.inputs.at(s.input);
  const Selection& sel = ctx.selections.at(s.id);
  auto describe = [&in](const std::vector<std::size_t>& idx) {
    if (in.dates.empty()) return fmt::format("steps {}..{}", idx.front() + 1, idx.back() + 1);
    return in.dates[idx.front()].iso().substr(0, 10) + ".." + in.dates[idx.back()].iso().substr(0, 10);
  };
  io::OutputSpec spec = ctx.raster_spec(s);
  spec.metadata.emplace_back("SCO_TIME_STEPS", describe(sel.main) + (sel.reference.empty() ? "" : " vs " + describe(sel.reference)));
  const cube::SeriesOpKind k = s.reducer.kind;
  const bool trend = k == cube::SeriesOpKind::kSenSlope || k == cube::SeriesOpKind::kMkZ || k == cube::SeriesOpKind::kMkP;
  if (trend && !two) spec.metadata.emplace_back("SCO_TREND_METHOD", trend_method_of(ctx, s));
  return spec;
}

// What step `s` reads at each of its time steps (main, then reference): each cube of the expression, else the input.
void add_step_inputs(const RunContext& ctx, const indicators::Step& s, std::vector<io::PipelineInput>& pin) {
  const Selection& sel = ctx.selections.at(s.id);
  const std::vector<std::string> cubes = step_cubes(s);
  for (const auto* idx : {&sel.main, &sel.reference}) {
    for (std::size_t i : *idx) {
      for (const auto& c : cubes) pin.push_back(ctx.inputs.at(c).step_input(i));
    }
  }
}

// What the steps of a pass share: the quality cube at each time step, then the static mask.
void add_shared_inputs(const RunContext& ctx, const indicators::Step& s, std::vector<io::PipelineInput>& pin) {
  const Selection& sel = ctx.selections.at(s.id);
  if (!s.quality.empty()) {
    for (const auto* idx : {&sel.main, &sel.reference}) {
      for (std::size_t i : *idx) pin.push_back(ctx.inputs.at(s.quality).step_input(i));
    }
  }
  if (!s.mask.empty()) pin.push_back({ctx.raster_path.at(s.mask), 1});
}

// Per pixel of each input: a validity byte with a quality cube or mask, the expression's float32 value.
std::size_t worker_bytes(const indicators::Step& s) { return (!s.quality.empty() || !s.mask.empty() ? 1 : 0) + (s.expression.empty() ? 0 : 4); }

// One pass over `steps` (one file each, windows of `tile`, 0: 512): each step's cubes, then the
// quality and mask they share.
void run_pass(RunContext& ctx, std::span<const indicators::Step> steps, std::span<const cube::CubeStepSpec> specs, int tile) {
  const indicators::Step& s = steps.front();
  const bool two = specs.front().form != cube::CubeStepSpec::Form::kReduce;
  std::vector<CubePart> parts;
  std::vector<io::OutputSpec> outputs;
  std::vector<io::PipelineInput> pin;
  for (std::size_t k = 0; k < steps.size(); ++k) {
    parts.push_back(cube_part(ctx, steps[k], specs[k]));
    outputs.push_back(cube_output(ctx, steps[k], two));
    outputs.back().tile = tile;
    add_step_inputs(ctx, steps[k], pin);
  }
  add_shared_inputs(ctx, s, pin);
  const bool has_quality = !s.quality.empty(), has_mask = !s.mask.empty();
  io::run_block_pipeline(
      pin, outputs, [&] { return std::make_unique<CubeWorker>(parts, has_quality, s.quality_valid, s.quality_clear_bits, has_mask); },
      ctx.exec.pipeline());
  for (std::size_t k = 0; k < steps.size(); ++k) ctx.raster_path[steps[k].id] = outputs[k].path;
}
}  // namespace

void run_cube_step(RunContext& ctx, const indicators::Step& s, cube::CubeStepSpec cs) { run_cube_group(ctx, std::span(&s, 1), {std::move(cs)}); }

void run_cube_group(RunContext& ctx, std::span<const indicators::Step> steps, const std::vector<cube::CubeStepSpec>& specs) {
  // Steps join a pass while its windows stay as large as the first step's alone would be.
  std::vector<io::PipelineInput> shared;
  add_shared_inputs(ctx, steps.front(), shared);
  const io::SeriesFootprint base = io::series_footprint(shared, worker_bytes(steps.front()));
  std::vector<io::SeriesFootprint> own;
  for (const auto& s : steps) {
    std::vector<io::PipelineInput> pin;
    add_step_inputs(ctx, s, pin);
    own.push_back(io::series_footprint(pin, worker_bytes(s)));
  }
  for (std::size_t first = 0; first < steps.size();) {
    io::SeriesFootprint pass = base;
    pass += own[first];
    const int tile = io::series_tile(pass);
    std::size_t n = 1;
    while (first + n < steps.size()) {
      io::SeriesFootprint more = pass;
      more += own[first + n];
      if (io::series_tile(more) != tile) break;
      pass = more;
      ++n;
    }
    run_pass(ctx, steps.subspan(first, n), std::span(specs).subspan(first, n), tile);
    first += n;
  }
}

namespace {
// The bytes of a cell of cube `name` at each time step: its first file's sample size (a UInt16 band
// reads 2 bytes a cell, a Byte quality band 1), what the pass reads.
std::uint64_t sample_bytes(const RunContext& ctx, const std::string& name) {
  const ResolvedInput& in = ctx.inputs.at(name);
  return in.steps.empty() ? 4 : core::size_of(in.sources[in.steps.front().first].type);
}
}  // namespace

StepEstimate cube_estimate(const RunContext& ctx, const indicators::Step& s, bool with_shared) {
  const Selection& sel = ctx.selections.at(s.id);
  const std::size_t steps = sel.main.size() + sel.reference.size();
  std::size_t inputs = 0;
  std::uint64_t bytes = 0;
  for (const auto& c : step_cubes(s)) {
    inputs += steps;
    bytes += steps * sample_bytes(ctx, c);
  }
  // The quality cube and the mask are read once by the pass of a group: counted with its first step.
  if (with_shared && !s.quality.empty()) {
    inputs += steps;
    bytes += steps * sample_bytes(ctx, s.quality);
  }
  if (with_shared && !s.mask.empty()) {
    inputs += 1;
    bytes += 4;
  }
  StepEstimate e = pipeline_estimate_bytes(ctx.grid, ctx.exec.threads, inputs, bytes, s.output);
  // The steps' blocks of a window, per thread.
  const std::uint64_t cells = static_cast<std::uint64_t>(ctx.grid.width) * static_cast<std::uint64_t>(ctx.grid.height);
  const int t = io::series_tile(std::max<std::size_t>(inputs, 1));
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
