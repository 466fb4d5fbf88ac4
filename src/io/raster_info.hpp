#pragma once
// What `sco info` reports about a raster, as JSON (the text form is rendered from the same data).
#include <string>

#include <nlohmann/json.hpp>

namespace sco::io {

// driver, size, grid, CRS (label + WKT), bounds (native and WGS 84), bands (type, block, nodata,
// scale/offset, mask, overviews, description), compression, whether it is a cloud-optimised
// GeoTIFF, metadata and subdatasets. With compute_stats, exact per-band min/max/mean/stddev.
nlohmann::json raster_info(const std::string& path, bool compute_stats);
std::string raster_info_text(const nlohmann::json& info);

}  // namespace sco::io
