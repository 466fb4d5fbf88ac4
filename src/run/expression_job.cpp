#include "run/expression_job.hpp"

#include <cmath>
#include <cstdio>
#include <mutex>

#include <fmt/format.h>

#include "algebra/block_evaluator.hpp"
#include "algebra/expression.hpp"
#include "algebra/program.hpp"
#include "core/version.hpp"

namespace sco::run {

namespace {

class ExpressionWorker : public io::BlockWorker {
 public:
  ExpressionWorker(const algebra::Program& program, algebra::Precision precision, core::RunningStats& total,
                   std::mutex& mutex)
      : evaluator_(program, precision), total_(total), mutex_(mutex) {}
  ~ExpressionWorker() override {
    std::lock_guard lock(mutex_);
    total_.merge(stats_);
  }
  void process(std::span<const core::BlockView> inputs, const core::MutableBlockView& out) override {
    evaluator_.evaluate(inputs, out, &stats_);
  }

 private:
  algebra::BlockEvaluator evaluator_;
  core::RunningStats stats_;
  core::RunningStats& total_;
  std::mutex& mutex_;
};

}  // namespace

io::PipelineOptions ExecOptions::pipeline(const std::string& label) const {
  io::PipelineOptions p;
  p.threads = threads;
  p.progress = terminal_progress;
  p.progress_label = label;
  p.on_progress = on_progress;
  p.cancel = cancel;
  return p;
}

ExpressionJobResult run_expression_job(const ExpressionJob& job, const ExecOptions& options) {
  const algebra::Expr expr = job.parsed ? *job.parsed : algebra::parse_expression(job.expression);
  // Only the inputs the expression uses are opened; unknown names fail compilation with a column.
  std::vector<std::string> all_names;
  for (const auto& [name, in] : job.inputs) all_names.push_back(name);
  {
    // Validate input names before anything is read.
    algebra::Program::compile(expr, all_names);
  }
  std::vector<std::string> names;
  std::vector<io::PipelineInput> inputs;
  for (const auto& used : algebra::referenced_inputs(expr)) {
    for (const auto& [name, in] : job.inputs) {
      if (name == used) {
        names.push_back(name);
        inputs.push_back(in);
      }
    }
  }
  std::vector<std::string> unused;
  for (const auto& [name, in] : job.inputs) {
    bool used = false;
    for (const auto& n : names) used = used || n == name;
    if (!used) unused.push_back(fmt::format("input '{}' is not used by the expression", name));
  }
  if (inputs.empty()) {
    core::fail(core::ErrorCode::kInvalidInput, "the expression \"{}\" uses no input; it needs at least one raster",
               job.expression);
  }
  const algebra::Program program = algebra::Program::compile(expr, names);
  ExpressionJobResult result;
  result.warnings = std::move(unused);
  result.canonical_expression = algebra::to_string(expr);

  io::OutputSpec spec = job.output;
  std::string input_list;
  for (std::size_t i = 0; i < names.size(); ++i) {
    input_list += fmt::format("{}{}={}:{}", i ? ";" : "", names[i], inputs[i].path, inputs[i].band);
  }
  if (job.record_inputs) {
    spec.metadata.emplace_back("SCO_EXPRESSION", job.expression);
    spec.metadata.emplace_back("SCO_INPUTS", input_list);
    spec.metadata.emplace_back("SCO_VERSION", core::kVersion);
  }
  for (const auto& kv : job.extra_metadata) spec.metadata.push_back(kv);
  if (spec.band_description.empty()) spec.band_description = job.expression;

  const bool dbl = job.double_precision || spec.type == core::DataType::kFloat64;
  const auto precision = dbl ? algebra::Precision::kFloat64 : algebra::Precision::kFloat32;
  std::mutex stats_mutex;
  result.pipeline = io::run_block_pipeline(
      inputs, spec,
      [&]() { return std::make_unique<ExpressionWorker>(program, precision, result.stats, stats_mutex); }, options.pipeline());
  result.stats = core::merged_across_ranks(result.stats, options.pipeline().ranks);
  return result;
}

nlohmann::json job_json(const ExpressionJob& job, const ExpressionJobResult& r) {
  auto num = [](double v) -> nlohmann::json { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  const auto& s = r.stats;
  return {{"output", job.output.path},
          {"expression", job.expression},
          {"width", r.pipeline.grid.width},
          {"height", r.pipeline.grid.height},
          {"type", core::type_name(job.output.type)},
          {"nodata", num(job.output.nodata)},
          {"format", job.output.format == io::OutputFormat::kCog ? "COG" : "GTiff"},
          {"windows", r.pipeline.windows},
          {"seconds", {{"compute", r.pipeline.compute_seconds}, {"finalize", r.pipeline.finalize_seconds}}},
          {"statistics",
           {{"valid_pixels", s.count},
            {"valid_fraction", s.total ? static_cast<double>(s.count) / static_cast<double>(s.total) : 0.0},
            {"min", num(s.min)},
            {"max", num(s.max)},
            {"mean", num(s.mean())},
            {"stddev", num(s.stddev())}}}};
}

std::string job_text(const ExpressionJob& job, const ExpressionJobResult& r) {
  const auto& s = r.stats;
  const double valid = s.total ? 100.0 * static_cast<double>(s.count) / static_cast<double>(s.total) : 0.0;
  std::string stats = s.count ? fmt::format("min {:.4g}, max {:.4g}, mean {:.4g}, {:.1f}% valid", s.min, s.max, s.mean(), valid)
                              : "no valid pixel";
  return fmt::format("wrote {} ({}x{} {}, {}): {} in {:.2f} s\n", job.output.path, r.pipeline.grid.width,
                     r.pipeline.grid.height, core::type_name(job.output.type),
                     job.output.format == io::OutputFormat::kCog ? "COG" : "GTiff", stats,
                     r.pipeline.compute_seconds + r.pipeline.finalize_seconds);
}

}  // namespace sco::run
