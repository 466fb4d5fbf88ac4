#pragma once
// Per-series trend statistics, NaN meaning "no observation":
//   Sen's slope (Sen 1968, JASA 63:1379): the median of (x_j - x_i) / (t_j - t_i) over all pairs.
//   Mann-Kendall test (Mann 1945; Kendall 1975): S = sum over i < j of sign(x_j - x_i);
//   Var(S) = [n(n-1)(2n+5) - sum over tie groups t(t-1)(2t+5)] / 18;
//   Z = (S - 1)/sqrt(Var) if S > 0, 0 if S = 0, (S + 1)/sqrt(Var) if S < 0;
//   two-sided p = erfc(|Z| / sqrt 2).
// Seasonal Kendall test and seasonal Sen slope (Hirsch, Slack & Smith 1982, Water Resources Research
// 18(1):107-121), for series with several steps a year: S and Var(S) are those of the test above
// within each season (each calendar month: only pairs of the same season are compared), summed over
// the seasons; Z and p follow from the sums as above; the slope is the median of the within-season
// pairwise slopes (x_b - x_a) / (year_b - year_a). A season's repeated observations in one year are
// first averaged, so that each season holds one value a year.
#include <cstddef>
#include <string>
#include <vector>

#include "cube/cf_time.hpp"

namespace sco::cube {

struct TrendResult {
  int n = 0;             // observations used
  double slope = 0.0;    // Sen's slope, per unit of t (NaN when n < 2)
  double s = 0.0;        // Mann-Kendall S
  double var_s = 0.0;    // its variance, corrected for ties
  double z = 0.0;
  double p = 1.0;        // two-sided p-value
};

// `scratch` is reused between calls (pairwise slopes).
TrendResult trend(const double* t, const double* x, std::size_t count, std::vector<double>& scratch);

// The steps' seasons: 0 .. seasons - 1 per step (the calendar month for sub-annual data), and the
// calendar year of each step. `seasons` is 1 for annual series (the plain test).
struct SeasonLayout {
  int seasons = 1;
  std::vector<int> season;
  std::vector<int> year;
  double per = 1.0;  // the slope's unit in years (10: per decade)
};

// Seasons of the chosen steps of a dated series: the plain test when no year holds two steps, else
// the calendar month of each step. Undated steps count as one a year.
SeasonLayout season_layout(const std::vector<DateTime>& dates, const std::vector<std::size_t>& steps, double per = 1.0);
// The calendar month (0-11) and year of each chosen step, always (12 seasons).
SeasonLayout month_layout(const std::vector<DateTime>& dates, const std::vector<std::size_t>& steps);

// The Seasonal Kendall test and seasonal Sen slope of x (one value per step, NaN: none), the slope
// per layout.per years. With layout.seasons == 1 it is trend() over `t`, the steps' times in that unit.
TrendResult seasonal_trend(const double* t, const double* x, std::size_t count, const SeasonLayout& layout,
                           std::vector<double>& scratch);

// Distinct calendar years among the steps where x has a value (x null: every step).
int years_observed(const double* x, const SeasonLayout& layout);

// "seasonal Kendall (12 seasons)" or "Mann-Kendall", for outputs and reports.
std::string trend_method(const SeasonLayout& layout);
// "record too short (3 years < 10)": what outputs say instead of a trend.
std::string record_too_short(int years, int min_years);
// The method a series of `years` distinct years gets: trend_method(layout), or record_too_short.
std::string trend_method(const SeasonLayout& layout, int years, int min_years);

}  // namespace sco::cube
