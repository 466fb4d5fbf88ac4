#pragma once
// Runs an indicator recipe (built-in or a file) on named inputs over an area of interest, into an
// output folder that appears only when complete: COG rasters, a CSV and a GeoJSON table per
// table step, report.html and provenance.json. Shared by `sco run` and the demo.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "io/table_writer.hpp"

namespace sco::app {

struct RunRequest {
  std::string recipe;               // built-in id or RECIPE.json
  std::vector<std::string> inputs;  // NAME=PATH[:VARIABLE_OR_BAND][@YYYY-MM-DD]
  std::string aoi, layer, id;       // the area of interest: its layer and id field
  std::string out;                  // the output folder
  std::vector<std::string> params;  // KEY=VALUE
  std::string resampling;  // empty: the recipe's, else bilinear
  bool overwrite = false;
  bool register_outputs = true;
  std::string visibility;  // of the indicator's collection when given: public, partners, private  // add the rasters to the node's catalog (collection = recipe id)
};

struct RunOutput {
  std::string kind;  // "raster" | "table" | "report" | "provenance"
  std::string step, path, title, units;
};

struct RunResult {
  std::string out;
  std::string recipe_id;
  std::vector<RunOutput> outputs;
  std::vector<std::string> warnings;
  nlohmann::json provenance;
  nlohmann::json summary;  // per table: column summaries, for --json
  std::map<std::string, io::ResultTable> tables;  // per table step (outputs or not)
  double seconds = 0.0;
  std::vector<std::string> registered;  // catalog item ids
};

RunResult run_recipe(const RunRequest& request, const GlobalOptions& global);

}  // namespace sco::app
