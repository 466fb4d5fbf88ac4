#pragma once
// openEO process graphs evaluated on sco's engine, synchronously (POST /result). Values flowing
// between nodes are raster cubes kept as files on one grid: a list of time slices, each a set of
// named bands (file and band number). Implemented: load_collection (spatial extent in WGS 84 or any
// EPSG code, temporal extent, bands), filter_bands, ndvi, normalized_difference of two bands,
// reduce_dimension over t with a one-node reducer (mean, min, max, median, sum, count), save_result
// (GTiff, cloud-optimised). Band math is sco's vectorised evaluator, temporal reducers its cube
// reducers. Errors are core::Errors whose message starts with the node's path and the openEO code
// ("ProcessUnsupported", "ProcessArgumentRequired", "CollectionNotFound", ...).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/store.hpp"
#include "server/access.hpp"

namespace sco::server {

// The processes this node runs, as GET /processes lists them (openEO process metadata).
const nlohmann::json& openeo_processes();

struct GraphResult {
  std::string path;          // the file save_result wrote
  std::string media_type;    // "image/tiff; application=geotiff"
};

// Evaluates the process graph (the "process_graph" object of a request) into `work_dir`.
// A load_collection of more than `max_cells` (pixels x dates x bands) is refused before any pixel is
// read ("ProcessGraphComplexity", pointing to batch jobs).
GraphResult run_process_graph(const nlohmann::json& graph, const catalog::CatalogStore& store, const Caller& caller, const std::string& work_dir,
                              int threads, std::uint64_t max_cells);

// "ProcessUnsupported: node 'x' ..." -> {"ProcessUnsupported", rest}; other messages -> {"ProcessGraphInvalid", message}.
std::pair<std::string, std::string> openeo_code_of(const std::string& message);

}  // namespace sco::server
