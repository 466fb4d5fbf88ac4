#include "server/stac_api.hpp"

#include <ogr_geometry.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
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

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::stringstream ss(s);
  while (std::getline(ss, cur, sep)) {
    if (!cur.empty()) out.push_back(cur);
  }
  return out;
}

double number(const std::string& text, const std::string& field) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v)) bad(field, fmt::format("'{}' is not a number", text));
  return v;
}

catalog::BBox parse_bbox(const std::vector<double>& v, const std::string& field) {
  if (v.size() != 4 && v.size() != 6) bad(field, "expected 4 (or 6) numbers: west,south,east,north");
  const catalog::BBox b = v.size() == 4 ? catalog::BBox{v[0], v[1], v[2], v[3]} : catalog::BBox{v[0], v[1], v[3], v[4]};
  if (b.south > b.north) bad(field, "south is above north");
  if (b.south < -90 || b.north > 90 || b.west < -180 || b.east > 180) bad(field, "outside -180,-90,180,90");
  if (b.west > b.east) bad(field, "boxes crossing the antimeridian are not supported; split the box in two");
  return b;
}

// RFC 3339 date-time (any offset, taken to UTC; fractions of a second dropped as stored times have
// none), or a date (taken at 00:00:00Z, or 23:59:59Z for the end of an interval). Impossible dates
// (30 February, month 13, hour 99) are 400s naming the parameter.
std::string parse_instant(const std::string& s, const std::string& field, bool end) {
  std::string utc;
  try {
    utc = core::parse_rfc3339(s, field);
  } catch (const core::Error& e) {
    bad(field, e.what() + field.size() + 2);
  }
  if (s.size() == 10) return utc.substr(0, 10) + (end ? "T23:59:59Z" : "T00:00:00Z");
  return utc.substr(0, 19) + "Z";
}

