#pragma once
// Per-series trend statistics, NaN meaning "no observation":
//   Sen's slope (Sen 1968, JASA 63:1379): the median of (x_j - x_i) / (t_j - t_i) over all pairs.
//   Mann-Kendall test (Mann 1945; Kendall 1975): S = sum over i < j of sign(x_j - x_i);
//   Var(S) = [n(n-1)(2n+5) - sum over tie groups t(t-1)(2t+5)] / 18;
//   Z = (S - 1)/sqrt(Var) if S > 0, 0 if S = 0, (S + 1)/sqrt(Var) if S < 0;
//   two-sided p = erfc(|Z| / sqrt 2).
#include <cstddef>
#include <vector>

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

}  // namespace sco::cube
