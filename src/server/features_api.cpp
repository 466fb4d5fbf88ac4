#include "server/features_api.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <regex>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/parse.hpp"
#include "server/params.hpp"

namespace sco::server {

using nlohmann::json;

namespace {

struct Box {
  double w = std::numeric_limits<double>::infinity(), s = w, e = -w, n = -w;
  void add(const json& c) {
    if (c.is_array() && c.size() >= 2 && c[0].is_number()) {
      w = std::min(w, c[0].get<double>());
      e = std::max(e, c[0].get<double>());
      s = std::min(s, c[1].get<double>());
      n = std::max(n, c[1].get<double>());
      return;
    }
    if (c.is_array()) {
      for (const auto& x : c) add(x);
    }
  }
  bool meets(double bw, double bs, double be, double bn) const { return !(e < bw || w > be || n < bs || s > bn); }
};

std::string text_of(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  if (v.is_number()) return fmt::format("{:.15g}", v.get<double>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return "";
}

ApiResponse fail(int status, const std::string& code, const std::string& what) { return error_response(status, code, what); }


}  // namespace

std::shared_ptr<const json> FeaturesApi::load(const std::string& path) const {
  std::error_code ec;
  const auto mtime = std::filesystem::last_write_time(path, ec);
  if (ec) return nullptr;
  const long long stamp = static_cast<long long>(mtime.time_since_epoch().count());
  std::lock_guard lock(mutex_);
  auto it = cache_.find(path);
  if (it != cache_.end() && it->second.first == stamp) return it->second.second;
  std::ifstream f(path, std::ios::binary);
  if (!f) return nullptr;
  auto doc = std::make_shared<json>(json::parse(f, nullptr, false));
  if (doc->is_discarded()) return nullptr;
  cache_[path] = {stamp, doc};
  return doc;
}

// A district table is visible as its indicator's collection is.
bool FeaturesApi::visible(const json& table, const Caller& caller) const {
  const auto c = store_.collection(table.value("recipe", ""));
  return may_see(caller, c ? visibility_of(*c) : std::string("public"));
}

ApiResponse FeaturesApi::output_file(const std::string& table_id, const std::string& file, std::string& path, const Caller& caller) const {
  static const std::regex safe("^[A-Za-z0-9][A-Za-z0-9._-]*$");
  if (!std::regex_match(file, safe)) return fail(400, "BadRequest", fmt::format("'{}' is not a file name", file));
  const auto t = store_.feature_table(table_id);
  if (!t) return fail(404, "NotFound", fmt::format("no collection '{}'", table_id));
  if (!visible(*t, caller)) return refusal_response(caller);
  path = (std::filesystem::path(t->value("path", "")).parent_path() / file).string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return fail(404, "NotFound", fmt::format("no file '{}' in the outputs of '{}'", file, table_id));
  return {200, "", ""};
}

ApiResponse FeaturesApi::handle(const ApiRequest& req) const {
  const std::string root = req.base_url + "/features";
  const std::string& p = req.path;
  static const std::regex coll_re("^/features/collections/([^/]+)$");
  static const std::regex items_re("^/features/collections/([^/]+)/items$");
  static const std::regex item_re("^/features/collections/([^/]+)/items/([^/]+)$");
  std::smatch m;
  auto link = [](const std::string& rel, const std::string& href, const std::string& type, const std::string& title = "") {
    json l = {{"rel", rel}, {"href", href}, {"type", type}};
    if (!title.empty()) l["title"] = title;
    return l;
  };
  auto collection_doc = [&](const json& t) {
    const std::string id = t.value("id", "");
    return json{{"id", id},
                {"title", t.value("title", id)},
                {"description", t.value("description", "")},
                {"itemType", "feature"},
                {"crs", json::array({"http://www.opengis.net/def/crs/OGC/1.3/CRS84"})},
                {"extent", {{"spatial", {{"bbox", json::array({t.value("bbox", json::array({-180, -90, 180, 90}))})}}}}},
                {"sco:recipe", t.value("recipe", "")},
                {"sco:run", t.value("run", "")},
                {"sco:id_column", t.value("id_column", "")},
                {"sco:units", t.value("units", "")},
                {"links", [&] {
                   json links = json::array({link("self", root + "/collections/" + id, "application/json"),
                                             link("items", root + "/collections/" + id + "/items", "application/geo+json")});
                   // The run's report and downloads, served from its output folder.
                   const std::string out = req.base_url + "/outputs/" + id + "/";
                   const std::string step = t.value("step", "");
                   links.push_back(link("describedby", out + "report.html", "text/html", "report"));
                   if (!step.empty()) {
                     links.push_back(link("enclosure", out + step + ".csv", "text/csv", "CSV"));
                     links.push_back(link("enclosure", out + step + ".geojson", "application/geo+json", "GeoJSON"));
                     links.push_back(link("enclosure", out + step + ".gpkg", "application/geopackage+sqlite3", "GeoPackage"));
                     // zonal.trend tables: each district's series over the steps (the web map's trend chart).
                     if (t.value("series", false)) links.push_back(link("related", out + step + "_series.json", "application/json", "series"));
                   }
                   links.push_back(link("enclosure", out + "provenance.json", "application/json", "provenance"));
                   return links;
                 }()}};
  };
  if (req.method != "GET") return fail(405, "MethodNotAllowed", "use GET");
  if (p == "/features" || p == "/features/") {
    return {200, "application/json",
            json_text(json{{"title", "sco observatory node: indicators per district"},
                 {"description", "OGC API - Features: the per-district tables of indicator runs"},
                 {"links", json::array({link("self", root, "application/json"), link("conformance", root + "/conformance", "application/json"),
                                        link("data", root + "/collections", "application/json"),
                                        link("service-desc", req.base_url + "/api", "application/vnd.oai.openapi+json;version=3.0")})}})};
  }
  if (p == "/features/conformance") {
    return {200, "application/json",
            json_text(json{{"conformsTo", {"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
                                 "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
                                 "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30"}}})};
  }
  if (p == "/features/collections") {
    json list = json::array();
    for (const auto& t : store_.feature_tables()) {
      if (visible(t, req.caller)) list.push_back(collection_doc(t));
    }
    return {200, "application/json",
            json_text(json{{"collections", list}, {"links", json::array({link("self", root + "/collections", "application/json")})}})};
  }
  if (std::regex_match(p, m, coll_re)) {
    const auto t = store_.feature_table(m[1]);
    if (!t) return fail(404, "NotFound", fmt::format("no collection '{}'", m[1].str()));
    if (!visible(*t, req.caller)) return refusal_response(req.caller);
    return {200, "application/json", json_text(collection_doc(*t))};
  }
  const bool items = std::regex_match(p, m, items_re);
  const bool one = !items && std::regex_match(p, m, item_re);
  if (!items && !one) return fail(404, "NotFound", fmt::format("no route GET {}", p));
  const auto t = store_.feature_table(m[1]);
  if (!t) return fail(404, "NotFound", fmt::format("no collection '{}'", m[1].str()));
  if (!visible(*t, req.caller)) return refusal_response(req.caller);
  const auto doc = load(t->value("path", ""));
  if (!doc) return fail(500, "ServerError", fmt::format("the table of '{}' cannot be read", m[1].str()));
  const std::string id_column = t->value("id_column", "");
  auto feature_id = [&](const json& f, std::size_t index) {
    const json& props = f.value("properties", json::object());
    if (!id_column.empty() && props.contains(id_column)) return text_of(props[id_column]);
    return std::to_string(index + 1);
  };
  const json& features = doc->at("features");
  if (one) {
    for (std::size_t i = 0; i < features.size(); ++i) {
      if (feature_id(features[i], i) == m[2].str()) {
        json f = features[i];
        f["id"] = m[2].str();
        f["links"] = json::array({link("self", root + "/collections/" + m[1].str() + "/items/" + m[2].str(), "application/geo+json"),
                                  link("collection", root + "/collections/" + m[1].str(), "application/json")});
        return {200, "application/geo+json", json_text(f)};
      }
    }
    return fail(404, "NotFound", fmt::format("no feature '{}' in '{}'", m[2].str(), m[1].str()));
  }
  // Items: bbox, limit, offset, property filters.
  long limit = 10, offset = 0;
  std::optional<std::array<double, 4>> bbox;
  std::vector<std::pair<std::string, std::string>> filters;
  const json sample_props = features.empty() ? json::object() : features[0].value("properties", json::object());
  for (const auto& param : req.query) {
    const std::string& k = param.first;  // named copies: lambdas cannot capture structured bindings in C++20 (clang)
    const std::string& v = param.second;
    try {
      if (k == "limit") limit = params::integer(v, 1, 10000, "limit");
      else if (k == "offset") offset = params::integer(v, 0, std::numeric_limits<int>::max(), "offset");
      else if (k == "bbox") {
        const catalog::BBox b = params::bbox(v, "bbox");
        bbox = std::array<double, 4>{b.west, b.south, b.east, b.north};
      } else if (k == "f") {
        if (v != "json" && v != "geojson") core::fail(core::ErrorCode::kInvalidInput, "f: only json is offered");
      } else if (sample_props.contains(k)) {
        filters.emplace_back(k, v);
      } else {
        core::fail(core::ErrorCode::kInvalidInput, "{}: unknown parameter (limit, offset, bbox, or a property of the features)", k);
      }
    } catch (const core::Error& e) {
      return error_response(e);
    }
  }
  json page = json::array();
  long matched = 0;
  for (std::size_t i = 0; i < features.size(); ++i) {
    const json& f = features[i];
    if (bbox) {
      Box b;
      if (f.contains("geometry") && f["geometry"].is_object()) b.add(f["geometry"].value("coordinates", json::array()));
      if (!b.meets((*bbox)[0], (*bbox)[1], (*bbox)[2], (*bbox)[3])) continue;
    }
    bool ok = true;
    const json& props = f.value("properties", json::object());
    for (const auto& [k, v] : filters) ok = ok && props.contains(k) && text_of(props[k]) == v;
    if (!ok) continue;
    if (matched >= offset && static_cast<long>(page.size()) < limit) {
      json out = f;
      out["id"] = feature_id(f, i);
      page.push_back(out);
    }
    ++matched;
  }
  json links = json::array({link("self", req.base_url + p, "application/geo+json"), link("collection", root + "/collections/" + m[1].str(), "application/json")});
  if (offset + limit < matched) {
    std::string q;
    for (const auto& [k, v] : req.query) {
      if (k != "offset") q += (q.empty() ? "?" : "&") + k + "=" + v;
    }
    q += fmt::format("{}offset={}", q.empty() ? "?" : "&", offset + limit);
    links.push_back(link("next", req.base_url + p + q, "application/geo+json"));
  }
  return {200, "application/geo+json",
          json_text(json{{"type", "FeatureCollection"}, {"features", page}, {"numberMatched", matched}, {"numberReturned", page.size()}, {"links", links}})};
}

}  // namespace sco::server
