#pragma once
// zonal::BandReader over GDAL: each instance (one per worker thread) opens its own handles and
// reads windows of the listed bands, with nodata, masks and scale/offset.
#include <memory>
#include <string>
#include <vector>

#include "zonal/zonal_engine.hpp"

namespace sco::io {

struct BandSpec {
  std::string path;
  int band = 1;
};

// Opens the bands; `weights` may have an empty path.
std::unique_ptr<zonal::BandReader> make_gdal_band_reader(const std::vector<BandSpec>& bands, const BandSpec& weights);

}  // namespace sco::io
