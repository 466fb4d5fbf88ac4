#include "algebra/convolution.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace sco::algebra {

BorderMode parse_border_mode(const std::string& text) {
  if (text == "replicate") return BorderMode::kReplicate;
  if (text == "reflect") return BorderMode::kReflect;
  if (text == "reflect_pixel") return BorderMode::kReflectPixel;
  if (text == "wrap") return BorderMode::kWrap;
  core::fail(core::ErrorCode::kInvalidInput, "border '{}': a number, replicate, reflect, reflect_pixel or wrap", text);
}

long border_index(long i, long n, BorderMode mode) {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case BorderMode::kConstant: return -1;
    case BorderMode::kReplicate: return i < 0 ? 0 : n - 1;
    case BorderMode::kWrap: return ((i % n) + n) % n;
    case BorderMode::kReflect: {  // the edge cell repeated: period 2n
      const long p = ((i % (2 * n)) + 2 * n) % (2 * n);
      return p < n ? p : 2 * n - 1 - p;
    }
    case BorderMode::kReflectPixel: {  // about the edge cell: period 2n - 2
      if (n == 1) return 0;
      const long period = 2 * n - 2;
      const long p = ((i % period) + period) % period;
      return p < n ? p : period - p;
    }
  }
  return -1;
}

namespace {
inline double valid(float v, double replacement) { return std::isfinite(v) ? static_cast<double>(v) : replacement; }
}  // namespace

void convolve_rows(const Kernel2D& k, long width, long height, long row0, long out_rows, const std::function<const float*(long)>& row,
                   float* out) {
  const long hr = k.rows / 2, hc = k.cols / 2;
  std::vector<double> acc(static_cast<std::size_t>(width));
  for (long r = 0; r < out_rows; ++r) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (long i = 0; i < k.rows; ++i) {
      const long src = border_index(row0 + r + i - hr, height, k.border);
      const double* w = k.weights.data() + i * k.cols;
      if (src < 0) {  // a constant row beyond the edge
        double s = 0;
        for (long j = 0; j < k.cols; ++j) s += w[j];
        for (long x = 0; x < width; ++x) acc[static_cast<std::size_t>(x)] += s * k.border_value;
        continue;
      }
      const float* line = row(src);
      for (long j = 0; j < k.cols; ++j) {
        const double wj = w[j];
        if (wj == 0.0) continue;
        const long dx = j - hc;
        // the interior, where x + dx stays inside the row: one vectorisable pass; then the edges
        const long lo = std::min(width, std::max(0L, -dx)), hi = std::max(lo, std::min(width, width - dx));
        for (long x = lo; x < hi; ++x) acc[static_cast<std::size_t>(x)] += wj * valid(line[x + dx], k.replace_invalid);
        auto edge = [&](long x) {
          const long c = border_index(x + dx, width, k.border);
          acc[static_cast<std::size_t>(x)] += wj * (c < 0 ? k.border_value : valid(line[c], k.replace_invalid));
        };
        for (long x = 0; x < lo; ++x) edge(x);
        for (long x = hi; x < width; ++x) edge(x);
      }
    }
    float* o = out + r * width;
    for (long x = 0; x < width; ++x) o[x] = static_cast<float>(k.factor * acc[static_cast<std::size_t>(x)]);
  }
}

}  // namespace sco::algebra
