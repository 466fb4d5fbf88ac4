#pragma once
// A picture of a single-band raster for reports: read downsampled (nearest cell, so classes stay
// classes), stretched between two values, coloured through a 256-entry table, nodata transparent,
// encoded as PNG by GDAL.
#include <array>
#include <cstdint>
#include <string>

#include "core/grid.hpp"

namespace sco::io {

using ColourTable = std::array<std::array<std::uint8_t, 3>, 256>;

struct MapPicture {
  std::string png;         // the encoded bytes
  int width = 0, height = 0;
  double low = 0, high = 0;  // the values at the table's two ends
  core::Grid grid;         // the raster's grid (the picture covers all of it)
};

// `max_size`: the picture's longer side in pixels. The stretch is the 2nd..98th percentile of the
// valid values unless `low` < `high` are given. `band`: the band drawn (1-based).
MapPicture render_map_picture(const std::string& raster, const ColourTable& colours, int max_size,
                              double low = 0.0, double high = 0.0, int band = 1);

}  // namespace sco::io
