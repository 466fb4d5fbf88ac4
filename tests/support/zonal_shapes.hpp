#pragma once
// Small geometry helpers for zonal tests.
#include <vector>

#include "core/grid.hpp"
#include "zonal/coverage.hpp"

namespace sco::test {

// A north-up grid of unit cells whose top-left corner is (0, height): cell (col c, row r) spans
// x in [c, c + 1] and y in [height - r - 1, height - r].
inline core::Grid unit_grid(int w, int h) { return core::Grid{w, h, {0, 1, 0, static_cast<double>(h), 0, -1}, ""}; }

// A closed axis-aligned rectangle ring.
inline std::vector<zonal::Point> rect(double x0, double y0, double x1, double y1) {
  return {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}};
}

}  // namespace sco::test
