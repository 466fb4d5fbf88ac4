#pragma once
// Bringing inputs onto one working grid: the window of a reference grid that covers an area of
// interest, and virtual rasters (GDAL VRT) presenting any input on that grid, either as a plain
// window (grids aligned) or warped with a stated resampling method. Nothing is copied: the VRT is
// read block by block like any raster.
#include <optional>
#include <string>

#include "core/grid.hpp"

namespace sco::io {

struct VectorZones;

struct Bounds {
  double min_x = 0, min_y = 0, max_x = 0, max_y = 0;
  std::string describe() const;
};

// The extent of the zones in the CRS `crs_wkt` (edges densified, so curved edges after
// reprojection are enclosed). Zones without CRS are taken as already in it.
Bounds zones_bounds(const VectorZones& zones, const std::string& crs_wkt);
Bounds grid_bounds(const core::Grid& grid);
// A box from one CRS to another (edges densified); each pair's transformation made once per process.
// `what` names the box in errors.
Bounds transform_bounds(const Bounds& box, const std::string& from_wkt, const std::string& to_wkt, const std::string& what);
// The WKT of EPSG:code, looked up once per process.
const std::string& epsg_wkt(int code);

// The part of `grid` covering `bounds`, widened by `margin` cells and clipped to the grid. Returns
// false when they do not overlap.
bool crop_grid(const core::Grid& grid, const Bounds& bounds, int margin, core::Grid& cropped);

// GDAL's resampling names: near, bilinear, cubic, cubicspline, lanczos, average, mode, min, max,
// med, q1, q3, sum. Throws naming the method otherwise.
void check_resampling(const std::string& method);

// The WKT of a CRS given as EPSG:n, WKT or PROJJSON; throws naming the text otherwise.
std::string crs_wkt_of(const std::string& user_input);
// `source` resampled: warped to `crs_wkt` (empty: kept; the extent and cell size GDAL suggests), then
// given cells of `resolution` units (0: kept) over the same extent, north up.
core::Grid resampled_grid(const core::Grid& source, const std::string& crs_wkt, double resolution);

// Where `target` lies in `source_grid` when it is a plain window of it: same CRS and cell size, a
// whole-cell offset, and every cell of `target` inside `source_grid`. Otherwise nothing (a read needs
// a VRT's padding or a warp).
std::optional<core::Window> aligned_window(const core::Grid& source_grid, const core::Grid& target);

// Writes `vrt_path`: `source` (a file or GDAL subdataset name, all bands) on `target`. When the
// source's grid is `source_grid` aligned with `target` (same CRS and cell size, whole-cell offset)
// the VRT is a window; otherwise a warp with `resampling`. Returns true when it warps.
bool write_aligned_vrt(const std::string& source, const core::Grid& source_grid, const core::Grid& target,
                       const std::string& resampling, const std::string& vrt_path);

}  // namespace sco::io
