#pragma once
// A finished run's outputs joining the node's catalog in one transaction: each raster an item of the
// indicator's collection (processing extension, provenance.json and report.html as metadata assets,
// the tables as data assets, every asset with its size and SHA-256, signed by the node), each table
// per district a feature table for OGC API Features; the collection's visibility set in the same
// transaction, the audit entry written ahead and confirmed by the commit.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sco::catalog {

struct RunOutputFile {
  std::string kind;  // "raster" | "table" | "report" | "provenance"
  std::string step, path, title, units;
};

struct RunPublication {
  std::string catalog_dir;
  std::string collection, title, description;  // the indicator: its id, title and description
  std::string recipe_version, recipe_hash;
  std::string visibility;                       // empty: as it is (public for a new collection)
  std::string out_dir;                          // the run's folder; its name prefixes the item ids
  std::vector<RunOutputFile> outputs;
  nlohmann::json provenance;                    // provenance.json: its outputs' SHA-256 are reused
  std::string start, end;                       // the data's time (empty: the run's finish time)
  std::map<std::string, std::string> id_columns;  // table step -> its districts' id column
  std::vector<double> bbox;                     // of the districts, WGS 84 when they have a CRS
};

// Returns the ids of the items and feature tables registered.
std::vector<std::string> publish_run(const RunPublication& run);

}  // namespace sco::catalog
