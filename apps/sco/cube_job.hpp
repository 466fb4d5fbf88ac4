#pragma once
// One per-pixel time-series job, shared by `sco cube` and the demo.
#include <string>

#include "cli_common.hpp"
#include "io/block_pipeline.hpp"

namespace sco::app {

struct CubeRequest {
  std::string input, op;  // FILE[:VARIABLE], operation
  OutputOptions out;
  int min_years = 10;     // trends: the fewest distinct years with data
};

struct CubeJobResult {
  std::string output;
  std::string operation;
  int steps = 0;
  std::string time_note;
  io::PipelineResult pipeline;
  std::vector<std::string> warnings;
};

CubeJobResult run_cube_job(const CubeRequest& request, const GlobalOptions& global);

}  // namespace sco::app
