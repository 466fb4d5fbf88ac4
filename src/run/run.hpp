#pragma once
// A recipe run as a library call: `plan_run` checks everything and sizes the work without reading a
// pixel (`sco run --dry-run`, admission control); `execute_run` runs the plan into an output folder
// that appears only when complete, optionally registered in the node's catalog. The command line,
// the server and a cluster call these.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/publish_run.hpp"
#include "core/cancel.hpp"
#include "indicators/recipe.hpp"
#include "io/table_writer.hpp"
#include "io/vector_zones.hpp"
#include "run/inputs.hpp"
#include "run/step_op.hpp"

namespace sco::run {

class ZoneSet;  // run/zonal_table.hpp

// The districts, read (and repaired) once; `path` is what the provenance records.
struct AreaOfInterest {
  io::VectorZones zones;
  std::string path, layer, id_field;
  std::string geojson;  // the text, when given as text (its SHA-256 goes to the provenance)

  static AreaOfInterest from_file(const std::string& path, const std::string& layer = "", const std::string& id_field = "");
  // A GeoJSON FeatureCollection given as text (an openEO or API request's geometries).
  static AreaOfInterest from_geojson(const std::string& text, const std::string& id_field = "");
  // A district table a run registered in the catalog (OGC API Features), by its id.
  static AreaOfInterest from_feature_table(const catalog::CatalogStore& store, const std::string& table_id, const std::string& id_field = "");
};

struct RunRequest {
  indicators::Recipe recipe;  // run::load_recipe(ID_OR_FILE)
  std::vector<RunInput> inputs;
  AreaOfInterest aoi;
  std::vector<std::pair<std::string, std::string>> params;  // KEY, VALUE as text
  std::string out;                                          // the output folder
  std::string resampling;                                   // empty: the recipe's, else bilinear
  bool overwrite = false;
  // Registration in the node's catalog (collection = recipe id), when catalog_dir is given.
  std::string catalog_dir;
  std::string visibility;  // public, partners, private; empty: as it is
  int threads = 1;
};

// What a run tells while it goes.
struct RunEvent {
  enum class Kind { kStepStarted, kStepFinished, kStepProgress };
  Kind kind = Kind::kStepStarted;
  std::size_t index = 0, count = 0;  // the step's number (0-based) and the number of steps
  std::string step, op;
  double fraction = 0.0;             // kStepProgress: of this step
  double seconds = 0.0;              // kStepFinished: the step's time
  std::uint64_t bytes_written = 0;   // kStepFinished: its output's size
};

struct RunCallbacks {
  std::function<void(const RunEvent&)> on_event;
  const core::CancelToken* cancel = nullptr;  // null: Ctrl-C only
};

struct StepPlan {
  std::string id, op;
  bool output = false;
  StepEstimate estimate;
};

// Everything checked, nothing computed: the working grid, the steps with their sizes, the outputs,
// and the memory the run will hold at its peak.
class RunPlan {
 public:
  RunPlan();
  ~RunPlan();
  RunPlan(RunPlan&&) noexcept;
  RunPlan& operator=(RunPlan&&) noexcept;

  RunRequest request;
  indicators::ParamValues params;
  std::vector<indicators::Step> steps;
  std::string resampling;
  core::Grid grid;
  std::size_t districts = 0;
  std::vector<StepPlan> step_plans;
  std::uint64_t bytes_read = 0, bytes_written = 0, peak_memory = 0;
  std::vector<std::string> warnings;

  nlohmann::json to_json() const;
  struct State;
  std::unique_ptr<State> state;  // the run's context, carried to execute_run
};

struct RunResult {
  std::string out;
  std::string recipe_id;
  std::vector<catalog::RunOutputFile> outputs;
  std::vector<std::string> warnings;
  nlohmann::json provenance;
  nlohmann::json summary;                         // per table: column summaries
  std::map<std::string, io::ResultTable> tables;  // per table step (outputs or not)
  double seconds = 0.0;
  std::vector<std::string> registered;  // catalog item and feature-table ids
  std::vector<RunEvent> step_times;     // one kStepFinished per step
  std::shared_ptr<ZoneSet> zones;       // the districts, read once (for callers that write the tables their way)
};

// The memory a process running sco holds before any work: code, GDAL's and PROJ's tables.
constexpr std::uint64_t kProcessBaseBytes = 60ull << 20;

RunPlan plan_run(RunRequest request);
RunResult execute_run(RunPlan plan, const RunCallbacks& callbacks = {});
inline RunResult run_recipe(RunRequest request, const RunCallbacks& callbacks = {}) { return execute_run(plan_run(std::move(request)), callbacks); }

}  // namespace sco::run
