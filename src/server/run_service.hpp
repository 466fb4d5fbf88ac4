#pragma once
// Indicator runs asked of the node (by a partner, a local user's browser, an openEO client): the
// request is JSON, its inputs are items of this node's catalog that the caller may see (never paths
// of the node's disk), the area of interest GeoJSON or one of the node's district tables, and the
// outputs go to the node's runs folder and its catalog. Planned and executed by the run library, in
// this process.
#include <string>

#include <nlohmann/json.hpp>

#include "run/run.hpp"
#include "server/access.hpp"

namespace sco::server {

class RunService {
 public:
  explicit RunService(std::string catalog_dir) : catalog_dir_(std::move(catalog_dir)) {}

  // {"recipe": ID, "inputs": {NAME: [{"collection", "item", "asset"}, ...]}, "aoi": {"geojson": {...}} or
  //  {"feature_table": ID}, "id_field": FIELD, "parameters": {KEY: VALUE}, "visibility": V, "name": RUN}
  // Errors are core::Errors naming the field: kInvalidInput (400), kNotFound (404); a collection the
  // caller may not see is kNotFound too, so that a request learns nothing of what it cannot read.
  run::RunRequest request(const nlohmann::json& body, const Caller& caller) const;
  // The plan as JSON (what `sco run --dry-run --json` prints).
  nlohmann::json plan(const nlohmann::json& body, const Caller& caller) const;
  // Runs and registers; the run's summary as JSON (outputs, tables, items).
  nlohmann::json execute(const nlohmann::json& body, const Caller& caller, const run::RunCallbacks& callbacks = {}) const;

 private:
  std::string catalog_dir_;
};

}  // namespace sco::server
