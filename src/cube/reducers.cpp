#include "cube/reducers.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sco::cube {

double series_sum(const double* x, std::size_t n) {
  double s = 0.0;
  for (std::size_t i = 0; i < n; ++i) s += x[i] == x[i] ? x[i] : 0.0;
  return s;
}

std::size_t series_count(const double* x, std::size_t n) {
  std::size_t c = 0;
  for (std::size_t i = 0; i < n; ++i) c += x[i] == x[i];
  return c;
}

double series_mean(const double* x, std::size_t n) {
  const std::size_t c = series_count(x, n);
  return c ? series_sum(x, n) / static_cast<double>(c) : std::numeric_limits<double>::quiet_NaN();
}

double series_min(const double* x, std::size_t n) {
  double m = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t i = 0; i < n; ++i) {
    if (x[i] == x[i] && !(x[i] >= m)) m = x[i];
  }
  return m;
}

double series_max(const double* x, std::size_t n) {
  double m = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t i = 0; i < n; ++i) {
    if (x[i] == x[i] && !(x[i] <= m)) m = x[i];
  }
  return m;
}

double series_percentile(const double* x, std::size_t n, double q, std::vector<double>& v) {
  v.clear();
  for (std::size_t i = 0; i < n; ++i) {
    if (x[i] == x[i]) v.push_back(x[i]);
  }
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  const double h = (static_cast<double>(v.size()) - 1.0) * std::clamp(q, 0.0, 1.0);
  const std::size_t lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

}  // namespace sco::cube
