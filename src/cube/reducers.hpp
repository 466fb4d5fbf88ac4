#pragma once
// Temporal reducers over one pixel's series, NaN meaning "no observation" (skipped).
#include <cstddef>
#include <vector>

namespace sco::cube {

double series_mean(const double* x, std::size_t n);
double series_sum(const double* x, std::size_t n);     // 0 when no observation
double series_min(const double* x, std::size_t n);
double series_max(const double* x, std::size_t n);
// Linear interpolation between order statistics (Hyndman & Fan 1996, definition 7, numpy's
// default): q in [0, 1]. `scratch` is reused.
double series_percentile(const double* x, std::size_t n, double q, std::vector<double>& scratch);
std::size_t series_count(const double* x, std::size_t n);  // observations
// Steps where `holds` is true (observations only).
template <typename Pred>
std::size_t count_where(const double* x, std::size_t n, Pred holds) {
  std::size_t c = 0;
  for (std::size_t i = 0; i < n; ++i) c += (x[i] == x[i] && holds(x[i])) ? 1 : 0;
  return c;
}
// Longest run of consecutive steps where `holds` is true; a missing observation breaks a run.
template <typename Pred>
std::size_t longest_run(const double* x, std::size_t n, Pred holds) {
  std::size_t best = 0, run = 0;
  for (std::size_t i = 0; i < n; ++i) {
    run = (x[i] == x[i] && holds(x[i])) ? run + 1 : 0;
    best = run > best ? run : best;
  }
  return best;
}

}  // namespace sco::cube
