#include "server/openeo_api.hpp"

#include <filesystem>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/digest.hpp"
#include "core/url.hpp"
#include "core/version.hpp"
#include "server/openeo_graph.hpp"
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
                                     {{"path", "/result"}, {"methods", {"POST"}}},
                                     {{"path", "/validation"}, {"methods", {"POST"}}},
                                     {{"path", "/jobs"}, {"methods", {"GET", "POST"}}},
                                     {{"path", "/jobs/{job_id}"}, {"methods", {"GET", "PATCH", "DELETE"}}},
                                     {{"path", "/jobs/{job_id}/results"}, {"methods", {"GET", "POST", "DELETE"}}},
                                     {{"path", "/jobs/{job_id}/logs"}, {"methods", {"GET"}}},
                                     {{"path", "/jobs/{job_id}/estimate"}, {"methods", {"GET"}}},
                                     {{"path", "/process_graphs"}, {"methods", {"GET"}}},
                                     {{"path", "/process_graphs/{process_graph_id}"}, {"methods", {"GET", "PUT", "DELETE"}}}});
  return e;
}

const json& conformance() {
  static const json c = json::array({"https://api.openeo.org/1.2.0", "https://api.stacspec.org/v1.0.0/core",
                                     "https://api.stacspec.org/v1.0.0/collections", "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core"});
  return c;
}

ApiResponse ok(const json& j) { return {200, "application/json", json_text(j), {}}; }

