#include "cube/trend.hpp"

#include <algorithm>
#include <cmath>

namespace sco::cube {

TrendResult trend(const double* t, const double* x, std::size_t count, std::vector<double>& scratch) {
  TrendResult r;
  // Valid observations only.
  std::vector<std::size_t> idx;
  idx.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (!std::isnan(x[i]) && !std::isnan(t[i])) idx.push_back(i);
  }
  const std::size_t n = idx.size();
  r.n = static_cast<int>(n);
  if (n < 2) {
    r.slope = std::nan("");
    r.z = 0.0;
    r.p = 1.0;
    return r;
  }
  scratch.clear();
  double s = 0.0;
  for (std::size_t a = 0; a < n; ++a) {
    for (std::size_t b = a + 1; b < n; ++b) {
      const double dx = x[idx[b]] - x[idx[a]];
      const double dt = t[idx[b]] - t[idx[a]];
      s += (dx > 0) - (dx < 0);
      if (dt != 0.0) scratch.push_back(dx / dt);
    }
  }
  if (scratch.empty()) {
    r.slope = std::nan("");
  } else {
    const std::size_t m = scratch.size();
    std::nth_element(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(m / 2), scratch.end());
    const double hi = scratch[m / 2];
    if (m % 2) {
      r.slope = hi;
    } else {
      const double lo = *std::max_element(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(m / 2));
      r.slope = 0.5 * (lo + hi);
    }
  }
  // Tie correction: groups of equal values.
  std::vector<double> v;
  v.reserve(n);
  for (std::size_t i : idx) v.push_back(x[i]);
  std::sort(v.begin(), v.end());
  double ties = 0.0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && v[j] == v[i]) ++j;
    const double g = static_cast<double>(j - i);
    if (g > 1) ties += g * (g - 1) * (2 * g + 5);
    i = j;
  }
  const double dn = static_cast<double>(n);
  r.s = s;
  r.var_s = (dn * (dn - 1) * (2 * dn + 5) - ties) / 18.0;
  if (r.var_s > 0) {
    if (s > 0) r.z = (s - 1) / std::sqrt(r.var_s);
    else if (s < 0) r.z = (s + 1) / std::sqrt(r.var_s);
    else r.z = 0.0;
  }
  r.p = std::erfc(std::abs(r.z) / std::sqrt(2.0));
  return r;
}

}  // namespace sco::cube
