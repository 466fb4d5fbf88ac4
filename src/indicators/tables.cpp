#include "indicators/tables.hpp"

#include <cmath>
#include <limits>

namespace sco::indicators {

std::string classify(double v, const ClassSpec& spec) {
  if (std::isnan(v)) return "";
  std::size_t k = 0;
  while (k < spec.thresholds.size() && v >= spec.thresholds[k]) ++k;
  return spec.labels[k];
}

std::vector<double> normalise(const std::vector<double>& values) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : values) {
    if (std::isnan(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  std::vector<double> out(values.size(), std::numeric_limits<double>::quiet_NaN());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (std::isnan(values[i])) continue;
    out[i] = hi > lo ? (values[i] - lo) / (hi - lo) : (hi != 0.0 ? 1.0 : 0.0);
  }
  return out;
}

RiskColumns combine_risk(const std::vector<double>& hazard, const std::vector<double>& exposure,
                         const std::vector<double>& vulnerability) {
  RiskColumns r;
  const std::size_t n = hazard.size();
  r.hazard_norm = normalise(hazard);
  r.exposure_norm = exposure.empty() ? std::vector<double>(n, 1.0) : normalise(exposure);
  r.vulnerability_norm = vulnerability.empty() ? std::vector<double>(n, 1.0) : normalise(vulnerability);
  r.risk.resize(n);
  for (std::size_t i = 0; i < n; ++i) r.risk[i] = r.hazard_norm[i] * r.exposure_norm[i] * r.vulnerability_norm[i];
  return r;
}

}  // namespace sco::indicators
