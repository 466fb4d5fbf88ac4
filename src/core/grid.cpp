#include "core/grid.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/error.hpp"

namespace sco::core {

bool Grid::same_geometry(const Grid& other, double tolerance) const {
  if (width != other.width || height != other.height) return false;
  // Compare origins in units of the cell size, and cell sizes relatively.
  const double cell = std::max(std::abs(transform[1]), std::abs(transform[5]));
  for (int i : {0, 3}) {
    if (std::abs(transform[i] - other.transform[i]) > tolerance * cell) return false;
  }
  for (int i : {1, 2, 4, 5}) {
    if (std::abs(transform[i] - other.transform[i]) > tolerance * cell) return false;
  }
  return true;
}

std::string Grid::describe() const {
  return fmt::format("{}x{} cells, origin ({:.10g}, {:.10g}), cell {:.10g} x {:.10g}", width, height,
                     transform[0], transform[3], transform[1], transform[5]);
}

BlockLayout::BlockLayout(int width, int height, int block_width, int block_height)
    : width_(width), height_(height), block_width_(block_width), block_height_(block_height) {
  if (width <= 0 || height <= 0 || block_width <= 0 || block_height <= 0) {
    fail(ErrorCode::kInternal, "block layout needs positive sizes, got {}x{} in blocks of {}x{}", width,
         height, block_width, block_height);
  }
  across_ = (width + block_width - 1) / block_width;
  down_ = (height + block_height - 1) / block_height;
}

Window BlockLayout::window(std::int64_t index) const {
  const int bx = static_cast<int>(index % across_);
  const int by = static_cast<int>(index / across_);
  Window w;
  w.x = bx * block_width_;
  w.y = by * block_height_;
  w.width = std::min(block_width_, width_ - w.x);
  w.height = std::min(block_height_, height_ - w.y);
  return w;
}

}  // namespace sco::core
