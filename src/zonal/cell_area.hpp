#pragma once
// The area of one cell of each row, in square metres.
//   projected CRS: |dx * dy| * (metres per CRS unit)^2, the same for every row (planar);
//   geographic CRS: the cell is a spherical quadrangle, R^2 * dlon * |sin(lat_top) - sin(lat_bottom)|
//   with R = 6371008.8 m, the IUGG mean Earth radius (Moritz 2000, Geodetic Reference System 1980).
#include "core/grid.hpp"

namespace sco::zonal {

struct CellAreaModel {
  bool geographic = false;
  double metres_per_unit = 1.0;  // projected CRS
};

inline constexpr double kEarthRadius = 6371008.8;

// Area of one cell in `row` of `grid`.
double cell_area(const core::Grid& grid, const CellAreaModel& model, int row);

}  // namespace sco::zonal