// What save_result writes, with the parameters each format takes (none).
json file_formats() {
  auto format = [](const char* title, const char* kind, const char* description) {
    return json{{"title", title}, {"description", description}, {"gis_data_types", {kind}}, {"parameters", json::object()}};
  };
  json gtiff = format("GeoTIFF (cloud-optimised)", "raster", "One file per time step (a batch job's; a synchronous result holds one), one band per cube band, float32, NaN as nodata, DEFLATE, overviews.");
  gtiff["parameters"] = {{"COMPRESS", {{"type", "string"}, {"enum", {"DEFLATE", "ZSTD", "LZW", "NONE"}}, {"default", "DEFLATE"}, {"description", "The compression."}}},
                         {"LEVEL", {{"type", "integer"}, {"default", 1}, {"description", "The compression level."}}},
                         {"OVERVIEWS", {{"type", "string"}, {"enum", {"AUTO", "NONE"}}, {"default", "AUTO"}, {"description", "Overviews (averaged), or none."}}},
                         {"BLOCKSIZE", {{"type", "integer"}, {"default", 512}, {"description", "The tile size."}}}};
  return {{"input", json::object()},
          {"output", {{"GTiff", gtiff},
                      {"netCDF", format("netCDF-4 (CF-1.8)", "raster", "One file for the whole cube: a variable per band over (t, y, x), t in days since 1970-01-01, the CRS as a grid mapping.")},
                      {"GeoJSON", format("GeoJSON", "vector", "A vector cube: the geometries with one property per time step and band.")},
                      {"CSV", format("CSV", "vector", "A vector cube: a row per geometry, a column per time step and band.")},
                      {"JSON", format("JSON", "vector", "A vector cube: an array of objects, one per geometry.")}}}};
}

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
  json eo_bands = json::array();
  catalog::SearchQuery q;
  q.collections = {id};
  q.limit = 1;
  const auto page = store_.search(q);
  const json assets = page.items.empty() ? json::object() : page.items[0].value("assets", json::object());
  if (!page.items.empty() && !assets.contains("data")) {
    // Stored band by band (a Sentinel-2 acquisition): the bands load_collection offers, by asset key.
    // One eo:bands entry per cube band, in its order (clients compare the two lists): the asset's,
    // named as the cube names it (ESA's name stays in the asset), or the name alone (SCL).
    for (const ItemBand& b : bands_of_item(page.items[0])) {
      bands.push_back(b.name);
      const json eo = assets[b.name].value("eo:bands", json::array());
      json e = eo.size() == 1 ? eo[0] : json{{"description", assets[b.name].value("title", b.name)}};
      e["name"] = b.name;
      eo_bands.push_back(e);
    }
  } else {
    for (const auto& [key, asset] : assets.items()) {
      if (asset.contains("eo:bands")) {
        for (const auto& b : asset["eo:bands"]) {
          bands.push_back(b.value("name", fmt::format("b{}", bands.size() + 1)));
          eo_bands.push_back(b);
        }
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
  if (!eo_bands.empty()) c["summaries"]["eo:bands"] = eo_bands;  // names, common names, wavelengths
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

std::optional<ApiResponse> parse_openeo_body(const std::string& text, json& body) {
  try {
    body = json::parse(text);
  } catch (const json::parse_error& e) {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
      column = text[i] == '\n' ? 1 : column + 1;
      if (text[i] == '\n') ++line;
    }
    return openeo_error(400, "JsonInvalid", fmt::format("the request body is not JSON (line {}, column {})", line, column));
  }
  if (!body.is_object()) return openeo_error(400, "JsonInvalid", "the request body must be a JSON object");
  return std::nullopt;
}

ApiResponse openeo_error_of(const core::Error& e) {
  if (e.code() == core::ErrorCode::kCancelled) return openeo_error(503, "ServiceUnavailable", e.what());
  if (e.code() != core::ErrorCode::kInvalidInput && e.code() != core::ErrorCode::kNotFound) return openeo_error(500, "Internal", e.what());
  const auto [code, message] = openeo_code_of(e.what());
  return openeo_error(code == "CollectionNotFound" ? 404 : 400, code, message);
}

std::optional<ApiResponse> process_graph_of(const json& body, json& graph, bool bare_allowed) {
  graph = body.value("process", json::object()).value("process_graph", json());
  if (!graph.is_object() && bare_allowed) graph = body.value("process_graph", json());
  if (!graph.is_object()) return openeo_error(400, "ProcessGraphMissing", "expected {\"process\": {\"process_graph\": {...}}}");
  return std::nullopt;
}

namespace {

// The request body parsed and its process graph, or the openEO error for either.
std::optional<ApiResponse> graph_of(const std::string& text, json& body, json& graph, bool bare_allowed) {
  if (auto bad = parse_openeo_body(text, body)) return bad;
  return process_graph_of(body, graph, bare_allowed);
}

}  // namespace

// POST /result: planned first, refused before any work when the plan exceeds the node's synchronous
// limits; then run, the file it saves as the response.
ApiResponse OpenEoApi::result(const ApiRequest& req) const {
  if (req.caller.owner.empty()) return openeo_error(401, "AuthenticationRequired", "log in first: GET /credentials/basic");
  json body, graph;
  if (auto bad = graph_of(req.body, body, graph, false)) return *bad;
  GraphOptions opts;
  opts.threads = threads_;
  opts.catalog_dir = catalog_dir_;
  opts.user_process = stored_processes(store_, req.caller.owner);
  const std::string work = (std::filesystem::path(catalog_dir_) / "openeo" / ("sync-" + core::random_hex(8))).string();
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{work};
  try {
    const GraphEstimate plan = plan_process_graph(graph, store_, req.caller, opts);
    std::string over;
    if (plan.cells > limits_.sync_max_cells) over = fmt::format("{} cells (pixels x dates x bands; the limit is {})", plan.cells, limits_.sync_max_cells);
    if (plan.peak_memory > limits_.sync_max_memory) over = fmt::format("{} MiB of memory (the limit is {} MiB)", plan.peak_memory >> 20, limits_.sync_max_memory >> 20);
    if (plan.seconds > limits_.sync_max_seconds) over = fmt::format("about {:.0f} s (the limit is {:.0f} s)", plan.seconds, limits_.sync_max_seconds);
    if (!over.empty()) {
      return openeo_error(400, "ProcessGraphComplexity",
                          fmt::format("the process graph needs {}, more than this node computes synchronously: submit it as a batch job (POST /jobs), "
                                      "or narrow its extents", over));
    }
    if (!plan.single_file_error.empty()) core::fail(core::ErrorCode::kInvalidInput, "{}", plan.single_file_error);
    const GraphResult r = run_process_graph(graph, store_, req.caller, work, opts);
    // Streamed from the file, not held in memory: moved out of the work folder (removed on return),
    // then removed as soon as the response opens it.
    ApiResponse a{200, r.files.at(0).media_type, ""};
    a.file = work + ".result";
    a.file_temporary = true;
    std::filesystem::rename(r.files[0].path, a.file);
    return a;
  } catch (const core::Error& e) {
    return openeo_error_of(e);
  }
}

// POST /validation: the graph planned (every node and argument checked, nothing run); errors listed.
ApiResponse OpenEoApi::validation(const ApiRequest& req) const {
  json body, graph;
  if (auto bad = graph_of(req.body, body, graph, true)) return *bad;
  GraphOptions opts;
  opts.threads = threads_;
  opts.catalog_dir = catalog_dir_;
  opts.single_file = false;
  opts.user_process = stored_processes(store_, req.caller.owner);
  json errors = json::array();
  try {
    plan_process_graph(graph, store_, req.caller, opts);
  } catch (const core::Error& e) {
    const auto [code, message] = openeo_code_of(e.what());
    errors.push_back({{"code", code}, {"message", message}});
  }
  return ok({{"errors", errors}});
}

// User-defined processes: each user's own, stored in the catalog (kind "process_graph", id OWNER/ID).
ApiResponse OpenEoApi::process_graphs(const ApiRequest& req, const std::string& rest) const {
  const std::string owner = req.caller.owner;
  if (owner.empty()) return openeo_error(401, "AuthenticationRequired", "log in first: GET /credentials/basic");
  if (rest.empty() || rest == "/") {
    if (req.method != "GET") return openeo_error(405, "MethodNotAllowed", "GET /process_graphs");
    json list = json::array();
    for (json p : store_.records("process_graph", owner)) {
      p.erase("process_graph");
      list.push_back(p);
    }
    return ok({{"processes", list}, {"links", json::array()}});
  }
  const std::string id = rest.substr(1);
  static const std::regex kId("^\\w+$");
  if (!std::regex_match(id, kId)) return openeo_error(400, "ProcessIdInvalid", fmt::format("process id '{}': letters, digits and _ only", id));
  if (req.method == "GET" || req.method == "DELETE") {
    const auto p = store_.record("process_graph", process_graph_key(owner, id));
    if (!p) return openeo_error(404, "ProcessGraphNotFound", fmt::format("no process graph '{}'", id));
    if (req.method == "GET") return ok(*p);
    store_.transaction([&] { store_.delete_record("process_graph", process_graph_key(owner, id)); });
    return {204, "", "", {}};
  }
  if (req.method != "PUT") return openeo_error(405, "MethodNotAllowed", "GET, PUT or DELETE /process_graphs/{id}");
  json body, graph;
  if (auto bad = graph_of(req.body, body, graph, true)) return *bad;
  const json process = body.contains("process_graph") ? body : body.value("process", json::object());
  for (const auto& p : openeo_processes()) {
    if (p["id"] == id) return openeo_error(400, "ProcessIdInvalid", fmt::format("'{}' is a predefined process of this back-end", id));
  }
  for (const auto& [node, n] : graph.items()) {
    if (!n.is_object() || !n.value("process_id", json()).is_string()) return openeo_error(400, "ProcessGraphInvalid", fmt::format("node '{}': no process_id", node));
  }
  json stored = {{"id", id}, {"process_graph", graph}};
  for (const char* k : {"summary", "description", "parameters", "returns", "categories"}) {
    if (process.contains(k)) stored[k] = process[k];
  }
  store_.transaction([&] { store_.put_record("process_graph", process_graph_key(owner, id), owner, stored); });
  return ok(json::object());
}

bool OpenEoApi::writes_records(const std::string& path) {
  return path.rfind("/openeo/1.2/jobs", 0) == 0 || path.rfind("/openeo/1.2/process_graphs", 0) == 0;
}

ApiResponse OpenEoApi::handle(const ApiRequest& req, const std::string& authorization) const {
  const std::string& p = req.path;
  const std::string prefix = "/openeo/1.2";
  const std::string rest = p.rfind(prefix, 0) == 0 ? p.substr(prefix.size()) : "";
  if (rest == "/jobs" || rest.rfind("/jobs/", 0) == 0) {
    if (!jobs_) return openeo_error(404, "NotFound", "this node runs no batch jobs");
    return jobs_->handle(req, rest.substr(5));
  }
  if (rest == "/process_graphs" || rest.rfind("/process_graphs/", 0) == 0) return process_graphs(req, rest.substr(15));
  if (rest == "/result" || rest == "/validation") {
    if (req.method != "POST") return openeo_error(405, "MethodNotAllowed", "use POST");
    return rest == "/result" ? result(req) : validation(req);
  }
  if (req.method != "GET") return openeo_error(405, "MethodNotAllowed", fmt::format("{} is not allowed on {}", req.method, p));
  if (p == "/.well-known/openeo") {
    return ok({{"versions", json::array({{{"url", req.base_url + "/openeo/1.2/"}, {"production", true}, {"api_version", kApiVersion}}})}});
  }
  if (p.rfind(prefix, 0) != 0) return openeo_error(404, "NotFound", fmt::format("no route {}", p));
  if (rest.empty() || rest == "/") return capabilities(req);
  if (rest == "/conformance") return ok({{"conformsTo", conformance()}});
  if (rest == "/credentials/basic") return login(authorization);
  if (rest == "/me") {
    const std::string& user = req.caller.owner;
    if (user.empty()) return openeo_error(401, "AuthenticationRequired", "log in first: GET /credentials/basic");
    const std::string name = user.rfind("user:", 0) == 0 ? user.substr(5) : user;
    return ok({{"user_id", name}, {"name", name}, {"links", json::array()}});
  }
  if (rest == "/collections") return collections(req);
  if (rest == "/processes") return ok({{"processes", openeo_processes()}, {"links", json::array()}});
  if (rest == "/file_formats") return ok(file_formats());
  if (rest.rfind("/collections/", 0) == 0 && rest.find('/', 13) == std::string::npos) return collection(req, rest.substr(13));
  return openeo_error(404, "NotFound", fmt::format("no route {} (the endpoints: {}/)", p, prefix));
}

}  // namespace sco::server
