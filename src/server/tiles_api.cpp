#include "server/tiles_api.hpp"

#include <cstdlib>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/parse.hpp"
#include "server/params.hpp"
#include "render/colormap.hpp"
#include "render/tile_renderer.hpp"

namespace sco::server {

using nlohmann::json;

bool TileCache::get(const std::string& key, std::string& value) {
  std::lock_guard lock(mutex_);
  const auto it = index_.find(key);
  if (it == index_.end()) return false;
  order_.splice(order_.begin(), order_, it->second);
  value = it->second->second;
  return true;
}

void TileCache::put(const std::string& key, const std::string& value) {
  if (value.size() > max_bytes_) return;
  std::lock_guard lock(mutex_);
  if (index_.count(key)) return;
  order_.emplace_front(key, value);
  index_[key] = order_.begin();
  bytes_ += key.size() + value.size();
  while (bytes_ > max_bytes_ && !order_.empty()) {
    const auto& last = order_.back();
    bytes_ -= last.first.size() + last.second.size();
    index_.erase(last.first);
    order_.pop_back();
  }
}

std::size_t TileCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

ApiResponse TilesApi::handle(const ApiRequest& req, const std::string& key) {
  static const std::regex tile_re(R"(^/tiles/([^/]+)/([^/]+)/([^/]+)/(\d+)/(\d+)/(\d+)\.png$)");
  static const std::regex tilejson_re(R"(^/tiles/([^/]+)/([^/]+)/([^/]+)/tilejson\.json$)");
  std::smatch m;
  const bool is_tile = std::regex_match(req.path, m, tile_re);
  const bool is_tilejson = !is_tile && std::regex_match(req.path, m, tilejson_re);
  if (!is_tile && !is_tilejson) return error_response(404, "NotFound", "tiles are /tiles/{collection}/{item}/{asset}/{z}/{x}/{y}.png");
  const std::string coll = m[1], item_id = m[2], asset = m[3];
  json a;
  if (ApiResponse r = find_asset(store_, req.caller, coll, item_id, asset, a); r.status != 200) return r;
  if (!a.contains("raster:bands")) return error_response(400, "InvalidParameterValue", fmt::format("asset '{}' is not a raster", asset));
  render::TileRequest t;
  t.source = a.value("sco:gdal_name", a.value("href", ""));
  try {
    for (const auto& [k, v] : req.query) {
      if (k == "bidx") {
        const auto b = params::bands(v, "bidx");
        t.bands.insert(t.bands.end(), b.begin(), b.end());
      } else if (k == "expression") {
        t.expression = v;
      } else if (k == "rescale") {
        const auto r = params::numbers(v, "rescale", 2, 2);
        if (!(r[1] > r[0])) core::fail(core::ErrorCode::kInvalidInput, "rescale: expected min,max with min < max, got '{}'", v);
        t.rescale_min = r[0];
        t.rescale_max = r[1];
        t.rescale_given = true;
      } else if (k == "colormap" || k == "colormap_name") {
        render::colormap(v);  // validates
        t.colormap = v;
      } else if (k == "resampling") {
        t.resampling = v;
      } else {
        core::fail(core::ErrorCode::kInvalidInput, "{}: unknown parameter (bidx, expression, rescale, colormap, resampling)", k);
      }
    }
    if (is_tilejson) {
      const render::SourceInfo info = render::source_info(t.source);
      std::string query;
      for (const auto& [k, v] : req.query) query += (query.empty() ? "?" : "&") + k + "=" + v;
      const std::string base = fmt::format("{}/tiles/{}/{}/{}", req.base_url, coll, item_id, asset);
      return {200, "application/json",
              json_text(json{{"tilejson", "3.0.0"},
                   {"name", coll + "/" + item_id + "/" + asset},
                   {"tiles", json::array({base + "/{z}/{x}/{y}.png" + query})},
                   {"minzoom", info.min_zoom},
                   {"maxzoom", info.max_zoom},
                   {"bounds", {info.west, info.south, info.east, info.north}},
                   {"center", {(info.west + info.east) / 2, (info.south + info.north) / 2, info.min_zoom + 2}}})};
    }
    // Web Mercator tile numbers: z up to 30 (GDAL's and every tile matrix set's limit), x and y
    // within 0 .. 2^z - 1.
    t.z = static_cast<int>(core::parse_integer(m[4].str(), 0, 30, "z"));
    t.x = static_cast<int>(core::parse_integer(m[5].str(), 0, (std::int64_t{1} << t.z) - 1, "x"));
    t.y = static_cast<int>(core::parse_integer(m[6].str(), 0, (std::int64_t{1} << t.z) - 1, "y"));
    std::string cached;
    if (cache_.get(key, cached)) return {200, "image/png", cached};
    const render::Tile tile = render::render_tile(t);
    cache_.put(key, tile.png);
    return {200, "image/png", tile.png};
  } catch (const core::Error& e) {
    return error_response(e);
  } catch (const std::out_of_range&) {
    return error_response(400, "InvalidParameterValue", "z, x, y: out of range");
  }
}

}  // namespace sco::server
