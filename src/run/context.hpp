#pragma once
// What the steps of one run share: the resolved inputs on the working grid, the area of interest,
// the time selections, the rasters and tables made so far, the staging folder and the execution
// options. The ops read and extend it; nothing in it is global, so runs may go side by side.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/grid.hpp"
#include "indicators/recipe.hpp"
#include "indicators/report.hpp"
#include "io/raster_output.hpp"
#include "io/table_writer.hpp"
#include "run/expression_job.hpp"
#include "run/inputs.hpp"
#include "run/zonal_table.hpp"

namespace sco::run {

// The steps of a cube input a step uses: its period (main) and its baseline or "before" (reference).
struct Selection {
  std::vector<std::size_t> main, reference;
};

// A table per district made by a step, with what its report section shows.
struct TableProduct {
  io::ResultTable table;
  std::string main_column;     // the column the report's map and bars show
  std::string picture_raster;  // a raster drawn under the districts, when there is one
  int picture_band = 1;        // its band drawn
  std::optional<nlohmann::json> series;  // zonal.trend: each district's series, for the web map's charts
};

class RunContext {
 public:
  const indicators::Recipe& recipe;
  const std::vector<indicators::Step>& steps;
  std::map<std::string, ResolvedInput> inputs;
  ZoneSet& zones;
  core::Grid grid;  // the working grid
  std::map<std::string, Selection> selections;  // per step id
  std::map<std::string, std::string> raster_path;  // raster input or step -> file on the working grid
  std::map<std::string, TableProduct> tables;      // per table step
  std::vector<std::string> warnings;
  std::filesystem::path staging, work;             // the output folder being made, and its scratch
  std::vector<std::pair<std::string, std::string>> tags;  // provenance recorded in every raster
  ExecOptions exec;

  RunContext(const indicators::Recipe& r, const std::vector<indicators::Step>& s, ZoneSet& z) : recipe(r), steps(s), zones(z) {}

  void warn(const std::string& warning);  // once per text
  // The output spec of a raster step: a COG in the output folder, or a scratch GTiff.
  io::OutputSpec raster_spec(const indicators::Step& step) const;
  // The steps of the step's cube input within `period` (all when not given); errors name step and field.
  std::vector<std::size_t> select(const indicators::Step& step, const indicators::Period& period, const char* field) const;
  // The steps' times in years (per = 10: decades) of the input's calendar; step numbers without dates.
  std::vector<double> years(const ResolvedInput& in, const std::vector<std::size_t>& steps, double per) const;
  // A table per district of the given bands on the working grid (zones projected once per run).
  io::ResultTable zonal_table(const std::vector<ZonalBand>& bands, std::vector<zonal::StatSpec> stats, const std::string& weights = "");
  // A numeric column of a table step.
  std::vector<double> column(const std::string& step, const std::string& name) const;
};

// Table helpers for the ops.
std::vector<double> table_column(const io::ResultTable& t, const std::string& name);
void add_column(io::ResultTable& t, const std::string& name, const std::vector<double>& values);
void add_text_column(io::ResultTable& t, const std::string& name, const std::vector<std::string>& values);

}  // namespace sco::run
