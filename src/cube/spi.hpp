#pragma once
// The Standardized Precipitation Index (McKee, Doesken & Kleist 1993; WMO-No. 1090, 2012): a month's
// precipitation accumulated over the `scale` months ending with it, placed on the distribution of the
// same calendar month's accumulations over a reference period, and expressed as the standard normal
// quantile of the same probability. The distribution is mixed (Thom 1966; Edwards & McKee 1997):
//   H(x) = p0 + (1 - p0) G(x; alpha, beta)
// with p0 the share of zero accumulations and G the gamma distribution fitted to the others by
// maximum likelihood: with A = ln(mean) - mean(ln x), alpha solves ln(alpha) - digamma(alpha) = A
// (Newton's method from Thom's (1958) approximation alpha0 = (1 + sqrt(1 + 4A/3)) / (4A)), and
// beta = mean / alpha. SPI = Phi^-1(H(x)), kept within [-3.09, 3.09] (Phi(-3.09) = 0.001).
// Pure arithmetic: no I/O.
#include <cstddef>

namespace sco::cube {

struct GammaFit {
  double alpha = 0.0, beta = 0.0;  // shape and scale; alpha = 0: no fit
  double p_zero = 0.0;             // share of zeros
  int n = 0;                       // accumulations the fit saw
};

// Fits the mixed distribution to `count` accumulations (NaN skipped, negative values an error of the
// caller). No fit (alpha = 0) with fewer than 3 non-zero values or when they are all equal.
GammaFit fit_mixed_gamma(const double* values, std::size_t count);

// The SPI of accumulation x under `fit`; NaN without a fit or for NaN x.
double spi_of(double x, const GammaFit& fit);

// Special functions the index needs, exposed for tests.
double regularized_gamma_p(double a, double x);  // P(a, x) = gamma(a, x) / Gamma(a)
double digamma(double x);
double normal_quantile(double p);                 // Phi^-1(p), 0 < p < 1

}  // namespace sco::cube
