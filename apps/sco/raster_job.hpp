#pragma once
// One band-math job: named inputs, an expression, an output. `sco calc`, `sco index` and the demo
// all run through here, so they validate, report and record provenance the same way.
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "algebra/block_evaluator.hpp"
#include "cli_common.hpp"
#include "core/block_stats.hpp"
#include "io/block_pipeline.hpp"

namespace sco::app {

struct ExpressionJob {
  std::vector<std::pair<std::string, io::PipelineInput>> inputs;  // name -> file band
  std::string expression;
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
};

ExpressionJobResult run_expression_job(const ExpressionJob& job, const GlobalOptions& global);
nlohmann::json job_json(const ExpressionJob& job, const ExpressionJobResult& result);
std::string job_text(const ExpressionJob& job, const ExpressionJobResult& result);

}  // namespace sco::app

namespace sco::app {

// What `sco index` is asked: an index, bands by sensor layout and/or explicit roles, parameters.
struct IndexRequest {
  std::string index;
  std::string input;   // multi-band file, with sensor
  std::string sensor;
  std::vector<std::string> bands;   // ROLE=FILE[:BAND]
  std::vector<std::string> params;  // NAME=VALUE
  double scale = 1.0;
  double offset = 0.0;
};

// Resolves bands and parameters into an expression job (output left to the caller); warnings about
// digital numbers go to `warnings`.
ExpressionJob build_index_job(const IndexRequest& request, std::vector<std::string>& warnings);

}  // namespace sco::app
