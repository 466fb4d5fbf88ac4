#pragma once
// One band-math job: named inputs, an expression, an output raster. `sco calc`, `sco index`, the demo
// and a recipe's index and raster.calc steps all run through here, so they validate, report and
// record provenance the same way.
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "algebra/expression.hpp"

#include "core/block_stats.hpp"
#include "core/cancel.hpp"
#include "io/block_pipeline.hpp"

namespace sco::run {

// How a job runs: threads, the terminal bar, a progress callback, a cancellation token.
struct ExecOptions {
  int threads = 1;
  bool terminal_progress = false;
  std::function<void(double)> on_progress;
  const core::CancelToken* cancel = nullptr;
  io::PipelineOptions pipeline(const std::string& label = "computing") const;
};

struct ExpressionJob {
  std::vector<std::pair<std::string, io::PipelineInput>> inputs;  // name -> file band
  std::string expression;               // as written (recorded in the output's metadata)
  std::optional<algebra::Expr> parsed;  // when the caller has the tree already (an index's formula)
  io::OutputSpec output;
  bool double_precision = false;
  std::vector<std::pair<std::string, std::string>> extra_metadata;
  // Record the expression and input paths in the output's metadata (recipes record their own
  // provenance instead: their inputs are temporary views).
  bool record_inputs = true;
};

struct ExpressionJobResult {
  io::PipelineResult pipeline;
  core::RunningStats stats;
  std::string canonical_expression;
  std::vector<std::string> warnings;  // inputs the expression does not use
};

ExpressionJobResult run_expression_job(const ExpressionJob& job, const ExecOptions& options);
nlohmann::json job_json(const ExpressionJob& job, const ExpressionJobResult& result);
std::string job_text(const ExpressionJob& job, const ExpressionJobResult& result);

// A spectral index by sensor band layout and/or explicit bands, as an expression job (output left to
// the caller). A warning goes to `warnings` when the bands look like digital numbers.
struct IndexRequest {
  std::string index;
  std::string input;   // multi-band file, with sensor
  std::string sensor;
  std::vector<std::pair<std::string, io::BandRef>> bands;   // role name -> band, alone or overriding the layout
  std::vector<std::pair<std::string, double>> params;       // formula parameters
  double scale = 1.0;
  double offset = 0.0;
};
ExpressionJob build_index_job(const IndexRequest& request, std::vector<std::string>& warnings);
std::string index_ids();
std::string sensor_ids();

}  // namespace sco::run
