#include "zonal/coverage.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace sco::zonal {

namespace {

// -closed integral of x dy over a ring, in cell coordinates: the ring's area with the sign that
// the accumulation below gives it.
double ring_measure(const std::vector<Point>& ring) {
  double s = 0.0;
  for (std::size_t i = 0; i + 1 < ring.size(); ++i) {
    s -= 0.5 * (ring[i].x + ring[i + 1].x) * (ring[i + 1].y - ring[i].y);
  }
  if (!ring.empty() && (ring.front().x != ring.back().x || ring.front().y != ring.back().y)) {
    s -= 0.5 * (ring.back().x + ring.front().x) * (ring.front().y - ring.back().y);
  }
  return s;
}

}  // namespace

ZoneEdges::ZoneEdges(const Zone& zone, const core::Grid& grid) {
  const auto& t = grid.transform;
  if (t[2] != 0.0 || t[4] != 0.0) {
    core::fail(core::ErrorCode::kInvalidInput, "rotated rasters are not supported for zonal statistics (warp them first)");
  }
  double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
  auto to_cell = [&](const Point& p) { return Point{(p.x - t[0]) / t[1], (p.y - t[3]) / t[5]}; };
  auto add_ring = [&](const std::vector<Point>& world, bool exterior) {
    if (world.size() < 3) return;
    std::vector<Point> ring;
    ring.reserve(world.size() + 1);
    for (const auto& p : world) {
      ring.push_back(to_cell(p));
      // Beyond 1e15 cells (a CRS mix-up, or a hostile file) the edge arithmetic would overflow.
      if (!(std::fabs(ring.back().x) < 1e15 && std::fabs(ring.back().y) < 1e15)) {
        core::fail(core::ErrorCode::kInvalidInput, "a zone has a vertex ({}, {}) more than 1e15 cells from the grid, or not a number", p.x, p.y);
      }
    }
    if (ring.front().x != ring.back().x || ring.front().y != ring.back().y) ring.push_back(ring.front());
    const double m = ring_measure(ring);
    // Exteriors count positively, holes negatively, whatever the file's orientation.
    const double sign = (m >= 0) == exterior ? 1.0 : -1.0;
    area_cells_ += sign * m;
    for (std::size_t i = 0; i + 1 < ring.size(); ++i) {
      Point a = ring[i], b = ring[i + 1];
      minx = std::min({minx, a.x, b.x});
      maxx = std::max({maxx, a.x, b.x});
      miny = std::min({miny, a.y, b.y});
      maxy = std::max({maxy, a.y, b.y});
      if (a.y == b.y) continue;  // horizontal edges enclose no height
      double s = sign;
      if (a.y > b.y) {
        std::swap(a, b);
        s = -s;
      }
      edges_.push_back({a.x, a.y, b.x, b.y, s});
    }
  };
  for (const auto& part : zone.parts) {
    add_ring(part.exterior, true);
    for (const auto& h : part.holes) add_ring(h, false);
  }
  if (edges_.empty()) {
    window_ = {0, 0, 0, 0};
    return;
  }
  // Clamped as doubles: a zone may reach far beyond the grid (1e216 cells would not fit an int).
  const auto cell = [](double v, int hi) { return static_cast<int>(std::clamp(v, 0.0, static_cast<double>(hi))); };
  const int c0 = cell(std::floor(minx), grid.width);
  const int r0 = cell(std::floor(miny), grid.height);
  const int c1 = cell(std::ceil(maxx), grid.width);
  const int r1 = cell(std::ceil(maxy), grid.height);
  window_ = {c0, r0, std::max(0, c1 - c0), std::max(0, r1 - r0)};
}

