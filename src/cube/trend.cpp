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

namespace sco::cube {

namespace {

// S, tie-corrected Var(S) and the pairwise slopes (appended to `slopes`) of one season's series.
void season_terms(const std::vector<double>& t, const std::vector<double>& x, double& s, double& var, std::vector<double>& slopes) {
  const std::size_t n = x.size();
  for (std::size_t a = 0; a < n; ++a) {
    for (std::size_t b = a + 1; b < n; ++b) {
      const double dx = x[b] - x[a];
      s += (dx > 0) - (dx < 0);
      if (t[b] != t[a]) slopes.push_back(dx / (t[b] - t[a]));
    }
  }
  std::vector<double> v = x;
  std::sort(v.begin(), v.end());
  double ties = 0.0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && v[j] == v[i]) ++j;
    const double g = static_cast<double>(j - i);
    ties += g * (g - 1) * (2 * g + 5);
    i = j;
  }
  const double dn = static_cast<double>(n);
  var += (dn * (dn - 1) * (2 * dn + 5) - ties) / 18.0;
}

double median_of(std::vector<double>& v) {
  if (v.empty()) return std::nan("");
  const std::size_t m = v.size();
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(m / 2), v.end());
  const double hi = v[m / 2];
  if (m % 2) return hi;
  return 0.5 * (*std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(m / 2)) + hi);
}

}  // namespace

SeasonLayout season_layout(const std::vector<DateTime>& dates, const std::vector<std::size_t>& steps, double per) {
  SeasonLayout l;
  l.per = per;
  bool repeated = false;
  for (std::size_t k = 0; k < steps.size(); ++k) {
    l.year.push_back(dates.empty() ? static_cast<int>(steps[k]) : dates[steps[k]].year);
    if (k > 0 && l.year[k] == l.year[k - 1]) repeated = true;
  }
  l.season.assign(steps.size(), 0);
  if (!repeated) return l;
  l.seasons = 12;
  for (std::size_t k = 0; k < steps.size(); ++k) l.season[k] = std::clamp(dates[steps[k]].month - 1, 0, 11);
  return l;
}

SeasonLayout month_layout(const std::vector<DateTime>& dates, const std::vector<std::size_t>& steps) {
  SeasonLayout l;
  l.seasons = 12;
  for (std::size_t i : steps) {
    l.year.push_back(dates[i].year);
    l.season.push_back(std::clamp(dates[i].month - 1, 0, 11));
  }
  return l;
}

TrendResult seasonal_trend(const double* t, const double* x, std::size_t count, const SeasonLayout& layout,
                           std::vector<double>& scratch) {
  if (layout.seasons <= 1) return trend(t, x, count, scratch);
  TrendResult r;
  scratch.clear();
  double s = 0.0, var = 0.0;
  std::vector<double> st, sx;
  for (int g = 0; g < layout.seasons; ++g) {
    // The season's values, one per year (the year's observations averaged), in time order.
    st.clear();
    sx.clear();
    int year = 0, k = 0;
    double sum_x = 0.0;
    const auto flush = [&] {
      if (k > 0) {
        st.push_back(year / layout.per);
        sx.push_back(sum_x / k);
      }
      sum_x = 0.0;
      k = 0;
    };
    for (std::size_t i = 0; i < count; ++i) {
      if (layout.season[i] != g || std::isnan(x[i])) continue;
      if (k > 0 && layout.year[i] != year) flush();
      year = layout.year[i];
      sum_x += x[i];
      ++k;
    }
    flush();
    r.n += static_cast<int>(sx.size());
    season_terms(st, sx, s, var, scratch);
  }
  r.slope = median_of(scratch);
  r.s = s;
  r.var_s = var;
  if (var > 0) r.z = s > 0 ? (s - 1) / std::sqrt(var) : s < 0 ? (s + 1) / std::sqrt(var) : 0.0;
  r.p = std::erfc(std::abs(r.z) / std::sqrt(2.0));
  return r;
}

int years_observed(const double* x, const SeasonLayout& layout) {
  std::vector<int> years;
  for (std::size_t i = 0; i < layout.year.size(); ++i) {
    if (!std::isnan(x[i])) years.push_back(layout.year[i]);
  }
  std::sort(years.begin(), years.end());
  return static_cast<int>(std::unique(years.begin(), years.end()) - years.begin());
}

std::string trend_method(const SeasonLayout& layout) {
  return layout.seasons > 1 ? "seasonal Kendall (" + std::to_string(layout.seasons) + " seasons)" : "Mann-Kendall";
}

std::string record_too_short(int years, int min_years) {
  return "record too short (" + std::to_string(years) + (years == 1 ? " year < " : " years < ") + std::to_string(min_years) + ")";
}

}  // namespace sco::cube
