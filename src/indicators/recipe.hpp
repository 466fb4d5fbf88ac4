#pragma once
// Indicator recipes: a JSON document naming inputs, parameters with defaults and a list of steps.
// Parsing and validation happen here, before any data is opened: every error names the recipe and,
// where it applies, the step and the field (or the line and column of a JSON syntax error).
// The document format is described in docs/recipes.md.
#include <map>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cube/cf_time.hpp"
#include "cube/series_op.hpp"

namespace sco::indicators {

enum class InputKind {
  kRaster,  // one band: FILE[:BAND]
  kImage,   // a multispectral scene (bands by sensor layout)
  kCube,    // a time series: FILE:VARIABLE, a band stack, or several files
};
const char* input_kind_name(InputKind kind);

struct InputDecl {
  std::string name;
  InputKind kind = InputKind::kRaster;
  std::string title, units;
};

enum class ParamType { kNumber, kString, kBoolean };

struct ParamDecl {
  std::string name;
  ParamType type = ParamType::kNumber;
  nlohmann::json default_value;  // null: the parameter is required
  std::string title, units;
  std::optional<double> minimum, maximum;
  std::vector<std::string> choices;  // for strings, when restricted
};

// A closed date interval given as "YYYY", "YYYY-MM" or "YYYY-MM-DD" bounds ("1999-06" ends on the
// month's last day). Compared on the calendar's own dates, so it works for every CF calendar.
struct Period {
  bool given = false;
  std::string start, end;  // as written
  long first = 0, last = 0;  // keys year*10000 + month*100 + day
  bool contains(const cube::DateTime& date) const;
  std::string describe() const;  // "1999-06..1999-08"
};

// Classes of a column by ascending thresholds t_1 < ... < t_k: a value below t_1 gets labels[0],
// one in [t_i, t_i+1) labels[i], one from t_k on labels[k]. Two thresholds default to low, medium,
// high.
struct ClassSpec {
  bool given = false;
  std::string column;
  std::vector<double> thresholds;
  std::vector<std::string> labels{"low", "medium", "high"};
};

struct TableColumnRef {
  std::string step;    // a zonal.stats step
  std::string column;  // one of its columns
  std::string field;   // or an attribute of the area of interest (vulnerability only)
  bool given = false;
};

// One step with its parameters substituted and its fields checked. Which fields are used depends on
// `op`; the rest keep their defaults.
struct Step {
  std::string id, op, title, units, description;
  bool output = false;
  // index.NAME
  std::string index, input, sensor;
  double scale = 1.0, offset = 0.0;
  // raster.calc
  std::string expression;
  // cube.reduce, cube.trend, cube.anomaly, cube.change
  cube::SeriesOp reducer;
  std::optional<double> threshold_percentile;  // count/run above or below a per-pixel percentile
  Period period, baseline;                     // baseline: anomaly; before/after: change
  bool relative = false;
  // Masks of a cube step: `mask` a raster (input or step) whose 0 or nodata pixels are left out;
  // `quality` a cube of the same steps whose value must be one of `quality_valid` (default: any
  // non-zero value) for the step's observation to count (cloud / QA bands).
  std::string mask, quality;
  std::vector<double> quality_valid;
  std::uint32_t quality_clear_bits = 0;  // or: these bits of the QA value must all be 0 (Landsat QA_PIXEL)
  double per = 1.0;  // trend slope per this many years
  double alpha = 0.05;  // zonal.trend: significance level of the Mann-Kendall test
  int min_years = 10;   // trends: fewer distinct years with data is "record too short"; cube.etccdi: base years
  int max_missing_days = 15;  // cube.etccdi: a year with more missing days gets no value
  // zonal.stats (and zonal.trend: the district mean of every time step, then its trend)
  std::string raster, weights;
  std::vector<std::string> stats;
  std::string exposure_mask, population_field;
  ClassSpec classes;
  // risk
  TableColumnRef hazard, exposure, vulnerability;

  bool raster_product = false;  // set by run::bind_steps from the op: a raster, else a table per district
  bool makes_raster() const { return raster_product; }
  bool makes_table() const { return !raster_product; }
};

struct Recipe {
  std::string source;  // file name or "built-in"
  std::string id, version, title, description, category;
  std::vector<std::string> references;
  std::vector<InputDecl> inputs;
  std::vector<ParamDecl> parameters;
  // "grid": {"like": INPUT, "resampling": METHOD}: the working grid is that input's (default: the
  // first input's), other inputs are warped to it with METHOD (default: the run's --resampling).
  std::string grid_like, resampling;
  nlohmann::json document;  // as parsed
  std::string hash;         // SHA-256 of the canonical (sorted, compact) JSON

  const InputDecl* find_input(std::string_view name) const;
  const ParamDecl* find_parameter(std::string_view name) const;
};

// Throws kInvalidInput: "recipe 'F': not valid JSON at line L, column C: ..." or a structural error
// naming the field.
Recipe parse_recipe(std::string_view text, const std::string& source);
Recipe load_recipe_file(const std::string& path);

using ParamValues = std::map<std::string, nlohmann::json>;
// Defaults overridden by KEY=VALUE texts; unknown keys, wrong types, values out of range and
// missing required parameters fail naming the parameter.
ParamValues bind_parameters(const Recipe& recipe, const std::vector<std::pair<std::string, std::string>>& overrides);

// Binding the steps (each op reading and checking its own fields) is the run library's:
// run::bind_steps, run::table_columns, run::known_ops (run/step_op.hpp).

}  // namespace sco::indicators
