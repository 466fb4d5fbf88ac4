#pragma once
// The STAC API 1.0 (core, collections, item search, OGC API Features items) over a catalog store,
// independent of the HTTP library: a request is a method, a path, query parameters and a body; a
// response a status, a media type and a body. Bad parameters give 400 with a JSON error naming the
// parameter, unknown collections and items 404.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/store.hpp"
#include "core/error.hpp"
#include "server/access.hpp"

namespace sco::server {

struct ApiRequest {
  std::string method = "GET";
  std::string path;                          // "/stac/search"
  std::map<std::string, std::string> query;  // decoded query parameters
  std::string body;
  std::string base_url;                      // "http://127.0.0.1:8080", for absolute links
  Caller caller;                             // who asks (access.hpp)
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string file = {};  // when set, the body is this file of the node, streamed (Range requests answered)
  bool file_temporary = false;  // the file is removed once opened (its bytes live until sent)
  std::vector<std::pair<std::string, std::string>> headers = {};  // besides Content-Type (Location, OpenEO-Identifier)
};

// Compact JSON for a response body. Strings echoed from a request may hold invalid UTF-8: they are
// replaced (U+FFFD), never thrown.
std::string json_text(const nlohmann::json& value);

// {"code": ..., "description": ...}
ApiResponse error_response(int status, const std::string& code, const std::string& description);
// The one mapping of sco's error codes to HTTP, for every API: invalid input 400
// (InvalidParameterValue), not found 404 (NotFound), cancelled 503 (ServiceUnavailable), I/O and
// internal errors 500 (ServerError); the description is the error's message.
ApiResponse error_response(const core::Error& error);
// An item with every asset stored as a file of this node given as its /assets URL (clients get a URL,
// never a path).
nlohmann::json with_asset_urls(nlohmann::json item, const std::string& base_url);
// 401 (no token) or 403 (a token without the right) for a collection the caller may not see.
ApiResponse refusal_response(const Caller& caller);
// An item's asset as the routes that serve it look it up: 404 for an unknown collection, item or
// asset, 401 / 403 for a collection the caller may not see; status 200 with `asset` set otherwise.
ApiResponse find_asset(const catalog::CatalogStore& store, const Caller& caller, const std::string& collection, const std::string& item,
                       const std::string& asset, nlohmann::json& found);

class StacApi {
 public:
  explicit StacApi(catalog::CatalogStore& store) : store_(store) {}
  // Routes under /stac; anything else is a 404.
  ApiResponse handle(const ApiRequest& request) const;
  static std::string conformance_json();
  // The local file behind GET /assets/{collection}/{item}/{asset}: status 200 with `path` and the
  // asset's media `type`; 404 for unknown ones and assets that are not files of this node; 401 / 403
  // for collections the caller may not see.
  ApiResponse asset_file(const std::string& collection, const std::string& item, const std::string& asset, const Caller& caller,
                         std::string& path, std::string& type) const;

 private:
  catalog::CatalogStore& store_;
};

// The OpenAPI 3.0 document of the node's routes.
std::string openapi_json(const std::string& base_url);

}  // namespace sco::server
