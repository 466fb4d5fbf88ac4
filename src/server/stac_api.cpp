#include "server/stac_api.hpp"

#include <ogr_geometry.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/parse.hpp"
#include "core/url.hpp"
#include "core/version.hpp"
#include "server/item_text.hpp"
#include "server/params.hpp"

namespace sco::server {

using nlohmann::json;
using core::url_encode;

namespace {

constexpr int kDefaultLimit = 10;
constexpr int kMaxLimit = 10000;

struct ApiError {
  int status;
  std::string code, description;
};

// 401 (no token) or 403 (a token without the right) for a collection the caller may not see.
ApiError refusal_error(const Caller& caller) {
  const int status = refusal_status(caller);
  return status == 401 ? ApiError{401, "Unauthorized", "this collection needs a token (Authorization: Bearer TOKEN)"}
                       : ApiError{403, "Forbidden", "this token may not read this collection"};
}

[[noreturn]] void bad(const std::string& field, const std::string& why) {
  throw ApiError{400, "InvalidParameterValue", fmt::format("{}: {}", field, why)};
}

void set_datetime(const std::string& text, catalog::SearchQuery& q) {
  const params::Interval i = params::datetime(text, "datetime");
  q.datetime_start = i.start;
  q.datetime_end = i.end;
}

int parse_limit(const json& v) {
  if (!v.is_number_integer()) bad("limit", "expected an integer");
  const int limit = v.get<int>();
  if (limit < 1 || limit > kMaxLimit) bad("limit", fmt::format("must lie in 1..{}", kMaxLimit));
  return limit;
}

std::int64_t parse_token(const std::string& t) {
  if (t.rfind("next:", 0) != 0) bad("token", "not a token of this server");
  char* end = nullptr;
  const long long v = std::strtoll(t.c_str() + 5, &end, 10);
  if (*end || v < 0) bad("token", "not a token of this server");
  return v;
}

using GeometryPtr = std::unique_ptr<OGRGeometry, void (*)(OGRGeometry*)>;
GeometryPtr geometry_from_json(const json& g, const std::string& field) {
  if (!g.is_object() || !g.contains("type")) bad(field, "expected a GeoJSON geometry");
  OGRGeometry* geom = OGRGeometryFactory::createFromGeoJson(g.dump().c_str());
  if (!geom) bad(field, "not a valid GeoJSON geometry");
  return GeometryPtr(geom, [](OGRGeometry* p) { OGRGeometryFactory::destroyGeometry(p); });
}

struct Search {
  catalog::SearchQuery query;
  std::optional<json> intersects;
};

// Query parameters (GET) of /search or /collections/{id}/items.
Search search_from_query(const std::map<std::string, std::string>& params) {
  Search s;
  s.query.limit = kDefaultLimit;
  for (const auto& [k, v] : params) {
    if (k == "bbox") {
      s.query.bbox = params::bbox(v, "bbox");
    } else if (k == "datetime") {
      set_datetime(v, s.query);
    } else if (k == "limit") {
      s.query.limit = static_cast<int>(params::integer(v, 1, kMaxLimit, "limit"));
    } else if (k == "collections") {
      s.query.collections = params::split_list(v);
    } else if (k == "ids") {
      s.query.ids = params::split_list(v);
    } else if (k == "token") {
      s.query.after = parse_token(v);
    } else if (k == "intersects") {
      try {
        s.intersects = json::parse(v);
      } catch (const json::exception&) {
        bad("intersects", "not JSON");
      }
    } else if (k == "f") {
      if (v != "json" && v != "geojson") bad("f", "only json is offered");
    } else {
      bad(k, "unknown parameter (bbox, datetime, intersects, limit, collections, ids, token)");
    }
  }
  return s;
}

Search search_from_body(const std::string& body) {
  json b;
  try {
    b = json::parse(body.empty() ? "{}" : body);
  } catch (const json::parse_error& e) {
    throw ApiError{400, "InvalidRequestBody", fmt::format("not valid JSON at byte {}", e.byte)};
  } catch (const json::exception& e) {  // e.g. a number too large for a double
    std::string what = e.what();
    throw ApiError{400, "InvalidRequestBody", "not usable JSON: " + what.substr(what.find("] ") == std::string::npos ? 0 : what.find("] ") + 2)};
  }
  if (!b.is_object()) throw ApiError{400, "InvalidRequestBody", "expected a JSON object"};
  Search s;
  s.query.limit = kDefaultLimit;
  for (auto it = b.begin(); it != b.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (k == "bbox") {
      if (!v.is_array()) bad("bbox", "expected an array of numbers");
      std::vector<double> nums;
      for (const auto& x : v) {
        if (!x.is_number()) bad("bbox", "expected an array of numbers");
        nums.push_back(x.get<double>());
      }
      s.query.bbox = params::bbox(nums, "bbox");
    } else if (k == "datetime") {
      if (!v.is_string()) bad("datetime", "expected a string");
      set_datetime(v.get<std::string>(), s.query);
    } else if (k == "limit") {
      s.query.limit = parse_limit(v);
    } else if (k == "collections" || k == "ids") {
      if (!v.is_array()) bad(k, "expected an array of strings");
      for (const auto& x : v) {
        if (!x.is_string()) bad(k, "expected an array of strings");
        (k == "ids" ? s.query.ids : s.query.collections).push_back(x.get<std::string>());
      }
    } else if (k == "token") {
      if (!v.is_string()) bad("token", "expected a string");
      s.query.after = parse_token(v.get<std::string>());
    } else if (k == "intersects") {
      s.intersects = v;
    } else {
      bad(k, "unknown field (bbox, datetime, intersects, limit, collections, ids, token)");
    }
  }
  if (s.intersects && s.query.bbox) bad("intersects", "give bbox or intersects, not both");
  return s;
}

ApiResponse ok(const json& j, const std::string& type = "application/json") { return {200, type, json_text(j)}; }


}  // namespace

std::string json_text(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

ApiResponse error_response(int status, const std::string& code, const std::string& description) {
  return {status, "application/json", json_text(json{{"code", code}, {"description", description}})};
}

ApiResponse error_response(const core::Error& e) {
  switch (e.code()) {
    case core::ErrorCode::kInvalidInput: return error_response(400, "InvalidParameterValue", e.what());
    case core::ErrorCode::kNotFound: return error_response(404, "NotFound", e.what());
    case core::ErrorCode::kCancelled: return error_response(503, "ServiceUnavailable", e.what());
    case core::ErrorCode::kUnavailable: {
      ApiResponse r = error_response(503, "ServiceUnavailable", e.what());
      r.headers.push_back({"Retry-After", "5"});
      return r;
    }
    case core::ErrorCode::kIo:
    case core::ErrorCode::kInternal: break;
  }
  return error_response(500, "ServerError", e.what());
}

std::string StacApi::conformance_json() {
  return json_text(json{{"conformsTo",
               {"https://api.stacspec.org/v1.0.0/core", "https://api.stacspec.org/v1.0.0/collections",
                "https://api.stacspec.org/v1.0.0/item-search", "https://api.stacspec.org/v1.0.0/ogcapi-features",
                "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
                "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"}}});
}

namespace {

// One request's view of the catalog: links made absolute on this node, collections filtered by what
// the caller may see. Its methods are the routes under /stac.
class StacView {
 public:
  StacView(const catalog::CatalogStore& store, const ApiRequest& req) : store_(store), req_(req), root_(req.base_url + "/stac") {}

  ApiResponse landing() const {
    const std::string& root = root_;
    json links = json::array({{{"rel", "self"}, {"href", root}, {"type", "application/json"}},
                              {{"rel", "root"}, {"href", root}, {"type", "application/json"}},
                              {{"rel", "conformance"}, {"href", root + "/conformance"}, {"type", "application/json"}},
                              {{"rel", "data"}, {"href", root + "/collections"}, {"type", "application/json"}},
                              {{"rel", "search"}, {"href", root + "/search"}, {"type", "application/geo+json"}, {"method", "GET"}},
                              {{"rel", "search"}, {"href", root + "/search"}, {"type", "application/geo+json"}, {"method", "POST"}},
                              {{"rel", "service-desc"}, {"href", req_.base_url + "/api"}, {"type", "application/vnd.oai.openapi+json;version=3.0"}}});
    for (const auto& c : store_.collections()) {
      if (!may_see(req_.caller, visibility_of(c))) continue;
      links.push_back({{"rel", "child"}, {"href", root + "/collections/" + url_encode(c.value("id", ""))}, {"type", "application/json"},
                       {"title", c.value("title", c.value("id", ""))}});
    }
    return ok({{"type", "Catalog"}, {"stac_version", "1.0.0"}, {"id", "sco"}, {"title", "sco observatory node"},
               {"description", "STAC API of a sco Space Climate Observatory node"},
               {"conformsTo", json::parse(StacApi::conformance_json())["conformsTo"]}, {"links", links}});
  }

  ApiResponse collections() const {
    json list = json::array();
    for (auto& c : store_.collections()) {
      if (may_see(req_.caller, visibility_of(c))) list.push_back(collection_out(c));
    }
    return ok({{"collections", list},
               {"links", json::array({{{"rel", "self"}, {"href", root_ + "/collections"}, {"type", "application/json"}},
                                      {{"rel", "root"}, {"href", root_}, {"type", "application/json"}}})}});
  }

  ApiResponse collection(const std::string& id) const { return ok(collection_out(visible_collection(id))); }

  ApiResponse items(const std::string& id) const {
    visible_collection(id);
    if (req_.query.count("collections")) bad("collections", "not a parameter of a collection's items");
    Search s = search_from_query(req_.query);
    s.query.collections = {id};
    return search(s, false);
  }

  ApiResponse item(const std::string& coll, const std::string& id) const {
    visible_collection(coll);
    const auto found = store_.item(coll, id);
    if (!found) throw ApiError{404, "NotFound", fmt::format("no item '{}' in collection '{}'", id, coll)};
    ApiResponse r = ok(item_out(*found));
    r.content_type = "application/geo+json";
    return r;
  }

  ApiResponse search_route() const {
    if (req_.method == "GET") return search(search_from_query(req_.query), false);
    if (req_.method == "POST") return search(search_from_body(req_.body), true);
    throw ApiError{405, "MethodNotAllowed", "use GET or POST"};
  }

 private:
  json visible_collection(const std::string& id) const {
    const auto c = store_.collection(id);
    if (!c) throw ApiError{404, "NotFound", fmt::format("no collection '{}'", id)};
    if (!may_see(req_.caller, visibility_of(*c))) throw refusal_error(req_.caller);
    return *c;
  }

  // An item's standard links, absolute on this node.
  json item_links(const std::string& coll, const std::string& id) const {
    const std::string& root = root_;
    return json::array({{{"rel", "self"}, {"href", root + "/collections/" + url_encode(coll) + "/items/" + url_encode(id)}, {"type", "application/geo+json"}},
                        {{"rel", "parent"}, {"href", root + "/collections/" + url_encode(coll)}, {"type", "application/json"}},
                        {{"rel", "collection"}, {"href", root + "/collections/" + url_encode(coll)}, {"type", "application/json"}},
                        {{"rel", "root"}, {"href", root}, {"type", "application/json"}}});
  }

  // Stored documents carry links relative to the node; make them absolute and add the standard ones.
  // Assets stored as this node's files are served under /assets: clients get a URL, never a path.
  json item_out(json item) const {
    const std::string coll = item.value("collection", std::string());
    const std::string id = item.value("id", std::string());
    item = with_asset_urls(std::move(item), req_.base_url);
    item["links"] = item_links(coll, id);
    return item;
  }

  json collection_out(json c) const {
    const std::string id = c.value("id", std::string());
    const std::string& root = root_;
    c["links"] = json::array({{{"rel", "self"}, {"href", root + "/collections/" + url_encode(id)}, {"type", "application/json"}},
                              {{"rel", "items"}, {"href", root + "/collections/" + url_encode(id) + "/items"}, {"type", "application/geo+json"}},
                              {{"rel", "parent"}, {"href", root}, {"type", "application/json"}},
                              {{"rel", "root"}, {"href", root}, {"type", "application/json"}}});
    return c;
  }

  // Collections the caller may see (one member read per collection; a visibility that is not a
  // string is treated as private), and whether that is all of them.
  std::pair<bool, std::vector<std::string>> visible_ids() const {
    std::vector<std::string> ids;
    bool all = true;
    for (const auto& [id, v] : store_.collection_member("sco:visibility")) {
      if (may_see(req_.caller, v ? (v->empty() ? "private" : *v) : "public")) ids.push_back(id);
      else all = false;
    }
    return {all, ids};
  }

  // A search never reaches collections the caller may not see (results, counts, links).
  void restrict_to_visible(Search& s) const {
    const auto [all, ids] = visible_ids();
    if (all) return;
    std::vector<std::string> allowed;
    for (const auto& id : s.query.collections.empty() ? ids : s.query.collections) {
      if (std::find(ids.begin(), ids.end(), id) != ids.end()) allowed.push_back(id);
    }
    if (allowed.empty()) allowed.push_back("\x01none");  // nothing visible: an id no collection has
    s.query.collections = allowed;
  }

  // The items whose geometry intersects the area: the store's bbox search, then GEOS, page by page.
  catalog::SearchPage intersecting(const Search& s) const {
    catalog::SearchPage page;
    GeometryPtr area = geometry_from_json(*s.intersects, "intersects");
    OGREnvelope env;
    area->getEnvelope(&env);
    catalog::SearchQuery q = s.query;
    q.bbox = catalog::BBox{env.MinX, env.MinY, env.MaxX, env.MaxY};
    q.limit = std::max(q.limit, 100);
    while (true) {
      const catalog::SearchPage part = store_.search(q);
      for (std::size_t k = 0; k < part.items.size(); ++k) {
        const json& item = part.items[k];
        if (item.contains("geometry") && !item["geometry"].is_null()) {
          GeometryPtr g = geometry_from_json(item["geometry"], "geometry");
          if (g->Intersects(area.get())) page.items.push_back(item);
        }
        if (static_cast<int>(page.items.size()) == s.query.limit) {
          // More may follow: continue after this item.
          if (k + 1 < part.items.size() || part.next) page.next = part.keys[k];
          page.matched = -1;
          return page;
        }
      }
      if (!part.next) break;
      q.after = *part.next;
    }
    page.matched = -1;
    return page;
  }

  // The page's features as text: stored items are copied with their links replaced
  // (server/item_text), and parsed only when an asset href must change too.
  std::pair<std::string, std::size_t> features_text(catalog::SearchPage& page) const {
    auto links_of = [&](std::string_view id, std::string_view coll) { return json_text(item_links(std::string(coll), std::string(id))); };
    std::string features = "[";
    std::size_t returned = 0;
    auto add_feature = [&](const std::string& text) {
      if (returned++) features += ',';
      features += text;
    };
    for (auto& it : page.items) add_feature(json_text(item_out(std::move(it))));
    for (const auto& doc : page.documents) {
      if (auto text = served_item_text(doc, links_of)) {
        add_feature(*text);
      } else {
        add_feature(json_text(item_out(json::parse(doc))));
      }
    }
    return {features + ']', returned};
  }

  json next_link(std::int64_t next, bool post) const {
    const std::string token = fmt::format("next:{}", next);
    if (post) {
      json body = req_.body.empty() ? json::object() : json::parse(req_.body);
      body["token"] = token;
      return {{"rel", "next"}, {"href", req_.base_url + req_.path}, {"type", "application/geo+json"}, {"method", "POST"}, {"body", body}};
    }
    std::string q;
    for (const auto& [k, v] : req_.query) {
      if (k != "token") q += (q.empty() ? "?" : "&") + k + "=" + url_encode(v);
    }
    q += (q.empty() ? "?" : "&") + std::string("token=") + token;
    return {{"rel", "next"}, {"href", req_.base_url + req_.path + q}, {"type", "application/geo+json"}};
  }

  // One page of a search, with numberMatched / numberReturned and a next link.
  ApiResponse search(Search s, bool post) const {
    restrict_to_visible(s);
    catalog::SearchPage page;
    if (s.intersects) {
      page = intersecting(s);
    } else {
      s.query.raw = true;
      page = store_.search(s.query);
    }
    const auto [features, returned] = features_text(page);
    json links = json::array({{{"rel", "root"}, {"href", root_}, {"type", "application/json"}}});
    if (page.next) links.push_back(next_link(*page.next, post));
    std::string fc = "{\"type\":\"FeatureCollection\",\"features\":" + features + fmt::format(",\"numberReturned\":{}", returned);
    if (page.matched >= 0) fc += fmt::format(",\"numberMatched\":{}", page.matched);
    fc += ",\"links\":" + json_text(links) + "}";
    return ApiResponse{200, "application/geo+json", std::move(fc)};
  }

  const catalog::CatalogStore& store_;
  const ApiRequest& req_;
  const std::string root_;
};

struct StacRoute {
  std::regex pattern;
  const char* method;  // "" for any (the route answers 405 itself)
  std::function<ApiResponse(const StacView&, const std::smatch&)> handler;
};

// The routes under /stac.
const std::vector<StacRoute>& stac_routes() {
  static const std::vector<StacRoute> routes = {
      {std::regex("^/stac/?$"), "GET", [](const StacView& v, const std::smatch&) { return v.landing(); }},
      {std::regex("^/stac/conformance$"), "GET", [](const StacView&, const std::smatch&) { return ApiResponse{200, "application/json", StacApi::conformance_json()}; }},
      {std::regex("^/stac/collections$"), "GET", [](const StacView& v, const std::smatch&) { return v.collections(); }},
      {std::regex("^/stac/collections/([^/]+)$"), "GET", [](const StacView& v, const std::smatch& m) { return v.collection(m[1]); }},
      {std::regex("^/stac/collections/([^/]+)/items$"), "GET", [](const StacView& v, const std::smatch& m) { return v.items(m[1]); }},
      {std::regex("^/stac/collections/([^/]+)/items/([^/]+)$"), "GET", [](const StacView& v, const std::smatch& m) { return v.item(m[1], m[2]); }},
      {std::regex("^/stac/search$"), "", [](const StacView& v, const std::smatch&) { return v.search_route(); }},
  };
  return routes;
}

}  // namespace

ApiResponse StacApi::handle(const ApiRequest& req) const {
  try {
    const StacView view(store_, req);
    std::smatch m;
    for (const auto& r : stac_routes()) {
      if ((!*r.method || req.method == r.method) && std::regex_match(req.path, m, r.pattern)) return r.handler(view, m);
    }
    throw ApiError{404, "NotFound", fmt::format("no route {} {}", req.method, req.path)};
  } catch (const ApiError& e) {
    return error_response(e.status, e.code, e.description);
  } catch (const core::Error& e) {
    return error_response(e);
  }
}

ApiResponse refusal_response(const Caller& caller) {
  const ApiError e = refusal_error(caller);
  return error_response(e.status, e.code, e.description);
}

ApiResponse find_asset(const catalog::CatalogStore& store, const Caller& caller, const std::string& collection, const std::string& item_id,
                       const std::string& asset, json& found) {
  const auto c = store.collection(collection);
  if (!c) return error_response(404, "NotFound", fmt::format("no collection '{}'", collection));
  if (!may_see(caller, visibility_of(*c))) return refusal_response(caller);
  const auto item = store.item(collection, item_id);
  if (!item) return error_response(404, "NotFound", fmt::format("no item '{}' in collection '{}'", item_id, collection));
  if (!item->contains("assets") || !(*item)["assets"].contains(asset)) {
    return error_response(404, "NotFound", fmt::format("item '{}' has no asset '{}'", item_id, asset));
  }
  found = (*item)["assets"][asset];
  return {200, "", ""};
}

json with_asset_urls(json item, const std::string& base_url) {
  const std::string coll = item.value("collection", std::string());
  const std::string id = item.value("id", std::string());
  if (item.contains("assets") && item["assets"].is_object()) {
    for (auto it = item["assets"].begin(); it != item["assets"].end(); ++it) {
      if (!it->is_object()) continue;
      const std::string href = it->value("href", std::string());
      if (!href.empty() && href.find("://") == std::string::npos) {
        (*it)["href"] = base_url + "/assets/" + core::url_encode(coll) + "/" + core::url_encode(id) + "/" + core::url_encode(it.key());
      }
    }
  }
  return item;
}

ApiResponse StacApi::asset_file(const std::string& collection, const std::string& item_id, const std::string& asset, const Caller& caller,
                                std::string& path, std::string& type) const {
  json a;
  if (ApiResponse r = find_asset(store_, caller, collection, item_id, asset, a); r.status != 200) return r;
  path = a.value("href", std::string());
  type = a.value("type", std::string("application/octet-stream"));
  std::error_code ec;
  if (path.empty() || path.find("://") != std::string::npos || !std::filesystem::is_regular_file(path, ec)) {
    return error_response(404, "NotFound", fmt::format("asset '{}' of item '{}' is not a file of this node", asset, item_id));
  }
  return {200, "", ""};
}

std::string openapi_json(const std::string& base_url) {
  auto param = [](const char* name, const char* in, const char* type, const char* desc) {
    return json{{"name", name}, {"in", in}, {"required", std::string(in) == "path"}, {"schema", {{"type", type}}}, {"description", desc}};
  };
  const json search_params = json::array({param("bbox", "query", "string", "west,south,east,north in WGS 84"),
                                          param("datetime", "query", "string", "RFC 3339 instant or interval a/b, ../b, a/.."),
                                          param("intersects", "query", "string", "a GeoJSON geometry"),
                                          param("limit", "query", "integer", "1..10000, default 10"),
                                          param("collections", "query", "string", "comma-separated collection ids"),
                                          param("ids", "query", "string", "comma-separated item ids"),
                                          param("token", "query", "string", "paging token from a next link")});
  auto get = [](const char* summary, json params = json::array()) {
    return json{{"get", {{"summary", summary}, {"parameters", params},
                         {"responses", {{"200", {{"description", "OK"}}}, {"400", {{"description", "bad parameter (JSON error naming it)"}}},
                                        {"404", {{"description", "not found"}}}}}}}};
  };
  json paths = {
      {"/healthz", get("liveness: {\"status\": \"ok\"}")},
      {"/api", get("this OpenAPI document")},
      {"/stac", get("STAC API landing page")},
      {"/stac/conformance", get("conformance classes")},
      {"/stac/collections", get("collections")},
      {"/stac/collections/{collectionId}", get("one collection", json::array({param("collectionId", "path", "string", "collection id")}))},
      {"/stac/collections/{collectionId}/items", get("items of a collection", [&] {
         json p = search_params;
         p.push_back(param("collectionId", "path", "string", "collection id"));
         return p;
       }())},
      {"/stac/collections/{collectionId}/items/{itemId}",
       get("one item", json::array({param("collectionId", "path", "string", "collection id"), param("itemId", "path", "string", "item id")}))},
      {"/stac/search", get("item search", search_params)},
      {"/assets/{collectionId}/{itemId}/{asset}",
       get("an asset's bytes (HTTP range requests; the same access rules as its collection)",
           json::array({param("collectionId", "path", "string", "collection"), param("itemId", "path", "string", "item"),
                        param("asset", "path", "string", "asset key")}))},
      {"/features", get("OGC API - Features landing page: indicator tables per district")},
      {"/tiles/{collectionId}/{itemId}/{asset}/{z}/{x}/{y}.png",
       get("a Web Mercator tile (PNG; transparent outside the raster)",
           json::array({param("collectionId", "path", "string", "collection"), param("itemId", "path", "string", "item"),
                        param("asset", "path", "string", "asset key"), param("z", "path", "integer", "zoom 0..24"),
                        param("x", "path", "integer", "column"), param("y", "path", "integer", "row"),
                        param("bidx", "query", "string", "one band (coloured) or three (RGB), e.g. 4 or 3,2,1"),
                        param("expression", "query", "string", "band math over b1, b2, ... (needs rescale)"),
                        param("rescale", "query", "string", "min,max mapped to 0..255"),
                        param("colormap", "query", "string", "viridis, magma, rdylgn, brbg, blues, greys (_r reverses)"),
                        param("resampling", "query", "string", "nearest (default), bilinear, cubic, average, mode")}))},
      {"/tiles/{collectionId}/{itemId}/{asset}/tilejson.json", get("TileJSON 3.0 of an asset (same query parameters)")},
      {"/features/conformance", get("conformance classes")},
      {"/features/collections", get("the per-district tables of indicator runs")},
      {"/features/collections/{collectionId}", get("one table", json::array({param("collectionId", "path", "string", "table id")}))},
      {"/features/collections/{collectionId}/items",
       get("districts (GeoJSON); any property of the features filters by equality",
           json::array({param("collectionId", "path", "string", "table id"), param("limit", "query", "integer", "1..10000, default 10"),
                        param("offset", "query", "integer", "districts to skip"), param("bbox", "query", "string", "west,south,east,north (WGS 84)")}))},
      {"/features/collections/{collectionId}/items/{featureId}",
       get("one district, by the value of the run's --id field",
           json::array({param("collectionId", "path", "string", "table id"), param("featureId", "path", "string", "district id")}))},
      {"/taxii2/", get("TAXII 2.1 discovery (Accept: application/taxii+json;version=2.1; see docs/intel.md)")},
      {"/taxii2/sco/collections/", get("TAXII 2.1 collections of the node's security events (partner tokens)")},
      {"/taxii2/sco/collections/{collectionId}/objects/",
       get("STIX 2.1 objects, signed (added_after, limit, next, match[id|type|version|spec_version]); POST: partners' objects",
           json::array({param("collectionId", "path", "string", "collection id")}))},
  };
  paths["/stac/search"]["post"] = {{"summary", "item search (JSON body: bbox, datetime, intersects, limit, collections, ids, token)"},
                                   {"requestBody", {{"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}}},
                                   {"responses", {{"200", {{"description", "OK"}}}, {"400", {{"description", "bad field"}}},
                                                  {"413", {{"description", "body too large"}}}}}};
  return json_text(json{{"openapi", "3.0.3"},
              {"info", {{"title", "sco observatory node"}, {"version", core::kVersion}}},
              {"servers", json::array({{{"url", base_url}}})},
              {"paths", paths}});
}

}  // namespace sco::server
