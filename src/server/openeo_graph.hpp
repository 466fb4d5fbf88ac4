#pragma once
// openEO process graphs evaluated on sco's engine. Values flowing between nodes are raster cubes kept
// as files on one grid (a list of time slices, each a set of named bands: file and band number) or
// vector cubes (aggregate_spatial's table per geometry). Band math is sco's vectorised evaluator
// (callbacks compiled to one expression), temporal reducers its cube reducers, aggregate_spatial its
// exact zonal engine. Every graph can be planned first: the same walk with the cubes' shapes only,
// checking every argument and sizing each node (cells, bytes, memory, seconds) without reading a
// pixel; admission control (synchronous limits, the batch queue's memory) decides on that plan.
// Errors are core::Errors whose message starts with the openEO code and the node
// ("ProcessUnsupported: node 'x': ...").
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/store.hpp"
#include "core/cancel.hpp"
#include "server/access.hpp"

namespace sco::server {

// The processes this node runs, as GET /processes lists them (openEO process metadata).
const nlohmann::json& openeo_processes();
// The process id of a built-in indicator: "sco_" and its id with '.' as '_' (heat.trend: sco_heat_trend).
std::string openeo_indicator_process_id(const std::string& recipe_id);

// One band of a catalog item as an openEO cube band: its name, eo common name, file and band number.
struct ItemBand {
  std::string name, common_name, path;
  int band = 1;
};
// An item's bands: its "data" asset's (named by eo:bands, else b1..bN), or, for items stored band by
// band (a Sentinel-2 acquisition), each single-band GeoTIFF asset, named by its key (B04).
std::vector<ItemBand> bands_of_item(const nlohmann::json& item);

// What a graph costs, known before it runs.
struct GraphEstimate {
  std::uint64_t cells = 0;        // the largest cube loaded: pixels x dates x bands
  std::uint64_t bytes_read = 0, bytes_written = 0;
  std::uint64_t peak_memory = 0;  // the process's base, GDAL's cache and the largest node's buffers
  double seconds = 0;             // at this node's measured rates (see kReadBytesPerSecond)
  int nodes = 0;
  std::string single_file_error;  // with GraphOptions::single_file, why the graph saves more than one file
  nlohmann::json to_json() const;
};

// A file save_result wrote: one per time step for GTiff (one in all for a reduced cube), one for
// netCDF and for vector formats.
struct ResultFile {
  std::string path, media_type, title;
  std::string datetime;  // the time step it holds (empty: all)
};

struct GraphResult {
  std::vector<ResultFile> files;
  std::vector<std::string> inputs;  // "collection/item" of every item loaded
  std::vector<double> bbox;         // WGS 84 west, south, east, north of a vector result (rasters carry their own)
  GraphEstimate estimate;
};

struct GraphOptions {
  int threads = 2;
  const core::CancelToken* cancel = nullptr;
  // After each node: its id, process and seconds (a job's log and progress).
  std::function<void(const std::string& node, const std::string& process, double seconds)> on_node;
  // A stored user-defined process of the caller, by id (null: none): its {"process_graph", "parameters"}.
  std::function<std::optional<nlohmann::json>(const std::string& id)> user_process;
  std::string catalog_dir;  // the node's folder (built-in indicators run through the run library)
  // Synchronous requests may save one file only (GTiff of one time step); batch jobs save one per step.
  bool single_file = true;
};

// The catalog record of the user-defined process `id` of `owner` ("OWNER/ID", kind "process_graph").
std::string process_graph_key(const std::string& owner, const std::string& id);
// `owner`'s stored processes, as GraphOptions::user_process looks them up.
std::function<std::optional<nlohmann::json>(const std::string&)> stored_processes(const catalog::CatalogStore& store, const std::string& owner);

// Checks and sizes the graph (the "process_graph" object of a request); reads no pixel, writes nothing.
GraphEstimate plan_process_graph(const nlohmann::json& graph, const catalog::CatalogStore& store, const Caller& caller,
                                 const GraphOptions& options);
// Evaluates the graph into `work_dir`.
GraphResult run_process_graph(const nlohmann::json& graph, const catalog::CatalogStore& store, const Caller& caller,
                              const std::string& work_dir, const GraphOptions& options);

// "ProcessUnsupported: node 'x' ..." -> {"ProcessUnsupported", rest}; other messages -> {"ProcessGraphInvalid", message}.
std::pair<std::string, std::string> openeo_code_of(const std::string& message);

}  // namespace sco::server
