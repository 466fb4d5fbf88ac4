#pragma once
// The openEO API 1.2 (https://api.openeo.org/1.2.0/) of the node, independent of HTTP like the other
// APIs: `/.well-known/openeo` and, under /openeo/1.2, the capabilities (only the endpoints that
// exist), conformance, logins with HTTP Basic (`/credentials/basic`: a user of `sco user`, answered
// with a token of the token system that clients send back as `Bearer basic//TOKEN`), `/me`, and the
// node's STAC collections the caller may see with their data-cube dimensions. Errors are openEO's
// JSON ({"id", "code", "message"}).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "catalog/store.hpp"
#include "server/openeo_jobs.hpp"
#include "server/openeo_limits.hpp"
#include "server/stac_api.hpp"

namespace sco::server {

// {"id": ..., "code": ..., "message": ...}
ApiResponse openeo_error(int status, const std::string& code, const std::string& message);
// An error of planning or running a graph: its openEO code and status (400, 404 for a collection;
// 500 for the node's own failures).
ApiResponse openeo_error_of(const core::Error& error);
// A request body as a JSON object; else the openEO error (JsonInvalid with line and column).
std::optional<ApiResponse> parse_openeo_body(const std::string& text, nlohmann::json& body);
// The body's {"process": {"process_graph": {...}}} (with `bare_allowed`, {"process_graph": {...}} too)
// into `graph`; else the openEO error (ProcessGraphMissing).
std::optional<ApiResponse> process_graph_of(const nlohmann::json& body, nlohmann::json& graph, bool bare_allowed = false);

class OpenEoApi {
 public:
  // `limits`: sized (OpenEoLimits::sized); `jobs` serves /jobs (null: no batch jobs).
  OpenEoApi(catalog::CatalogStore& store, std::string catalog_dir, const OpenEoLimits& limits, int threads, JobService* jobs)
      : store_(store), catalog_dir_(std::move(catalog_dir)), limits_(limits), threads_(threads), jobs_(jobs) {}
  // `authorization`: the request's Authorization header, read by /credentials/basic only; the caller's
  // owner is that of their token (empty when anonymous).
  ApiResponse handle(const ApiRequest& request, const std::string& authorization) const;
  // Routes that change records (/jobs, /process_graphs) run outside the request's read snapshot.
  static bool writes_records(const std::string& path);

 private:
  ApiResponse capabilities(const ApiRequest& req) const;
  ApiResponse login(const std::string& authorization) const;
  ApiResponse result(const ApiRequest& req) const;
  ApiResponse validation(const ApiRequest& req) const;
  ApiResponse process_graphs(const ApiRequest& req, const std::string& rest) const;
  ApiResponse collections(const ApiRequest& req) const;
  ApiResponse collection(const ApiRequest& req, const std::string& id) const;
  nlohmann::json with_cube_dimensions(nlohmann::json collection, const std::string& base) const;

  catalog::CatalogStore& store_;
  std::string catalog_dir_;
  OpenEoLimits limits_;
  int threads_;
  JobService* jobs_;
};

}  // namespace sco::server
