#include "zonal/coverage.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.hpp"
#include "support/zonal_shapes.hpp"

using namespace sco;
using namespace sco::zonal;
using sco::test::rect;
using sco::test::unit_grid;

namespace {

// Coverage of the whole grid (zeros outside the zone's window), row-major.
std::vector<double> full_coverage(const Zone& z, const core::Grid& g) {
  std::vector<double> out(static_cast<std::size_t>(g.width) * g.height, 0.0);
  ZoneEdges e(z, g);
  if (e.empty()) return out;
  std::vector<double> cov;
  ZoneEdges::Scratch scratch;
  e.coverage(0, e.window().height, cov, scratch);
  const auto w = e.window();
  for (int r = 0; r < w.height; ++r)
    for (int c = 0; c < w.width; ++c) out[static_cast<std::size_t>(w.y + r) * g.width + w.x + c] = cov[static_cast<std::size_t>(r) * w.width + c];
  return out;
}

double at(const std::vector<double>& cov, const core::Grid& g, int col, int row) { return cov[static_cast<std::size_t>(row) * g.width + col]; }

}  // namespace

TEST(Coverage, AxisAlignedRectangleIsProductOfOverlaps) {
  // x in [1.25, 3.5] overlaps columns 1, 2, 3 by 0.75, 1, 0.5; y in [6.5, 8.75] overlaps rows 1
  // (y 8..9), 2 (7..8), 3 (6..7) by 0.75, 1, 0.5. Each cell's coverage is the product.
  const auto g = unit_grid(10, 10);
  const auto cov = full_coverage(Zone{{{rect(1.25, 6.5, 3.5, 8.75), {}}}}, g);
  const double xs[] = {0, 0.75, 1, 0.5, 0, 0, 0, 0, 0, 0};
  const double ys[] = {0, 0.75, 1, 0.5, 0, 0, 0, 0, 0, 0};
  for (int r = 0; r < 10; ++r)
    for (int c = 0; c < 10; ++c) EXPECT_NEAR(at(cov, g, c, r), xs[c] * ys[r], 1e-12) << c << "," << r;
  EXPECT_NEAR(std::accumulate(cov.begin(), cov.end(), 0.0), 2.25 * 2.25, 1e-12);
}

TEST(Coverage, TriangleHalvesTheDiagonalCells) {
  // Triangle (0,0) (2,0) (0,2) on a 2x2 grid: below x + y = 2. Cell [0,1]x[0,1] (row 1, col 0) is
  // inside; [1,2]x[0,1] and [0,1]x[1,2] are cut in half along their diagonal; [1,2]x[1,2] is out.
  const auto g = unit_grid(2, 2);
  const auto cov = full_coverage(Zone{{{{{0, 0}, {2, 0}, {0, 2}, {0, 0}}, {}}}}, g);
  EXPECT_NEAR(at(cov, g, 0, 1), 1.0, 1e-12);
  EXPECT_NEAR(at(cov, g, 1, 1), 0.5, 1e-12);
  EXPECT_NEAR(at(cov, g, 0, 0), 0.5, 1e-12);
  EXPECT_NEAR(at(cov, g, 1, 0), 0.0, 1e-12);
}

TEST(Coverage, DiamondGivesHalvesAndWholes) {
  // |x - 2| + |y - 2| <= 2 on a 4x4 grid: the 4 inner cells are covered, the 8 cells along the
  // edges half (a triangle of half a cell), the 4 corner cells not at all. Area 8.
  const auto g = unit_grid(4, 4);
  const auto cov = full_coverage(Zone{{{{{2, 0}, {4, 2}, {2, 4}, {0, 2}, {2, 0}}, {}}}}, g);
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 4; ++c) {
      const bool inner = (r == 1 || r == 2) && (c == 1 || c == 2);
      const bool corner = (r == 0 || r == 3) && (c == 0 || c == 3);
      EXPECT_NEAR(at(cov, g, c, r), inner ? 1.0 : (corner ? 0.0 : 0.5), 1e-12) << c << "," << r;
    }
  }
}

TEST(Coverage, HoleSubtractsWhateverTheRingOrientation) {
  // Square [0,4]^2 with a hole [0.5,2.5]^2: cell [0,1]x[0,1] loses 0.5 x 0.5 = 0.25, cell
  // [1,2]x[1,2] is entirely in the hole, cell [2,3]x[2,3] loses 0.25, cell [0,1]x[1,2] loses 0.5.
  const auto g = unit_grid(4, 4);
  auto hole = rect(0.5, 0.5, 2.5, 2.5);
  for (bool reverse_hole : {false, true}) {
    auto h = hole;
    if (reverse_hole) std::reverse(h.begin(), h.end());
    const auto cov = full_coverage(Zone{{{rect(0, 0, 4, 4), {h}}}}, g);
    // world y [0,1] is row 3, [1,2] row 2, [2,3] row 1.
    EXPECT_NEAR(at(cov, g, 0, 3), 0.75, 1e-12);
    EXPECT_NEAR(at(cov, g, 1, 2), 0.0, 1e-12);
    EXPECT_NEAR(at(cov, g, 2, 1), 0.75, 1e-12);
    EXPECT_NEAR(at(cov, g, 0, 2), 0.5, 1e-12);
    EXPECT_NEAR(at(cov, g, 3, 0), 1.0, 1e-12);
    EXPECT_NEAR(std::accumulate(cov.begin(), cov.end(), 0.0), 16.0 - 4.0, 1e-12);
  }
}

