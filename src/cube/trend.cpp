#include "cube/trend.hpp"

#include <algorithm>
#include <cmath>

namespace sco::cube {

namespace {

// Adds S and the pairwise slopes (to `slopes`) of series x over times t (both without gaps).
void pair_terms(const std::vector<double>& t, const std::vector<double>& x, double& s, std::vector<double>& slopes) {
  const std::size_t n = x.size();
  for (std::size_t a = 0; a < n; ++a) {
    for (std::size_t b = a + 1; b < n; ++b) {
      const double dx = x[b] - x[a];
      s += (dx > 0) - (dx < 0);
      if (t[b] != t[a]) slopes.push_back(dx / (t[b] - t[a]));
    }
  }
}

// Var(S) of n values with the tie correction: [n(n-1)(2n+5) - sum over tie groups g(g-1)(2g+5)] / 18.
double variance_of_s(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  double ties = 0.0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && v[j] == v[i]) ++j;
    const double g = static_cast<double>(j - i);
    ties += g * (g - 1) * (2 * g + 5);
    i = j;
  }
  const double dn = static_cast<double>(n);
  return (dn * (dn - 1) * (2 * dn + 5) - ties) / 18.0;
}

double median_of(std::vector<double>& v) {
  if (v.empty()) return std::nan("");
  const std::size_t m = v.size();
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(m / 2), v.end());
  const double hi = v[m / 2];
  if (m % 2) return hi;
  return 0.5 * (*std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(m / 2)) + hi);
}

// Z with the continuity correction and the two-sided p of r.s and r.var_s.
void finish_test(TrendResult& r) {
  if (r.var_s > 0) r.z = r.s > 0 ? (r.s - 1) / std::sqrt(r.var_s) : r.s < 0 ? (r.s + 1) / std::sqrt(r.var_s) : 0.0;
  r.p = std::erfc(std::abs(r.z) / std::sqrt(2.0));
}

}  // namespace

TrendResult trend(const double* t, const double* x, std::size_t count, std::vector<double>& scratch) {
  TrendResult r;
  std::vector<double> tt, xx;  // valid observations only
  for (std::size_t i = 0; i < count; ++i) {
    if (!std::isnan(x[i]) && !std::isnan(t[i])) {
      tt.push_back(t[i]);
      xx.push_back(x[i]);
    }
  }
  r.n = static_cast<int>(xx.size());
  if (xx.size() < 2) {
    r.slope = std::nan("");
    return r;
  }
  scratch.clear();
  pair_terms(tt, xx, r.s, scratch);
  r.slope = median_of(scratch);
  r.var_s = variance_of_s(xx);
  finish_test(r);
  return r;
}

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
    pair_terms(st, sx, r.s, scratch);
    r.var_s += variance_of_s(sx);
  }
  r.slope = median_of(scratch);
  finish_test(r);
  return r;
}

int years_observed(const double* x, const SeasonLayout& layout) {
  std::vector<int> years;
  for (std::size_t i = 0; i < layout.year.size(); ++i) {
    if (!x || !std::isnan(x[i])) years.push_back(layout.year[i]);
  }
  std::sort(years.begin(), years.end());
  return static_cast<int>(std::unique(years.begin(), years.end()) - years.begin());
}

std::string trend_method(const SeasonLayout& layout) {
  return layout.seasons > 1 ? "seasonal Kendall (" + std::to_string(layout.seasons) + " seasons)" : "Mann-Kendall";
}

std::string trend_method(const SeasonLayout& layout, int years, int min_years) {
  return years < min_years ? record_too_short(years, min_years) : trend_method(layout);
}

std::string record_too_short(int years, int min_years) {
  return "record too short (" + std::to_string(years) + (years == 1 ? " year < " : " years < ") + std::to_string(min_years) + ")";
}

}  // namespace sco::cube
