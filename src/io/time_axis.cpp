#include "io/time_axis.hpp"

#include <cstdlib>

#include "core/error.hpp"
#include "io/raster_dataset.hpp"

namespace sco::io {

TimeAxis read_time_axis(const RasterDataset& ds) {
  auto axis = find_time_axis(ds);
  if (!axis) core::fail(core::ErrorCode::kInvalidInput, "'{}' has no time dimension", ds.path());
  return std::move(*axis);
}

std::optional<TimeAxis> find_time_axis(const RasterDataset& ds) {
  TimeAxis axis;
  const auto md = ds.metadata();
  auto get = [&](const std::string& key) -> std::string {
    for (const auto& [k, v] : md) {
      if (k == key) return v;
    }
    return "";
  };
  // GDAL's netCDF driver lists extra dimensions as NETCDF_DIM_EXTRA={time} and their values as
  // NETCDF_DIM_time_VALUES={v1,v2,...}; the variable's attributes come as time#units etc.
  for (const std::string name : {"time", "t", "Time"}) {
    const std::string values = get("NETCDF_DIM_" + name + "_VALUES");
    if (values.empty()) continue;
    axis.dimension = name;
    const char* p = values.c_str();
    while (*p) {
      if (*p == '{' || *p == ',' || *p == '}' || *p == ' ') {
        ++p;
        continue;
      }
      char* end = nullptr;
      const double v = std::strtod(p, &end);
      if (end == p) core::fail(core::ErrorCode::kInvalidInput, "'{}': cannot read the {} values '{}'", ds.path(), name, values);
      axis.values.push_back(v);
      p = end;
    }
    axis.units = get(name + "#units");
    axis.calendar = get(name + "#calendar");
    break;
  }
  if (axis.dimension.empty()) return std::nullopt;
  if (axis.units.empty()) core::fail(core::ErrorCode::kInvalidInput, "'{}': the {} axis has no units", ds.path(), axis.dimension);
  try {
    axis.dates = cube::decode_times(axis.values, axis.units, axis.calendar);
  } catch (const core::Error& e) {
    core::fail(core::ErrorCode::kInvalidInput, "'{}': {}", ds.path(), e.what());
  }
  // Steps are taken in file order as time order (periods, runs, trends): a time axis that goes
  // back or repeats a step is refused before any work.
  for (std::size_t i = 1; i < axis.values.size(); ++i) {
    if (!(axis.values[i] > axis.values[i - 1])) {
      core::fail(core::ErrorCode::kInvalidInput,
                 "'{}': the {} axis is not strictly increasing: step {} ({}) {} step {} ({}); sort the file by time (e.g. cdo sorttime)",
                 ds.path(), axis.dimension, i + 1, axis.dates[i].iso(), axis.values[i] == axis.values[i - 1] ? "repeats" : "comes before", i,
                 axis.dates[i - 1].iso());
    }
  }
  return axis;
}

}  // namespace sco::io