TEST(Coverage, PolygonSmallerThanACell) {
  const auto g = unit_grid(3, 3);
  const auto cov = full_coverage(Zone{{{rect(1.2, 1.3, 1.4, 1.7), {}}}}, g);
  EXPECT_NEAR(at(cov, g, 1, 1), 0.2 * 0.4, 1e-12);
  EXPECT_NEAR(std::accumulate(cov.begin(), cov.end(), 0.0), 0.08, 1e-12);
}

TEST(Coverage, StraddlingTheEdgeCountsOnlyWhatIsInside) {
  // [-1, 1.5] x [2.5, 5] on a 4x4 grid whose top is y = 4: columns 0 (x 0..1) fully, 1 by 0.5;
  // rows 0 (y 3..4) fully, 1 (y 2..3) by 0.5.
  const auto g = unit_grid(4, 4);
  ZoneEdges e(Zone{{{rect(-1, 2.5, 1.5, 5), {}}}}, g);
  EXPECT_EQ(e.window(), (core::Window{0, 0, 2, 2}));
  const auto cov = full_coverage(Zone{{{rect(-1, 2.5, 1.5, 5), {}}}}, g);
  EXPECT_NEAR(at(cov, g, 0, 0), 1.0, 1e-12);
  EXPECT_NEAR(at(cov, g, 1, 0), 0.5, 1e-12);
  EXPECT_NEAR(at(cov, g, 0, 1), 0.5, 1e-12);
  EXPECT_NEAR(at(cov, g, 1, 1), 0.25, 1e-12);
  EXPECT_NEAR(e.area_cells(), 2.5 * 2.5, 1e-12);
  // Entirely outside: no window.
  EXPECT_TRUE(ZoneEdges(Zone{{{rect(10, 10, 12, 12), {}}}}, g).empty());
}

TEST(Coverage, MultipolygonPartsAdd) {
  const auto g = unit_grid(4, 4);
  const auto cov = full_coverage(Zone{{{rect(0, 0, 1, 1), {}}, {rect(2.5, 2.5, 4, 4), {}}}}, g);
  EXPECT_NEAR(at(cov, g, 0, 3), 1.0, 1e-12);
  EXPECT_NEAR(at(cov, g, 2, 1), 0.25, 1e-12);
  EXPECT_NEAR(std::accumulate(cov.begin(), cov.end(), 0.0), 1.0 + 2.25, 1e-12);
}

TEST(Coverage, StripsGiveTheSameAsOnePass) {
  // An irregular polygon with many vertices, computed in one pass and in strips of 3 rows.
  const auto g = unit_grid(40, 30);
  std::vector<Point> ring;
  for (int i = 0; i < 37; ++i) {
    const double a = 2 * 3.14159265358979 * i / 37;
    const double rad = 12 + 3 * std::sin(5 * a);
    ring.push_back({20 + rad * std::cos(a), 15 + rad * std::sin(a)});
  }
  ring.push_back(ring.front());
  ZoneEdges e(Zone{{{ring, {}}}}, g);
  std::vector<double> all, part;
  ZoneEdges::Scratch scratch;
  e.coverage(0, e.window().height, all, scratch);
  double total = 0;
  for (int r0 = 0; r0 < e.window().height; r0 += 3) {
    const int rows = std::min(3, e.window().height - r0);
    e.coverage(r0, rows, part, scratch);
    for (std::size_t i = 0; i < part.size(); ++i) {
      ASSERT_NEAR(part[i], all[static_cast<std::size_t>(r0) * e.window().width + i], 1e-12);
      total += part[i];
    }
  }
  EXPECT_NEAR(total, e.area_cells(), 1e-9);  // the polygon lies inside the grid
}

