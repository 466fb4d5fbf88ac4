#include "render/resample.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/block.hpp"
#include "core/error.hpp"

namespace sco::render {

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Every pixel centre transformed exactly (the last resort: near a projection's edge, or where the
// transformation bends too much within a grid cell).
// Source pixel coordinates beyond +-1e9 are far outside any raster: clamped there, they stay outside
// and convert to float without overflow (NaN stays NaN).
void clamp_points(double* u, double* v, std::size_t n) {
  for (std::size_t p = 0; p < n; ++p) {
    if (u[p] == u[p]) u[p] = std::clamp(u[p], -1e9, 1e9);
    if (v[p] == v[p]) v[p] = std::clamp(v[p], -1e9, 1e9);
  }
}

PixelCoordinates make_coordinates(int size) {
  PixelCoordinates c;
  c.size = size;
  c.x = std::make_unique_for_overwrite<float[]>(c.count());
  c.y = std::make_unique_for_overwrite<float[]>(c.count());
  return c;
}

PixelCoordinates exact(int size, const PointTransform& transform) {
  const std::size_t n = static_cast<std::size_t>(size) * size;
  std::vector<double> u(n), v(n);
  for (int j = 0; j < size; ++j) {
    for (int i = 0; i < size; ++i) {
      u[static_cast<std::size_t>(j) * size + i] = i + 0.5;
      v[static_cast<std::size_t>(j) * size + i] = j + 0.5;
    }
  }
  const std::vector<char> ok = transform(u.data(), v.data(), n);
  clamp_points(u.data(), v.data(), n);
  PixelCoordinates c = make_coordinates(size);
  float x0 = std::numeric_limits<float>::infinity(), y0 = x0, x1 = -x0, y1 = -x0;
  for (std::size_t p = 0; p < n; ++p) {
    c.x[p] = ok[p] ? static_cast<float>(u[p]) : kNaN;
    c.y[p] = ok[p] ? static_cast<float>(v[p]) : kNaN;
    if (!ok[p]) continue;
    x0 = std::min(x0, c.x[p]);
    x1 = std::max(x1, c.x[p]);
    y0 = std::min(y0, c.y[p]);
    y1 = std::max(y1, c.y[p]);
  }
  if (x0 <= x1) {
    c.min_x = x0;
    c.max_x = x1;
    c.min_y = y0;
    c.max_y = y1;
  }
  return c;
}

template <class T>
void sample(const T* data, const SourceWindow& w, int width, int height, std::optional<double> nodata, const PixelCoordinates& c,
            Resampling resampling, float* out, std::size_t pitch) {
  const std::size_t n = c.count();
  // The nodata value as a T when a T can hold it (otherwise no pixel can be nodata).
  const std::optional<T> nd = core::nodata_as<T>(nodata);
  const bool match_nodata = nd.has_value();
  const T nd_t = nd.value_or(T{});
  auto is_nodata = [&](T v) { return match_nodata && v == nd_t; };
  auto at = [&](int col, int row) { return data[static_cast<std::size_t>(row - w.y0) * pitch + static_cast<std::size_t>(col - w.x0)]; };
  if (resampling == Resampling::kNearest) {
    // Branch-free: a pixel outside the source reads the window's first value and is masked after.
    const float fw = static_cast<float>(width), fh = static_cast<float>(height);
    const float* cx = c.x.get();
    const float* cy = c.y.get();
    for (std::size_t p = 0; p < n; ++p) {
      const float x = cx[p], y = cy[p];
      const bool inside = x >= 0.0f && y >= 0.0f && x < fw && y < fh;  // false for NaN
      const int col = std::clamp(inside ? static_cast<int>(x) : w.x0, w.x0, w.x1 - 1);
      const int row = std::clamp(inside ? static_cast<int>(y) : w.y0, w.y0, w.y1 - 1);
      const T v = at(col, row);
      out[p] = inside && !is_nodata(v) ? static_cast<float>(v) : kNaN;
    }
    return;
  }
  for (std::size_t p = 0; p < n; ++p) {
    const float x = c.x[p], y = c.y[p];
    if (!(x >= 0.0f && y >= 0.0f && x < static_cast<float>(width) && y < static_cast<float>(height))) {
      out[p] = kNaN;
      continue;
    }
    // Between the four pixel centres around (x, y); at the edges the border pixel is repeated.
    const double px = x - 0.5, py = y - 0.5;
    const double fx0 = std::floor(px), fy0 = std::floor(py);
    const double fx = px - fx0, fy = py - fy0;
    const int c0 = std::clamp(static_cast<int>(fx0), std::max(0, w.x0), std::min(width, w.x1) - 1);
    const int c1 = std::clamp(static_cast<int>(fx0) + 1, std::max(0, w.x0), std::min(width, w.x1) - 1);
    const int r0 = std::clamp(static_cast<int>(fy0), std::max(0, w.y0), std::min(height, w.y1) - 1);
    const int r1 = std::clamp(static_cast<int>(fy0) + 1, std::max(0, w.y0), std::min(height, w.y1) - 1);
    const T v[4] = {at(c0, r0), at(c1, r0), at(c0, r1), at(c1, r1)};
    const double wt[4] = {(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy};
    double sum = 0, weight = 0;
    for (int k = 0; k < 4; ++k) {
      const double value = static_cast<double>(v[k]);
      if (is_nodata(v[k]) || !(value == value)) continue;
      sum += wt[k] * value;
      weight += wt[k];
    }
    out[p] = weight > 0 ? static_cast<float>(sum / weight) : kNaN;
  }
}

}  // namespace

PixelCoordinates pixel_coordinates(int size, const PointTransform& transform, int step, double max_error) {
  if (size <= 0) core::fail(core::ErrorCode::kInternal, "tile size {} is not positive", size);
  for (int s = std::min(step, size); s >= 2; s /= 2) {
    // Grid points at pixel centres 0.5 + k s (the last one at or past the last pixel), then the
    // centre of every grid cell, where the interpolation is checked.
    const int g = (size - 1 + s - 1) / s + 1;
    const std::size_t ng = static_cast<std::size_t>(g) * g, nc = static_cast<std::size_t>(g - 1) * (g - 1);
    std::vector<double> u(ng + nc), v(ng + nc);
    for (int l = 0; l < g; ++l) {
      for (int k = 0; k < g; ++k) {
        u[static_cast<std::size_t>(l) * g + k] = 0.5 + k * s;
        v[static_cast<std::size_t>(l) * g + k] = 0.5 + l * s;
      }
    }
    for (int l = 0; l + 1 < g; ++l) {
      for (int k = 0; k + 1 < g; ++k) {
        u[ng + static_cast<std::size_t>(l) * (g - 1) + k] = 0.5 + (k + 0.5) * s;
        v[ng + static_cast<std::size_t>(l) * (g - 1) + k] = 0.5 + (l + 0.5) * s;
      }
    }
    const std::vector<char> ok = transform(u.data(), v.data(), u.size());
    if (std::find(ok.begin(), ok.end(), 0) != ok.end()) break;  // part of the tile has no image: exactly
    clamp_points(u.data(), v.data(), u.size());
    auto gx = [&](int k, int l) { return u[static_cast<std::size_t>(l) * g + k]; };
    auto gy = [&](int k, int l) { return v[static_cast<std::size_t>(l) * g + k]; };
    double worst = 0;
    for (int l = 0; l + 1 < g; ++l) {
      for (int k = 0; k + 1 < g; ++k) {
        const std::size_t p = ng + static_cast<std::size_t>(l) * (g - 1) + k;
        const double ix = (gx(k, l) + gx(k + 1, l) + gx(k, l + 1) + gx(k + 1, l + 1)) / 4;
        const double iy = (gy(k, l) + gy(k + 1, l) + gy(k, l + 1) + gy(k + 1, l + 1)) / 4;
        worst = std::max({worst, std::abs(ix - u[p]), std::abs(iy - v[p])});
      }
    }
    if (!(worst <= max_error)) continue;
    PixelCoordinates c = make_coordinates(size);
    // Interpolation stays within the grid's range: the box of the grid points holds every pixel.
    c.min_x = c.max_x = static_cast<float>(u[0]);
    c.min_y = c.max_y = static_cast<float>(v[0]);
    for (std::size_t p = 0; p < ng; ++p) {
      c.min_x = std::min(c.min_x, static_cast<float>(std::floor(u[p])));
      c.max_x = std::max(c.max_x, static_cast<float>(std::ceil(u[p])));
      c.min_y = std::min(c.min_y, static_cast<float>(std::floor(v[p])));
      c.max_y = std::max(c.max_y, static_cast<float>(std::ceil(v[p])));
    }
    std::vector<double> rx(static_cast<std::size_t>(g)), ry(static_cast<std::size_t>(g));
    for (int j = 0; j < size; ++j) {
      const int l = std::min(j / s, g - 2);
      const double tv = static_cast<double>(j - l * s) / s;
      for (int k = 0; k < g; ++k) {
        rx[static_cast<std::size_t>(k)] = gx(k, l) + (gx(k, l + 1) - gx(k, l)) * tv;
        ry[static_cast<std::size_t>(k)] = gy(k, l) + (gy(k, l + 1) - gy(k, l)) * tv;
      }
      float* ox = c.x.get() + static_cast<std::size_t>(j) * size;
      float* oy = c.y.get() + static_cast<std::size_t>(j) * size;
      // Along the row, cell by cell: a start and a constant step (a loop the compiler vectorises).
      for (int k = 0; k + 1 < g && k * s < size; ++k) {
        const auto kk = static_cast<std::size_t>(k);
        const double x = rx[kk], dx = (rx[kk + 1] - rx[kk]) / s;
        const double y = ry[kk], dy = (ry[kk + 1] - ry[kk]) / s;
        const int n = std::min(s, size - k * s);
        float* px = ox + k * s;
        float* py = oy + k * s;
        for (int t = 0; t < n; ++t) {
          px[t] = static_cast<float>(x + dx * t);
          py[t] = static_cast<float>(y + dy * t);
        }
      }
    }
    return c;
  }
  return exact(size, transform);
}

SourceWindow source_window(const PixelCoordinates& c, int width, int height, int margin) {
  SourceWindow w;
  const float x0 = c.min_x, x1 = c.max_x, y0 = c.min_y, y1 = c.max_y;
  if (!(x0 <= x1) || !(y0 <= y1) || x1 < 0 || y1 < 0 || x0 >= static_cast<float>(width) || y0 >= static_cast<float>(height)) return w;
  // In double and clamped before converting: far-off coordinates do not fit an int.
  w.x0 = static_cast<int>(std::max(0.0, std::floor(static_cast<double>(x0)) - margin));
  w.y0 = static_cast<int>(std::max(0.0, std::floor(static_cast<double>(y0)) - margin));
  w.x1 = static_cast<int>(std::min(static_cast<double>(width), std::floor(static_cast<double>(x1)) + 1 + margin));
  w.y1 = static_cast<int>(std::min(static_cast<double>(height), std::floor(static_cast<double>(y1)) + 1 + margin));
  return w;
}

void sample_band(const void* data, core::DataType type, const SourceWindow& window, int width, int height, std::optional<double> nodata,
                 const PixelCoordinates& c, Resampling resampling, float* out, std::size_t pitch) {
  using core::DataType;
  if (pitch == 0) pitch = static_cast<std::size_t>(window.width());
  switch (type) {
    case DataType::kByte: return sample(static_cast<const std::uint8_t*>(data), window, width, height, nodata, c, resampling, out, pitch);
    case DataType::kInt8: return sample(static_cast<const std::int8_t*>(data), window, width, height, nodata, c, resampling, out, pitch);
    case DataType::kUInt16: return sample(static_cast<const std::uint16_t*>(data), window, width, height, nodata, c, resampling, out, pitch);
    case DataType::kInt16: return sample(static_cast<const std::int16_t*>(data), window, width, height, nodata, c, resampling, out, pitch);
    case DataType::kUInt32: return sample(static_cast<const std::uint32_t*>(data), window, width, height, nodata, c, resampling, out, pitch);
    case DataType::kInt32: return sample(static_cast<const std::int32_t*>(data), window, width, height, nodata, c, resampling, out, pitch);
    case DataType::kFloat32: return sample(static_cast<const float*>(data), window, width, height, nodata, c, resampling, out, pitch);
    case DataType::kFloat64: return sample(static_cast<const double*>(data), window, width, height, nodata, c, resampling, out, pitch);
  }
}

}  // namespace sco::render
