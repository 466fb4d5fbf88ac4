#pragma once
// A cloud-optimised GeoTIFF's overviews, computed while the full-resolution tiles stream by (no I/O).
//
// The levels are those of GDAL's COG driver: each half the size of the one before (rounded down),
// until both sides fit in one tile. Each level is computed from the one before, as GDAL does, so its
// pixels equal GDAL's own overviews: AVERAGE weights each source pixel by the part of it that falls
// in the destination pixel (an exact 2 x 2 mean when the sizes halve exactly; an odd size gives
// fractional weights), skipping nodata and NaN, rounding half up for integers; NEAREST takes the
// source pixel at floor(i * ratio + 0.5). Full-resolution tiles arrive in row-major order; each
// level keeps only the rows of its current band of tiles and the few rows the next level still
// needs, and hands each finished tile (padded with nodata) to a sink.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "core/data_type.hpp"

namespace sco::codec {

enum class Resampling { kNearest, kAverage };
const char* resampling_name(Resampling r);  // "NEAREST", "AVERAGE": as GDAL names them

// Sizes of the overview levels of a width x height image tiled in `tile` x `tile`, largest first.
std::vector<std::pair<int, int>> overview_sizes(int width, int height, int tile);

struct PyramidShape {
  int width = 0;
  int height = 0;
  int tile = 512;
  int samples = 1;  // interleaved samples per pixel
  core::DataType type = core::DataType::kFloat32;
  bool has_nodata = false;
  double nodata = 0.0;
  Resampling resampling = Resampling::kAverage;
  int levels = -1;  // -1: as GDAL (overview_sizes); 0: none
};

class OverviewPyramid {
 public:
  // level: 1 for the first (largest) overview; index: the tile's row-major index in its level;
  // pixels: one whole padded tile.
  using TileSink = std::function<void(int level, std::int64_t index, std::vector<std::byte> pixels)>;

  OverviewPyramid(const PyramidShape& shape, TileSink sink);
  ~OverviewPyramid();
  OverviewPyramid(const OverviewPyramid&) = delete;
  OverviewPyramid& operator=(const OverviewPyramid&) = delete;

  int levels() const { return static_cast<int>(levels_.size()) - 1; }
  std::pair<int, int> size(int level) const;  // 0: full resolution
  std::int64_t tiles(int level) const;

  // The full-resolution tile `index` (row-major), a whole tile of tile x tile pixels; in order, one
  // caller at a time. Cheap: the tile is copied into its band of rows; a band completed waits for
  // `advance`, which any thread may call while tiles keep arriving.
  void add_full_tile(std::int64_t index, const std::byte* pixels);
  // Computes the overview rows of every completed band, in order, handing finished tiles to the sink.
  // Returns false at once, doing nothing, when another thread is advancing.
  bool advance(bool wait);
  bool bands_waiting();

 private:
  struct Level;
  void push_rows(std::size_t level, int rows);
  void emit_bands(std::size_t level);
  void compute_next(std::size_t level);
  void trim(std::size_t level);

  PyramidShape shape_;
  TileSink sink_;
  std::size_t pixel_bytes_;
  std::vector<std::unique_ptr<Level>> levels_;
  std::int64_t next_full_ = 0;
  std::vector<std::byte> incoming_;  // the band of full-resolution rows being filled
  std::mutex bands_mutex_;           // guards bands_
  std::deque<std::pair<int, std::vector<std::byte>>> bands_;  // completed bands: rows, pixels
  std::mutex advance_mutex_;         // one thread computes the levels at a time
};

}  // namespace sco::codec
