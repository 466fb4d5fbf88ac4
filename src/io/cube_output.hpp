#pragma once
// Data cubes written as files for clients (openEO's save_result): several bands of one grid as one
// cloud-optimised GeoTIFF, or bands x dates as one netCDF-4 file following the CF conventions (1.8:
// a time coordinate in days since 1970-01-01 of the standard calendar, x / y coordinates of the
// cell centres, the CRS as a grid mapping, one float32 variable per band over (time, y, x), NaN as
// missing). Both are written under a temporary name and renamed when complete.
#include <string>
#include <vector>

#include "core/cancel.hpp"
#include "core/grid.hpp"

namespace sco::io {

struct CubeBand {
  std::string name;  // the band's name (a variable of the netCDF, a band description of the GeoTIFF)
  std::string path;  // a raster on the cube's grid
  int band = 1;
};

// The bands stacked in order into one COG (float32, NaN as nodata).
// `cancel` stops the writing (nothing is left behind).
// `creation_options` (KEY=VALUE) override sco's COG options.
void write_band_stack(const std::vector<CubeBand>& bands, const std::string& path, int threads, const core::CancelToken* cancel = nullptr,
                      const std::vector<std::string>& creation_options = {});

// slices[t][b]: band b of time step t (every step has the same bands, in `band_names` order);
// dates[t] RFC 3339 (a CF time axis), or other labels (a text coordinate t); no dates: one slice and
// no t dimension (a cube reduced over time: variables of y and x). The grid must be north-up.
void write_netcdf_cube(const core::Grid& grid, const std::vector<std::string>& band_names, const std::vector<std::string>& dates,
                       const std::vector<std::vector<CubeBand>>& slices, const std::string& path, const core::CancelToken* cancel = nullptr);

}  // namespace sco::io
