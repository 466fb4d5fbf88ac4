#pragma once
// The openEO API 1.2 (https://api.openeo.org/1.2.0/) of the node, independent of HTTP like the other
// APIs: `/.well-known/openeo` and, under /openeo/1.2, the capabilities (only the endpoints that
// exist), conformance, logins with HTTP Basic (`/credentials/basic`: a user of `sco user`, answered
// with a token of the token system that clients send back as `Bearer basic//TOKEN`), `/me`, and the
// node's STAC collections the caller may see with their data-cube dimensions. Errors are openEO's
// JSON ({"id", "code", "message"}).
#include <cstdint>
#include <string>

#include "catalog/store.hpp"
#include "server/stac_api.hpp"

namespace sco::server {

// {"id": ..., "code": ..., "message": ...}
ApiResponse openeo_error(int status, const std::string& code, const std::string& message);

class OpenEoApi {
 public:
  // `sync_max_cells`: the largest cube a synchronous request may load (cells x dates x bands).
  OpenEoApi(const catalog::CatalogStore& store, std::string catalog_dir, std::uint64_t sync_max_cells)
      : store_(store), catalog_dir_(std::move(catalog_dir)), sync_max_cells_(sync_max_cells) {}
  // `authorization`: the request's Authorization header, read by /credentials/basic only; `user` the
  // owner of the caller's token (empty when anonymous).
  ApiResponse handle(const ApiRequest& request, const std::string& authorization, const std::string& user) const;

 private:
  ApiResponse capabilities(const ApiRequest& req) const;
  ApiResponse login(const std::string& authorization) const;
  ApiResponse result(const ApiRequest& req, const std::string& user) const;
  ApiResponse collections(const ApiRequest& req) const;
  ApiResponse collection(const ApiRequest& req, const std::string& id) const;
  nlohmann::json with_cube_dimensions(nlohmann::json collection, const std::string& base) const;

  const catalog::CatalogStore& store_;
  std::string catalog_dir_;
  std::uint64_t sync_max_cells_;
};

}  // namespace sco::server