void ZoneEdges::coverage(int row0, int rows, std::vector<double>& out, Scratch& scratch) const {
  const int W = window_.width;
  const int stride = W + 1;  // one spare cell: pieces at the right edge spill their cover there
  const std::size_t need = static_cast<std::size_t>(stride) * rows;
  // acc is kept all-zero between calls (touched entries are reset below), so only growth costs.
  if (scratch.acc.size() < need) scratch.acc.resize(need, 0.0);
  if (scratch.touched.size() < static_cast<std::size_t>(rows)) scratch.touched.resize(static_cast<std::size_t>(rows));
  for (int r = 0; r < rows; ++r) scratch.touched[static_cast<std::size_t>(r)].clear();
  double* acc = scratch.acc.data();
  // Window-relative cell coordinates of this strip.
  const double ox = window_.x;
  const double oy = window_.y + row0;
  for (const Edge& e : edges_) {
    const double ya = e.y0 - oy, yb = e.y1 - oy;
    if (yb <= 0.0 || ya >= rows) continue;
    const double xa = e.x0 - ox, xb = e.x1 - ox;
    const double dxdy = (xb - xa) / (yb - ya);
    // (ya < rows and yb > 0 here; either may lie beyond the int range)
    const int first_row = static_cast<int>(std::max(0.0, std::floor(ya)));
    const int last_row = static_cast<int>(std::min(static_cast<double>(rows), std::ceil(yb))) - 1;
    for (int r = first_row; r <= last_row; ++r) {
      // The piece of the edge inside row r.
      const double y_top = std::max(ya, static_cast<double>(r));
      const double y_bot = std::min(yb, static_cast<double>(r + 1));
      if (y_bot <= y_top) continue;
      const double x_top = xa + (y_top - ya) * dxdy;
      const double x_bot = xa + (y_bot - ya) * dxdy;
      double* row = acc + static_cast<std::ptrdiff_t>(r) * stride;
      std::vector<int>& touched = scratch.touched[static_cast<std::size_t>(r)];
      // Walk the piece across columns, from its left end to its right end.
      double xl = x_top, yl = y_top, xr = x_bot, yr = y_bot;
      if (xl > xr) {
        std::swap(xl, xr);
        std::swap(yl, yr);
      }
      const double slope = (xr != xl) ? (yr - yl) / (xr - xl) : 0.0;  // dy per dx along the piece
      const auto y_at = [&](double x) { return x >= xr ? yr : yl + (x - xl) * slope; };
      double cx = xl, cy = yl;
      if (cx < 0.0) {
        // Left of the window, in one step however far it reaches: it covers whole cells from
        // column 0 on.
        const double x_end = std::min(xr, 0.0), y_end = y_at(x_end);
        if (const double h = std::abs(y_end - cy) * e.sign; h != 0.0) {
          row[0] += h;
          touched.push_back(0);
        }
        if (xr <= 0.0) continue;
        cx = x_end;
        cy = y_end;
      }
      if (cx >= W) continue;  // right of the window: covers nothing in it
      const double x_stop = std::min(xr, static_cast<double>(W));
      while (true) {
        const double col = std::floor(cx);
        const double next_x = std::min(x_stop, col + 1.0);
        const double ny = y_at(next_x);
        // Height swept by this sub-piece, signed by the edge's direction and the ring's role.
        if (const double h = std::abs(ny - cy) * e.sign; h != 0.0) {
          const int c = static_cast<int>(col);
          const double xm = 0.5 * (cx + next_x);
          const double a = h * (col + 1.0 - xm);
          row[c] += a;
          row[c + 1] += h - a;
          touched.push_back(c);
          touched.push_back(c + 1);
        }
        if (next_x >= x_stop) break;
        cx = next_x;
        cy = ny;
      }
    }
  }
  // Running sums along each row. Between touched columns the sum is constant, so interior runs are
  // filled in one go instead of adding zeros cell by cell.
  out.resize(static_cast<std::size_t>(W) * rows);
  auto clamp01 = [](double v) { return v < 1e-12 ? 0.0 : (v > 1.0 - 1e-12 ? 1.0 : v); };
  for (int r = 0; r < rows; ++r) {
    double* a = acc + static_cast<std::ptrdiff_t>(r) * stride;
    double* o = out.data() + static_cast<std::ptrdiff_t>(r) * W;
    std::vector<int>& touched = scratch.touched[static_cast<std::size_t>(r)];
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    double run = 0.0;
    int x = 0;
    for (int c : touched) {
      if (c >= W) {
        a[c] = 0.0;
        continue;
      }
      // Round-off leaves values like 1 + 1e-16, 1 - 1e-16 or -1e-17: cells within 1e-12 of 0 or 1
      // are snapped to it (a cell wholly inside is exactly 1, which lets runs of whole cells merge).
      std::fill(o + x, o + c, clamp01(run));
      run += a[c];
      a[c] = 0.0;
      o[c] = clamp01(run);
      x = c + 1;
    }
    std::fill(o + x, o + W, clamp01(run));
  }
}

}  // namespace sco::zonal