void parse_datetime(const std::string& s, catalog::SearchQuery& q) {
  const auto slash = s.find('/');
  if (slash == std::string::npos) {
    q.datetime_start = parse_instant(s, "datetime", false);
    q.datetime_end = s.size() == 10 ? parse_instant(s, "datetime", true) : q.datetime_start;
    return;
  }
  const std::string a = s.substr(0, slash), b = s.substr(slash + 1);
  if ((a.empty() || a == "..") && (b.empty() || b == "..")) bad("datetime", "an interval needs at least one end");
  if (!a.empty() && a != "..") q.datetime_start = parse_instant(a, "datetime", false);
  if (!b.empty() && b != "..") q.datetime_end = parse_instant(b, "datetime", true);
  if (!q.datetime_start.empty() && !q.datetime_end.empty() && q.datetime_end < q.datetime_start) bad("datetime", "the interval ends before it starts");
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
      std::vector<double> nums;
      for (const auto& p : split(v, ',')) nums.push_back(number(p, "bbox"));
      s.query.bbox = parse_bbox(nums, "bbox");
    } else if (k == "datetime") {
      parse_datetime(v, s.query);
    } else if (k == "limit") {
      char* end = nullptr;
      const long l = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end) bad("limit", fmt::format("'{}' is not an integer", v));
      s.query.limit = parse_limit(json(l));
    } else if (k == "collections") {
      s.query.collections = split(v, ',');
    } else if (k == "ids") {
      s.query.ids = split(v, ',');
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
      s.query.bbox = parse_bbox(nums, "bbox");
    } else if (k == "datetime") {
      if (!v.is_string()) bad("datetime", "expected a string");
      parse_datetime(v.get<std::string>(), s.query);
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

ApiResponse StacApi::handle(const ApiRequest& req) const {
  const std::string root = req.base_url + "/stac";
  // An item's standard links, absolute on this node.
  auto item_links = [&](const std::string& coll, const std::string& id) {
    return json::array({{{"rel", "self"}, {"href", root + "/collections/" + url_encode(coll) + "/items/" + url_encode(id)}, {"type", "application/geo+json"}},
                        {{"rel", "parent"}, {"href", root + "/collections/" + url_encode(coll)}, {"type", "application/json"}},
                        {{"rel", "collection"}, {"href", root + "/collections/" + url_encode(coll)}, {"type", "application/json"}},
                        {{"rel", "root"}, {"href", root}, {"type", "application/json"}}});
  };
  // Stored documents carry links relative to the node; make them absolute and add the standard ones.
  auto item_out = [&](json item) {
    const std::string coll = item.value("collection", std::string());
    const std::string id = item.value("id", std::string());
    // Assets stored as this node's files are served under /assets: clients get a URL, never a path.
    if (item.contains("assets") && item["assets"].is_object()) {
      for (auto it = item["assets"].begin(); it != item["assets"].end(); ++it) {
        if (!it->is_object()) continue;
        const std::string href = it->value("href", std::string());
        if (!href.empty() && href.find("://") == std::string::npos) {
          (*it)["href"] = req.base_url + "/assets/" + url_encode(coll) + "/" + url_encode(id) + "/" + url_encode(it.key());
        }
      }
    }
    item["links"] = item_links(coll, id);
    return item;
  };
  auto collection_out = [&](json c) {
    const std::string id = c.value("id", std::string());
    c["links"] = json::array({{{"rel", "self"}, {"href", root + "/collections/" + url_encode(id)}, {"type", "application/json"}},
                              {{"rel", "items"}, {"href", root + "/collections/" + url_encode(id) + "/items"}, {"type", "application/geo+json"}},
                              {{"rel", "parent"}, {"href", root}, {"type", "application/json"}},
                              {{"rel", "root"}, {"href", root}, {"type", "application/json"}}});
    return c;
  };
  // One page of a search, with numberMatched / numberReturned and a next link.
  // Collections the caller may see; searches never reach the others (results, counts, links).
  auto visible_ids = [&] {
    std::vector<std::string> ids;
    bool all = true;
    // One member read per collection (searches run this on every request); a visibility that is not
    // a string is treated as private.
    for (const auto& [id, v] : store_.collection_member("sco:visibility")) {
      if (may_see(req.caller, v ? (v->empty() ? "private" : *v) : "public")) ids.push_back(id);
      else all = false;
    }
    return std::make_pair(all, ids);
  };
  auto run_search = [&](Search s, const std::string& self_path, bool post) {
    catalog::SearchPage page;
    {
      const auto [all, ids] = visible_ids();
      if (!all) {
        std::vector<std::string> allowed;
        for (const auto& id : s.query.collections.empty() ? ids : s.query.collections) {
          if (std::find(ids.begin(), ids.end(), id) != ids.end()) allowed.push_back(id);
        }
        if (allowed.empty()) allowed.push_back("\x01none");  // nothing visible: an id no collection has
        s.query.collections = allowed;
      }
    }
    if (s.intersects) {
      GeometryPtr area = geometry_from_json(*s.intersects, "intersects");
      OGREnvelope env;
      area->getEnvelope(&env);
      catalog::SearchQuery q = s.query;
      q.bbox = catalog::BBox{env.MinX, env.MinY, env.MaxX, env.MaxY};
      q.limit = std::max(q.limit, 100);
      while (true) {
        const catalog::SearchPage part = store_.search(q);
        bool full = false;
        for (std::size_t k = 0; k < part.items.size(); ++k) {
          const json& item = part.items[k];
          if (item.contains("geometry") && !item["geometry"].is_null()) {
            GeometryPtr g = geometry_from_json(item["geometry"], "geometry");
            if (g->Intersects(area.get())) page.items.push_back(item);
          }
          if (static_cast<int>(page.items.size()) == s.query.limit) {
            full = true;
            // More may follow: continue after this item.
            if (k + 1 < part.items.size() || part.next) page.next = part.keys[k];
            break;
          }
        }
        if (full || !part.next) break;
        q.after = *part.next;
      }
      page.matched = -1;
    } else {
      s.query.raw = true;
      page = store_.search(s.query);
    }
    // Features as text: stored items are copied with their links replaced (server/item_text), and
    // parsed only when an asset href must change too.
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
    features += ']';
    json links = json::array({{{"rel", "root"}, {"href", root}, {"type", "application/json"}}});
    if (page.next) {
      const std::string token = fmt::format("next:{}", *page.next);
      if (post) {
        json body = req.body.empty() ? json::object() : json::parse(req.body);
        body["token"] = token;
        links.push_back({{"rel", "next"}, {"href", req.base_url + self_path}, {"type", "application/geo+json"}, {"method", "POST"}, {"body", body}});
      } else {
        std::string q;
        for (const auto& [k, v] : req.query) {
          if (k != "token") q += (q.empty() ? "?" : "&") + k + "=" + url_encode(v);
        }
        q += (q.empty() ? "?" : "&") + std::string("token=") + token;
        links.push_back({{"rel", "next"}, {"href", req.base_url + self_path + q}, {"type", "application/geo+json"}});
      }
    }
    std::string fc = "{\"type\":\"FeatureCollection\",\"features\":" + features + fmt::format(",\"numberReturned\":{}", returned);
    if (page.matched >= 0) fc += fmt::format(",\"numberMatched\":{}", page.matched);
    fc += ",\"links\":" + json_text(links) + "}";
    return ApiResponse{200, "application/geo+json", std::move(fc)};
  };

  auto check_visible = [&](const json& c) {
    if (!may_see(req.caller, visibility_of(c))) {
      throw refusal_error(req.caller);
    }
  };
  try {
    const std::string& p = req.path;
    static const std::regex coll_re("^/stac/collections/([^/]+)$");
    static const std::regex items_re("^/stac/collections/([^/]+)/items$");
    static const std::regex item_re("^/stac/collections/([^/]+)/items/([^/]+)$");
    std::smatch m;
    if ((p == "/stac" || p == "/stac/") && req.method == "GET") {
      json links = json::array({{{"rel", "self"}, {"href", root}, {"type", "application/json"}},
                                {{"rel", "root"}, {"href", root}, {"type", "application/json"}},
                                {{"rel", "conformance"}, {"href", root + "/conformance"}, {"type", "application/json"}},
                                {{"rel", "data"}, {"href", root + "/collections"}, {"type", "application/json"}},
                                {{"rel", "search"}, {"href", root + "/search"}, {"type", "application/geo+json"}, {"method", "GET"}},
                                {{"rel", "search"}, {"href", root + "/search"}, {"type", "application/geo+json"}, {"method", "POST"}},
                                {{"rel", "service-desc"}, {"href", req.base_url + "/api"}, {"type", "application/vnd.oai.openapi+json;version=3.0"}}});
      for (const auto& c : store_.collections()) {
        if (!may_see(req.caller, visibility_of(c))) continue;
        links.push_back({{"rel", "child"}, {"href", root + "/collections/" + url_encode(c.value("id", ""))}, {"type", "application/json"},
                         {"title", c.value("title", c.value("id", ""))}});
      }
      return ok({{"type", "Catalog"}, {"stac_version", "1.0.0"}, {"id", "sco"}, {"title", "sco observatory node"},
                 {"description", "STAC API of a sco Space Climate Observatory node"},
                 {"conformsTo", json::parse(conformance_json())["conformsTo"]}, {"links", links}});
    }
    if (p == "/stac/conformance" && req.method == "GET") return {200, "application/json", conformance_json()};
    if (p == "/stac/collections" && req.method == "GET") {
      json list = json::array();
      for (auto& c : store_.collections()) {
        if (may_see(req.caller, visibility_of(c))) list.push_back(collection_out(c));
      }
      return ok({{"collections", list},
                 {"links", json::array({{{"rel", "self"}, {"href", root + "/collections"}, {"type", "application/json"}},
                                        {{"rel", "root"}, {"href", root}, {"type", "application/json"}}})}});
    }
    if (std::regex_match(p, m, coll_re) && req.method == "GET") {
      const auto c = store_.collection(m[1]);
      if (!c) throw ApiError{404, "NotFound", fmt::format("no collection '{}'", m[1].str())};
      check_visible(*c);
      return ok(collection_out(*c));
    }
    if (std::regex_match(p, m, items_re) && req.method == "GET") {
      const std::string id = m[1];
      const auto c = store_.collection(id);
      if (!c) throw ApiError{404, "NotFound", fmt::format("no collection '{}'", id)};
      check_visible(*c);
      if (req.query.count("collections")) bad("collections", "not a parameter of a collection's items");
      Search s = search_from_query(req.query);
      s.query.collections = {id};
      return run_search(s, p, false);
    }
    if (std::regex_match(p, m, item_re) && req.method == "GET") {
      const auto c = store_.collection(m[1]);
      if (!c) throw ApiError{404, "NotFound", fmt::format("no collection '{}'", m[1].str())};
      check_visible(*c);
      const auto item = store_.item(m[1], m[2]);
      if (!item) throw ApiError{404, "NotFound", fmt::format("no item '{}' in collection '{}'", m[2].str(), m[1].str())};
      ApiResponse r = ok(item_out(*item));
      r.content_type = "application/geo+json";
      return r;
    }
    if (p == "/stac/search") {
      if (req.method == "GET") return run_search(search_from_query(req.query), p, false);
      if (req.method == "POST") return run_search(search_from_body(req.body), p, true);
      throw ApiError{405, "MethodNotAllowed", "use GET or POST"};
    }
    throw ApiError{404, "NotFound", fmt::format("no route {} {}", req.method, p)};
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
