#include "zonal/weighted_quantile.hpp"

#include <cmath>

namespace sco::zonal {

double interpolated_quantile(const std::pair<double, double>* h, std::size_t size, double q) {
  std::size_t n = 0;
  double total = 0.0;
  for (std::size_t i = 0; i < size; ++i) {
    if (h[i].second > 0.0) {
      ++n;
      total += h[i].second;
    }
  }
  if (n == 0) return std::nan("");
  if (!(q > 0.0)) q = 0.0;
  if (q >= 1.0) {  // the largest value, not a hair below it by round-off in S_n
    for (std::size_t i = size; i-- > 0;) {
      if (h[i].second > 0.0) return h[i].first;
    }
  }
  const double m = static_cast<double>(n - 1);
  const double target = q * (total * m);
  // Walk the entries keeping S_k of the current one and the cumulative weight before it; S grows
  // strictly (S_{k+1} - S_k = k w_{k+1} + (n - k) w_k > 0), so the first S beyond the target ends it.
  double below = 0.0;   // w_1 + ... + w_{k-1}
  double s_prev = 0.0;  // S_k of the previous entry
  double x_prev = 0.0;
  std::size_t k = 0;    // entries with a positive weight seen so far
  for (std::size_t i = 0; i < size; ++i) {
    const double w = h[i].second;
    if (!(w > 0.0)) continue;
    const double s = static_cast<double>(k) * w + m * below;
    if (k > 0 && s > target) {
      const double x = h[i].first;
      if (std::isfinite(x_prev) && std::isfinite(x)) return x_prev + (target - s_prev) * (x - x_prev) / (s - s_prev);
      // An infinite end: the weighted average (1 - t) x_k + t x_{k+1} is that end for 0 < t < 1,
      // x_k at t = 0, and undefined (NaN) only between -inf and +inf.
      const double t = (target - s_prev) / (s - s_prev);
      return t == 0.0 ? x_prev : (1.0 - t) * x_prev + t * x;
    }
    s_prev = s;
    x_prev = h[i].first;
    below += w;
    ++k;
  }
  return x_prev;  // q = 1, or round-off at its edge
}

}  // namespace sco::zonal
