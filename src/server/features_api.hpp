#pragma once
// OGC API - Features, Part 1 (core, GeoJSON) under /features: every per-district table a recipe run
// registered is a collection; items with bbox, limit/offset paging and property filters
// (?NAME=value, equality on the value's text).
#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "catalog/store.hpp"
#include "server/stac_api.hpp"

namespace sco::server {

class FeaturesApi {
 public:
  explicit FeaturesApi(catalog::CatalogStore& store) : store_(store) {}
  ApiResponse handle(const ApiRequest& request) const;
  // The file `file` of the output folder of table `table_id` (a plain name, no path): status 200 and
  // `path` set, or the error.
  ApiResponse output_file(const std::string& table_id, const std::string& file, std::string& path, const Caller& caller) const;

 private:
  // The table's GeoJSON, parsed once per file version.
  std::shared_ptr<const nlohmann::json> load(const std::string& path) const;
  bool visible(const nlohmann::json& table, const Caller& caller) const;
  catalog::CatalogStore& store_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, std::pair<long long, std::shared_ptr<const nlohmann::json>>> cache_;
};

}  // namespace sco::server
