#pragma once
// Exact coverage fractions: for each cell of a window, the fraction of its area inside a polygon.
//
// Method (Green's theorem, accumulated per row): every polygon edge is cut into pieces at row and
// column lines. A piece in row r, column c, going from (xa, ya) to (xb, yb) in cell units, covers
// the part of cell c to its right, dy * (c + 1 - (xa + xb) / 2), and the whole height dy of every
// cell further right. Accumulating the first term at c and the second from c + 1 on, then taking a
// running sum along the row, gives each cell's covered area exactly (up to floating-point round-off)
// for any polygon: holes subtract because their rings run the other way, and multipolygons add.
// Work is proportional to the boundary length in cells plus the window's area.
#include <cstdint>
#include <vector>

#include "core/grid.hpp"

namespace sco::zonal {

struct Point {
  double x;
  double y;
};

// A polygon with holes, in the raster's CRS. Ring orientation does not matter.
struct Polygon {
  std::vector<Point> exterior;
  std::vector<std::vector<Point>> holes;
};

// One zone: the polygons of a (multi)polygon.
struct Zone {
  std::vector<Polygon> parts;
};

// A zone converted to cell coordinates of one grid (column, row; rows grow downwards), as a flat
// list of oriented edges, ready for coverage computation.
class ZoneEdges {
 public:
  // Throws core::Error(kInvalidInput) for rotated grids (the transform must be north-up).
  ZoneEdges(const Zone& zone, const core::Grid& grid);

  // Cells of the grid the zone touches (clipped to the grid); empty when it lies outside.
  core::Window window() const { return window_; }
  bool empty() const { return window_.width <= 0 || window_.height <= 0; }
  // Area of the zone in cells (inside and outside the grid).
  double area_cells() const { return area_cells_; }

  // Per-thread scratch space for coverage(), reused between calls.
  struct Scratch {
    std::vector<double> acc;                  // (width + 1) x rows, all zero between calls
    std::vector<std::vector<int>> touched;    // per row: columns of acc that edges wrote to
  };

  // Fills `out` (window.width * rows values, row-major) with the coverage fractions of rows
  // [row0, row0 + rows) of window(), each in [0, 1].
  void coverage(int row0, int rows, std::vector<double>& out, Scratch& scratch) const;

 private:
  struct Edge {
    double x0, y0, x1, y1;  // y0 < y1 after normalisation; `sign` keeps the direction
    double sign;
  };
  std::vector<Edge> edges_;
  core::Window window_;
  double area_cells_ = 0.0;
};

}  // namespace sco::zonal
