#pragma once
// `sco run`'s arguments as the command line gives them, and their conversion to the run library's
// typed request. Shared by `sco run` and the demo.
#include <string>
#include <vector>

#include "cli_common.hpp"
#include "run/run.hpp"

namespace sco::app {

struct RunArgs {
  std::string recipe;               // built-in id or RECIPE.json
  std::vector<std::string> inputs;  // NAME=PATH[:VARIABLE_OR_BAND][@YYYY-MM-DD]
  std::string aoi, layer, id;       // the area of interest: its layer and id field
  std::string out;
  std::vector<std::string> params;  // KEY=VALUE
  std::string resampling;
  bool overwrite = false;
  bool register_outputs = true;  // in the node's catalog (--catalog), collection = recipe id
  std::string visibility;
  bool dry_run = false;
};

run::RunRequest to_request(const RunArgs& args, const GlobalOptions& global);

}  // namespace sco::app
