#include "server/openeo_api.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/digest.hpp"
#include "core/url.hpp"
#include "server/openeo_graph.hpp"
#include "core/version.hpp"
#include "security/audit.hpp"
#include "security/keys.hpp"
#include "security/tokens.hpp"
#include "security/users.hpp"

namespace sco::server {

using nlohmann::json;

namespace {

constexpr const char* kApiVersion = "1.2.0";

// The endpoints this node implements, as the capabilities list them.
const json& endpoints() {
  static const json e = json::array({{{"path", "/"}, {"methods", {"GET"}}},
                                     {{"path", "/conformance"}, {"methods", {"GET"}}},
                                     {{"path", "/credentials/basic"}, {"methods", {"GET"}}},
                                     {{"path", "/me"}, {"methods", {"GET"}}},
                                     {{"path", "/collections"}, {"methods", {"GET"}}},
                                     {{"path", "/collections/{collection_id}"}, {"methods", {"GET"}}},
                                     {{"path", "/processes"}, {"methods", {"GET"}}},
                                     {{"path", "/file_formats"}, {"methods", {"GET"}}},
                                     {{"path", "/result"}, {"methods", {"POST"}}}});
  return e;
}

const json& conformance() {
  static const json c = json::array({"https://api.openeo.org/1.2.0", "https://api.stacspec.org/v1.0.0/core",
                                     "https://api.stacspec.org/v1.0.0/collections", "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core"});
  return c;
}

ApiResponse ok(const json& j) { return {200, "application/json", json_text(j)}; }

// "Basic base64(name:password)" -> name, password; false when malformed.
bool basic_credentials(const std::string& header, std::string& name, std::string& password) {
  if (header.rfind("Basic ", 0) != 0) return false;
  const auto decoded = core::base64_decode(header.substr(6));
  if (!decoded) return false;
  const std::string& raw = *decoded;
  const auto colon = raw.find(':');
  if (colon == std::string::npos) return false;
  name = raw.substr(0, colon);
  password = raw.substr(colon + 1);
  return true;
}

}  // namespace

ApiResponse openeo_error(int status, const std::string& code, const std::string& message) {
  return {status, "application/json", json_text(json{{"id", core::random_hex(8)}, {"code", code}, {"message", message}})};
}

ApiResponse OpenEoApi::capabilities(const ApiRequest& req) const {
  const std::string base = req.base_url + "/openeo/1.2";
  return ok({{"api_version", kApiVersion},
             {"backend_version", core::kVersion},
             {"stac_version", "1.0.0"},
             {"type", "Catalog"},
             {"id", "sco"},
             {"title", "sco observatory node"},
             {"description", "openEO API of a sco Space Climate Observatory node: its STAC collections as data cubes."},
             {"production", true},
             {"endpoints", endpoints()},
             {"conformsTo", conformance()},
             {"links", json::array({{{"rel", "self"}, {"href", base + "/"}, {"type", "application/json"}},
                                    {{"rel", "conformance"}, {"href", base + "/conformance"}, {"type", "application/json"}},
                                    {{"rel", "data"}, {"href", base + "/collections"}, {"type", "application/json"}},
                                    {{"rel", "version-history"}, {"href", req.base_url + "/.well-known/openeo"}, {"type", "application/json"}}})}});
}

ApiResponse OpenEoApi::login(const std::string& authorization) const {
  std::string name, password;
  if (!basic_credentials(authorization, name, password)) {
    return openeo_error(401, "AuthenticationRequired", "log in with HTTP Basic: Authorization: Basic base64(name:password)");
  }
  const auto user = security::check_password(catalog_dir_, name, password);
  if (!user) return openeo_error(403, "CredentialsInvalid", "the name or the password is wrong");
  security::TokenInfo info;
  const std::string token = security::create_token(catalog_dir_, security::login_owner(user->name), user->role, &info);
  const auto keys = security::NodeKeys::load_or_create(catalog_dir_);
  security::audit(catalog_dir_, keys, "openeo.login", {{"user", user->name}, {"token", info.id}});
  return ok({{"access_token", token}});
}

// The collection as an openEO data cube: x and y over its WGS 84 extent, t over its interval, and its
// bands from the first item's (eo:bands names, else b1..bN of raster:bands).
json OpenEoApi::with_cube_dimensions(json c, const std::string& base) const {
  const std::string id = c.value("id", "");
  const json bbox = c.value("extent", json::object()).value("spatial", json::object()).value("bbox", json::array({json::array({-180, -90, 180, 90})}))[0];
  const json interval = c.value("extent", json::object()).value("temporal", json::object()).value("interval", json::array({json::array({nullptr, nullptr})}))[0];
  json bands = json::array();
  catalog::SearchQuery q;
  q.collections = {id};
  q.limit = 1;
  const auto page = store_.search(q);
  const json assets = page.items.empty() ? json::object() : page.items[0].value("assets", json::object());
  {
    for (const auto& [key, asset] : assets.items()) {
      if (asset.contains("eo:bands")) {
        for (const auto& b : asset["eo:bands"]) bands.push_back(b.value("name", fmt::format("b{}", bands.size() + 1)));
      } else if (asset.contains("raster:bands") && asset["raster:bands"].size() == 1) {
        bands.push_back(key);
      } else if (asset.contains("raster:bands")) {
        for (std::size_t k = 1; k <= asset["raster:bands"].size(); ++k) bands.push_back(fmt::format("{}_b{}", key, k));
      }
    }
  }
  c["cube:dimensions"] = {{"x", {{"type", "spatial"}, {"axis", "x"}, {"extent", {bbox[0], bbox[2]}}, {"reference_system", 4326}}},
                          {"y", {{"type", "spatial"}, {"axis", "y"}, {"extent", {bbox[1], bbox[3]}}, {"reference_system", 4326}}},
                          {"t", {{"type", "temporal"}, {"extent", interval}}},
                          {"bands", {{"type", "bands"}, {"values", bands}}}};
  if (!c.contains("stac_extensions")) c["stac_extensions"] = json::array();
  c["stac_extensions"].push_back("https://stac-extensions.github.io/datacube/v2.2.0/schema.json");
  c["links"] = json::array({{{"rel", "self"}, {"href", base + "/collections/" + core::url_encode(id)}, {"type", "application/json"}},
                            {{"rel", "root"}, {"href", base + "/"}, {"type", "application/json"}}});
  return c;
}

ApiResponse OpenEoApi::collections(const ApiRequest& req) const {
  const std::string base = req.base_url + "/openeo/1.2";
  json list = json::array();
  for (const auto& c : store_.collections()) {
    if (may_see(req.caller, visibility_of(c))) list.push_back(with_cube_dimensions(c, base));
  }
  return ok({{"collections", list}, {"links", json::array({{{"rel", "self"}, {"href", base + "/collections"}}})}});
}

ApiResponse OpenEoApi::collection(const ApiRequest& req, const std::string& id) const {
  const auto c = store_.collection(id);
  // What the caller may not see does not exist for them.
  if (!c || !may_see(req.caller, visibility_of(*c))) return openeo_error(404, "CollectionNotFound", fmt::format("no collection '{}'", id));
  return ok(with_cube_dimensions(*c, req.base_url + "/openeo/1.2"));
}

// POST /result: the process graph run synchronously, the file it saves as the response.
ApiResponse OpenEoApi::result(const ApiRequest& req, const std::string& user) const {
  if (user.empty()) return openeo_error(401, "AuthenticationRequired", "log in first: GET /credentials/basic");
  json body;
  try {
    body = json::parse(req.body);
  } catch (const json::parse_error& e) {
    return openeo_error(400, "JsonInvalid", fmt::format("the request body is not JSON (byte {})", e.byte));
  }
  const json graph = body.is_object() ? body.value("process", json::object()).value("process_graph", json()) : json();
  if (!graph.is_object()) return openeo_error(400, "ProcessGraphMissing", "expected {\"process\": {\"process_graph\": {...}}}");
  const std::string work = (std::filesystem::path(catalog_dir_) / "openeo" / ("sync-" + core::random_hex(8))).string();
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{work};
  try {
    const GraphResult r = run_process_graph(graph, store_, req.caller, work, 2, sync_max_cells_);
    std::ifstream f(r.path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return {200, r.media_type, ss.str()};
  } catch (const core::Error& e) {
    if (e.code() != core::ErrorCode::kInvalidInput && e.code() != core::ErrorCode::kNotFound) return openeo_error(500, "Internal", e.what());
    const auto [code, message] = openeo_code_of(e.what());
    return openeo_error(code == "CollectionNotFound" ? 404 : 400, code, message);
  }
}

ApiResponse OpenEoApi::handle(const ApiRequest& req, const std::string& authorization, const std::string& user) const {
  const std::string& p = req.path;
  if (p == "/openeo/1.2/result") {
    if (req.method != "POST") return openeo_error(405, "MethodNotAllowed", "use POST");
    return result(req, user);
  }
  if (req.method != "GET") return openeo_error(405, "MethodNotAllowed", fmt::format("{} is not allowed on {}", req.method, p));
  if (p == "/.well-known/openeo") {
    return ok({{"versions", json::array({{{"url", req.base_url + "/openeo/1.2/"}, {"production", true}, {"api_version", kApiVersion}}})}});
  }
  const std::string prefix = "/openeo/1.2";
  if (p.rfind(prefix, 0) != 0) return openeo_error(404, "NotFound", fmt::format("no route {}", p));
  const std::string rest = p.substr(prefix.size());
  if (rest.empty() || rest == "/") return capabilities(req);
  if (rest == "/conformance") return ok({{"conformsTo", conformance()}});
  if (rest == "/credentials/basic") return login(authorization);
  if (rest == "/me") {
    if (user.empty()) return openeo_error(401, "AuthenticationRequired", "log in first: GET /credentials/basic");
    const std::string name = user.rfind("user:", 0) == 0 ? user.substr(5) : user;
    return ok({{"user_id", name}, {"name", name}, {"links", json::array()}});
  }
  if (rest == "/collections") return collections(req);
  if (rest == "/processes") return ok({{"processes", openeo_processes()}, {"links", json::array()}});
  if (rest == "/file_formats") {
    const json gtiff = {{"title", "GeoTIFF (cloud-optimised)"}, {"gis_data_types", {"raster"}}, {"parameters", json::object()}};
    auto vector = [](const char* title) { return json{{"title", title}, {"gis_data_types", {"vector"}}, {"parameters", json::object()}}; };
    const json output = {{"GTiff", gtiff}, {"GeoJSON", vector("GeoJSON")}, {"CSV", vector("CSV")}, {"JSON", vector("JSON")}};
    return ok({{"input", json::object()}, {"output", output}});
  }
  if (rest.rfind("/collections/", 0) == 0 && rest.find('/', 13) == std::string::npos) return collection(req, rest.substr(13));
  return openeo_error(404, "NotFound", fmt::format("no route {} (the endpoints: {}/)", p, prefix));
}

}  // namespace sco::server
