#pragma once
// /tiles/{collection}/{item}/{asset}/{z}/{x}/{y}.png and .../tilejson.json over the catalog's items,
// with an in-memory cache of rendered tiles bounded in bytes (least recently used first out).
// Tiles outside the raster are fully transparent PNGs (200), so map clients draw nothing there.
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "catalog/store.hpp"
#include "server/stac_api.hpp"

namespace sco::server {

class TileCache {
 public:
  explicit TileCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  bool get(const std::string& key, std::string& value);
  void put(const std::string& key, const std::string& value);
  std::size_t bytes() const;

 private:
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  mutable std::mutex mutex_;
  std::list<std::pair<std::string, std::string>> order_;  // most recent first
  std::unordered_map<std::string, std::list<std::pair<std::string, std::string>>::iterator> index_;
};

class TilesApi {
 public:
  TilesApi(catalog::CatalogStore& store, std::size_t cache_bytes) : store_(store), cache_(cache_bytes) {}
  // `key` is the request's path and query, for the cache.
  ApiResponse handle(const ApiRequest& request, const std::string& key);

 private:
  catalog::CatalogStore& store_;
  TileCache cache_;
};

}  // namespace sco::server
