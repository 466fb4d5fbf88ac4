#include "cube/spi.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sco::cube {

namespace {

constexpr double kSpiBound = 3.09;

// psi'(x) by the recurrence psi'(x) = psi'(x + 1) + 1/x^2 up to x >= 10, then its asymptotic series.
double trigamma(double x) {
  double acc = 0.0;
  while (x < 10.0) {
    acc += 1.0 / (x * x);
    x += 1.0;
  }
  const double r = 1.0 / x, r2 = r * r;
  return acc + r + r2 / 2.0 + r * r2 * (1.0 / 6.0 - r2 * (1.0 / 30.0 - r2 * (1.0 / 42.0 - r2 / 30.0)));
}

// P(a, x) by its power series (x < a + 1).
double gamma_series(double a, double x) {
  double term = 1.0 / a, sum = term;
  for (int k = 1; k < 1000; ++k) {
    term *= x / (a + k);
    sum += term;
    if (std::abs(term) < std::abs(sum) * 1e-16) break;
  }
  return sum * std::exp(-x + a * std::log(x) - std::lgamma(a));
}

// Q(a, x) = 1 - P(a, x) by its continued fraction, evaluated by the modified Lentz method (x >= a + 1).
double gamma_fraction(double a, double x) {
  const double tiny = 1e-300;
  double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
  for (int i = 1; i < 1000; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::abs(delta - 1.0) < 1e-16) break;
  }
  return std::exp(-x + a * std::log(x) - std::lgamma(a)) * h;
}

}  // namespace

// psi(x) by the recurrence psi(x) = psi(x + 1) - 1/x up to x >= 10, then the asymptotic series
// ln x - 1/(2x) - sum of B_2k / (2k x^2k) to k = 6 (truncation below 1e-15 there).
double digamma(double x) {
  double acc = 0.0;
  while (x < 10.0) {
    acc -= 1.0 / x;
    x += 1.0;
  }
  const double r = 1.0 / x, r2 = r * r;
  return acc + std::log(x) - 0.5 * r -
         r2 * (1.0 / 12.0 - r2 * (1.0 / 120.0 - r2 * (1.0 / 252.0 - r2 * (1.0 / 240.0 - r2 * (1.0 / 132.0 - r2 * 691.0 / 32760.0)))));
}

double regularized_gamma_p(double a, double x) {
  if (!(x > 0.0)) return 0.0;
  if (x < a + 1.0) return gamma_series(a, x);
  return 1.0 - gamma_fraction(a, x);
}

// Acklam's rational approximation (relative error 1.15e-9), then one Halley step on erfc, which
// brings it to double precision.
double normal_quantile(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00};
  if (!(p > 0.0 && p < 1.0)) return p == 0.0 ? -std::numeric_limits<double>::infinity() : p == 1.0 ? std::numeric_limits<double>::infinity() : std::nan("");
  double x;
  if (p < 0.02425) {
    const double q = std::sqrt(-2.0 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  } else if (p <= 1.0 - 0.02425) {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
  } else {
    const double q = std::sqrt(-2.0 * std::log(1.0 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  }
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = e * std::sqrt(2.0 * M_PI) * std::exp(x * x / 2.0);
  return x - u / (1.0 + x * u / 2.0);
}

GammaFit fit_mixed_gamma(const double* values, std::size_t count) {
  GammaFit f;
  int zeros = 0, positive = 0;
  double sum = 0.0, sum_log = 0.0, lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (std::size_t i = 0; i < count; ++i) {
    const double v = values[i];
    if (std::isnan(v)) continue;
    ++f.n;
    if (v <= 0.0) {
      ++zeros;
      continue;
    }
    ++positive;
    sum += v;
    sum_log += std::log(v);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (f.n == 0) return f;
  f.p_zero = static_cast<double>(zeros) / f.n;
  if (positive < 3 || lo == hi) return f;
  const double mean = sum / positive;
  const double A = std::log(mean) - sum_log / positive;
  double alpha = (1.0 + std::sqrt(1.0 + 4.0 * A / 3.0)) / (4.0 * A);
  for (int it = 0; it < 100; ++it) {
    const double g = std::log(alpha) - digamma(alpha) - A;
    const double step = g / (1.0 / alpha - trigamma(alpha));
    double next = alpha - step;
    if (next <= 0.0) next = alpha / 2.0;
    const bool done = std::abs(next - alpha) <= 1e-14 * alpha;
    alpha = next;
    if (done) break;
  }
  f.alpha = alpha;
  f.beta = mean / alpha;
  return f;
}

double spi_of(double x, const GammaFit& fit) {
  if (std::isnan(x) || fit.alpha <= 0.0) return std::nan("");
  const double g = x > 0.0 ? regularized_gamma_p(fit.alpha, x / fit.beta) : 0.0;
  const double h = fit.p_zero + (1.0 - fit.p_zero) * g;
  return std::clamp(normal_quantile(h), -kSpiBound, kSpiBound);
}

}  // namespace sco::cube
