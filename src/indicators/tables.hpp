#pragma once
// Per-district derived columns: classes by thresholds, exposure from a mask, and risk as
// hazard x exposure x vulnerability with each factor normalised across the districts (CLIMADA's and
// the IPCC AR5 framing of risk; the normalisation is documented in docs/indicators.md).
#include <string>
#include <vector>

#include "indicators/recipe.hpp"

namespace sco::indicators {

// The class label of a value (empty for a missing value): low below the first threshold, high from
// the second, medium between.
std::string classify(double value, const ClassSpec& spec);

// Min-max normalisation across districts: (v - min) / (max - min). When every district has the same
// value, the factor cannot rank them: it becomes 1 (or 0 when that value is 0). Missing stay NaN.
std::vector<double> normalise(const std::vector<double>& values);

struct RiskColumns {
  std::vector<double> hazard_norm, exposure_norm, vulnerability_norm, risk;
};
// A missing factor (empty vector) counts as 1 for every district.
RiskColumns combine_risk(const std::vector<double>& hazard, const std::vector<double>& exposure,
                         const std::vector<double>& vulnerability);

}  // namespace sco::indicators
