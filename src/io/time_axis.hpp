#pragma once
// The CF time axis of a NetCDF (or HDF5) variable opened through GDAL: the raw values, their
// units and calendar, decoded to dates with cube::decode_times.
#include <string>
#include <vector>

#include "cube/cf_time.hpp"

namespace sco::io {

class RasterDataset;

struct TimeAxis {
  std::string dimension;  // "time"
  std::vector<double> values;
  std::string units;
  std::string calendar;
  std::vector<cube::DateTime> dates;
};

// Throws kInvalidInput naming the file when it has no time dimension or its units cannot be decoded.
TimeAxis read_time_axis(const RasterDataset& dataset);

}  // namespace sco::io
