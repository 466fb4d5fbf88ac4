#include "zonal/cell_area.hpp"

#include <cmath>
#include <algorithm>
#include <numbers>

namespace sco::zonal {

double cell_area(const core::Grid& grid, const CellAreaModel& model, int row) {
  const auto& t = grid.transform;
  if (!model.geographic) {
    return std::abs(t[1] * t[5]) * model.metres_per_unit * model.metres_per_unit;
  }
  const double deg = std::numbers::pi / 180.0;
  const double lat_a = std::clamp(t[3] + row * t[5], -90.0, 90.0) * deg;
  const double lat_b = std::clamp(t[3] + (row + 1) * t[5], -90.0, 90.0) * deg;
  return kEarthRadius * kEarthRadius * std::abs(t[1] * deg) * std::abs(std::sin(lat_a) - std::sin(lat_b));
}

}  // namespace sco::zonal
