#pragma once
// The warp kernel of tiles, free of I/O: where each output pixel's centre falls in the source
// (interpolated between exactly transformed points of a coarse grid, as GDAL's approximate
// transformer does, with the error measured rather than assumed), and the source values sampled
// there (nearest or bilinear), nodata and the outside of the source as NaN.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "core/data_type.hpp"

namespace sco::render {

// Output pixel (i, j) of a size x size tile -> source pixel coordinates (x right, y down; pixel
// (c, r) covers [c, c+1) x [r, r+1)). NaN where the point has no image (outside the projection).
struct PixelCoordinates {
  int size = 0;
  std::unique_ptr<float[]> x, y;  // size * size, row-major (left uninitialised until filled)
  // The range of the finite coordinates (a box holding every one; min > max when there is none).
  float min_x = 0, max_x = -1, min_y = 0, max_y = -1;
  std::size_t count() const { return static_cast<std::size_t>(size) * static_cast<std::size_t>(size); }
};

// `transform(u, v, n)`: output pixel positions (u, v), in place to source pixel coordinates;
// returns per point whether it succeeded (vector<char> of n). Computes the exact positions on a grid
// of pixel centres every `step` pixels and interpolates bilinearly between them when the exact
// position at every grid cell's centre is within `max_error` source pixels of the interpolated one;
// otherwise halves the step, down to transforming every pixel exactly.
using PointTransform = std::function<std::vector<char>(double* u, double* v, std::size_t n)>;
PixelCoordinates pixel_coordinates(int size, const PointTransform& transform, int step = 32, double max_error = 0.125);

// The smallest window [x0, x1) x [y0, y1) of a width x height source holding every pixel the
// coordinates touch, with `margin` pixels more on each side (1 for bilinear). Empty if none.
struct SourceWindow {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  bool empty() const { return x1 <= x0 || y1 <= y0; }
  int width() const { return x1 - x0; }
  int height() const { return y1 - y0; }
};
SourceWindow source_window(const PixelCoordinates& c, int width, int height, int margin);

enum class Resampling { kNearest, kBilinear };

// One band's values of `window` (row-major, type `type`) sampled at the
// coordinates into `out` (size * size floats): NaN where the point is outside the width x height
// source, on nodata, or (bilinear) where no neighbour is valid; bilinear weights renormalised over
// the valid neighbours, edges replicated. `pitch`: values between the starts of two rows of `data`
// (0: window.width(), a compact window; larger for a window inside a bigger block).
void sample_band(const void* data, core::DataType type, const SourceWindow& window, int width, int height, std::optional<double> nodata,
                 const PixelCoordinates& c, Resampling resampling, float* out, std::size_t pitch = 0);

}  // namespace sco::render
