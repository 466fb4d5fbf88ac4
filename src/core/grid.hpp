#pragma once
// The raster grid (size + affine transform + CRS text), windows on it, and the tiling of a grid into
// processing windows. Pure geometry: no I/O, so kernels and tests use it on in-memory rasters.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace sco::core {

// GDAL's affine order: x = t[0] + col*t[1] + row*t[2]; y = t[3] + col*t[4] + row*t[5].
using GeoTransform = std::array<double, 6>;

struct Window {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
  std::int64_t pixels() const { return static_cast<std::int64_t>(width) * height; }
  bool operator==(const Window&) const = default;
};

struct Grid {
  int width = 0;
  int height = 0;
  GeoTransform transform{0, 1, 0, 0, 0, 1};
  std::string crs_wkt;  // empty when the raster has no CRS

  // Same size and the same transform within a fraction `tolerance` of a cell; the CRS is compared by
  // io/ (it needs PROJ).
  bool same_geometry(const Grid& other, double tolerance = 1e-6) const;
  // "349x352 cells, origin (288776.25, 9120760.75), cell 28.5 x -28.5"
  std::string describe() const;
};

// Splits a width x height raster into windows of block_width x block_height, row-major; the last
// column and row of windows are clipped to the raster (odd sizes are the rule, not the exception).
class BlockLayout {
 public:
  BlockLayout(int width, int height, int block_width, int block_height);
  int blocks_across() const { return across_; }
  int blocks_down() const { return down_; }
  std::int64_t count() const { return static_cast<std::int64_t>(across_) * down_; }
  Window window(std::int64_t index) const;
  int block_width() const { return block_width_; }
  int block_height() const { return block_height_; }

 private:
  int width_, height_, block_width_, block_height_, across_, down_;
};

}  // namespace sco::core
