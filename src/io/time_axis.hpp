#pragma once
// The CF time axis of a NetCDF (or HDF5) variable opened through GDAL: the raw values, their
// units and calendar, decoded to dates with cube::decode_times.
#include <optional>
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

// The time axis, or nullopt when the dataset has no time dimension. A time axis that exists but
// cannot be used (no units, values beyond the calendar's years, steps that go back or repeat) is an
// error naming the file, never taken as "no time axis".
std::optional<TimeAxis> find_time_axis(const RasterDataset& dataset);

// The same, with no time dimension an error too.
TimeAxis read_time_axis(const RasterDataset& dataset);

}  // namespace sco::io