TEST(Coverage, ScaledAndOffsetGridsUseCellUnits) {
  // 30 m cells, origin (500000, 9000000): a 45 x 45 m square from the corner covers one cell, half
  // of two neighbours and a quarter of the diagonal one.
  const core::Grid g{5, 5, {500000, 30, 0, 9000000, 0, -30}, ""};
  ZoneEdges e(Zone{{{rect(500000, 9000000 - 45, 500045, 9000000), {}}}}, g);
  std::vector<double> cov;
  ZoneEdges::Scratch scratch;
  e.coverage(0, e.window().height, cov, scratch);
  ASSERT_EQ(e.window(), (core::Window{0, 0, 2, 2}));
  EXPECT_NEAR(cov[0], 1.0, 1e-12);
  EXPECT_NEAR(cov[1], 0.5, 1e-12);
  EXPECT_NEAR(cov[2], 0.5, 1e-12);
  EXPECT_NEAR(cov[3], 0.25, 1e-12);
  const core::Grid rotated{5, 5, {0, 1, 0.1, 5, 0, -1}, ""};
  EXPECT_THROW(ZoneEdges(Zone{{{rect(0, 0, 1, 1), {}}}}, rotated), core::Error);
}

TEST(Coverage, CellsWhollyInsideAreExactlyOne) {
  // A polygon whose many edges cut each row into pieces with coordinates that binary fractions
  // cannot hold (a regular 97-gon of radius 40.3 around (50.1, 49.7)): the pieces' heights add up
  // to 1 only up to round-off, and a cell wholly inside must still be exactly 1, which is what
  // lets the median's collector merge runs of whole cells. A cell is wholly inside when its four
  // corners are inside the polygon, which is convex.
  const auto g = unit_grid(100, 100);
  const double cx = 50.1, cy = 49.7, radius = 40.3, pi = std::acos(-1.0);
  const int sides = 97;
  std::vector<Point> ring;
  for (int i = 0; i <= sides; ++i) {
    const double a = 2 * pi * (i % sides) / sides;
    ring.push_back({cx + radius * std::cos(a), cy + radius * std::sin(a)});
  }
  // Inside the convex polygon: on the inner side of every edge.
  auto inside = [&](double x, double y) {
    for (int i = 0; i < sides; ++i) {
      const Point& p = ring[static_cast<std::size_t>(i)];
      const Point& q = ring[static_cast<std::size_t>(i) + 1];
      if ((q.x - p.x) * (y - p.y) - (q.y - p.y) * (x - p.x) < 1e-9) return false;
    }
    return true;
  };
  const auto cov = full_coverage(Zone{{{ring, {}}}}, g);
  int whole = 0;
  for (int r = 0; r < 100; ++r) {
    for (int c = 0; c < 100; ++c) {
      // Row r of the grid spans y in [99 - r, 100 - r] (north up).
      const double x0 = c, x1 = c + 1, y0 = 99 - r, y1 = 100 - r;
      if (inside(x0, y0) && inside(x1, y0) && inside(x0, y1) && inside(x1, y1)) {
        ++whole;
        ASSERT_EQ(at(cov, g, c, r), 1.0) << c << "," << r;
      }
    }
  }
  EXPECT_GT(whole, 4000);  // about pi x 39^2 cells
  // The total is still the polygon's area (n/2 R^2 sin(2 pi / n)).
  EXPECT_NEAR(std::accumulate(cov.begin(), cov.end(), 0.0), sides / 2.0 * radius * radius * std::sin(2 * pi / sides), 1e-8);
}

// Zones reaching far beyond the grid (found by fuzz_zones: the window's cell numbers overflowed an
// int, and an edge across a row was walked column by column, 2e9 steps here): the cells they cover
// are computed in time independent of how far they reach. Vertices beyond 1e15 cells, or not
// numbers, are errors.
TEST(Coverage, ZonesFarLargerThanTheGrid) {
  const auto g = unit_grid(6, 4);
  Polygon tri;  // every cell of the grid is inside
  tri.exterior = {{-1e14, -1e14}, {1e14, -1e13}, {0.0, 1e14}, {-1e14, -1e14}};
  const auto cov = full_coverage(Zone{{tri}}, g);
  for (double v : cov) EXPECT_DOUBLE_EQ(v, 1.0);
  // A sliver from x = -1e9 to 1e9 under the line from (-1e9, 1) to (1e9, 2): in the row of y 1..2
  // (row 2), each cell is covered up to y = 1.5 + x / 2e9, so by 0.5 + x_centre / 2e9.
  Polygon sliver;
  sliver.exterior = {{-1e9, 1.0}, {1e9, 2.0}, {1e9, 1.0}, {-1e9, 1.0}};
  const auto s = full_coverage(Zone{{sliver}}, g);
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 6; ++c) EXPECT_NEAR(at(s, g, c, r), r == 2 ? 0.5 + (c + 0.5) / 2e9 : 0.0, 1e-7) << c << "," << r;
  for (const double bad_x : {1e200, static_cast<double>(NAN), static_cast<double>(INFINITY)}) {
    Polygon bad;
    bad.exterior = {{0, 0}, {bad_x, 1}, {1, 1}, {0, 0}};
    EXPECT_THROW(ZoneEdges(Zone{{bad}}, g), core::Error) << bad_x;
  }
}
