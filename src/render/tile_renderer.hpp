#pragma once
// Web Mercator XYZ tiles from any raster in any CRS: the tile's box is warped from the overview
// level whose resolution matches the zoom (so a tile costs about the same at every zoom), bands are
// selected (bidx) or combined (expression over b1, b2, ...), rescaled to 0..255, coloured through a
// colour map (one band) or shown as RGB (three), nodata and the outside of the raster transparent,
// and encoded as PNG. Each rendering slot keeps its own open datasets; decoded blocks are shared.
#include <array>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace sco::render {

struct TileRequest {
  std::string source;  // a file or GDAL dataset name
  int z = 0, x = 0, y = 0;
  int size = 256;
  std::vector<int> bands;       // 1-based; empty: band 1
  std::string expression;       // over b1, b2, ...; replaces `bands`
  bool rescale_given = false;
  double rescale_min = 0, rescale_max = 255;  // default: 0..255 for bytes, the band's range otherwise
  std::string colormap;         // one output band only; empty: greys
  std::string resampling = "nearest";  // nearest, bilinear, cubic, average, mode
};

struct Tile {
  std::string png;
  bool empty = false;  // outside the raster: a fully transparent tile
};

// Throws core::Error: kInvalidInput naming the parameter (bands, expression, colormap, resampling,
// tile numbers), kNotFound / kIo for the source.
Tile render_tile(const TileRequest& request);

// Bytes of decoded source blocks kept for tiles, shared by all rendering threads (default 512 MiB).
void set_block_cache_bytes(std::size_t bytes);

// The tile's box in EPSG:3857 metres: west, south, east, north.
std::array<double, 4> tile_bounds(int z, int x, int y);
// The raster's bounds in WGS 84 and the zoom levels worth serving (for TileJSON).
struct SourceInfo {
  double west = 0, south = 0, east = 0, north = 0;
  int min_zoom = 0, max_zoom = 0;
  int band_count = 0;
};
SourceInfo source_info(const std::string& source);

}  // namespace sco::render
