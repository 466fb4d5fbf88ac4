#include "zonal/statistic.hpp"

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "core/error.hpp"

namespace sco::zonal {

const std::vector<StatInfo>& statistics_table() {
  static const std::vector<StatInfo> table = {
      {"count", StatKind::kCount, "covered area of valid cells, in cells (sum of coverage fractions)"},
      {"sum", StatKind::kSum, "sum of values weighted by coverage"},
      {"mean", StatKind::kMean, "coverage-weighted mean"},
      {"min", StatKind::kMin, "smallest value of a cell the zone touches"},
      {"max", StatKind::kMax, "largest value of a cell the zone touches"},
      {"stddev", StatKind::kStddev, "coverage-weighted population standard deviation"},
      {"variance", StatKind::kVariance, "coverage-weighted population variance"},
      {"median", StatKind::kMedian, "coverage-weighted median (the 0.5 quantile), interpolated as exactextract does"},
      {"quantile_Q", StatKind::kQuantile,
       "coverage-weighted Q-th percentile, e.g. quantile_90 (also p90, q0.9), interpolated between the distinct "
       "values as exactextract does (docs/zonal.md)"},
      {"median_icdf", StatKind::kMedianIcdf, "the smallest value whose cumulative covered area reaches half the zone's"},
      {"quantile_icdf_Q", StatKind::kQuantileIcdf,
       "the smallest value whose cumulative covered area reaches Q% of the zone's (inverted CDF: always a value "
       "of the data; sco's quantile before 2026-12)"},
      {"majority", StatKind::kMajority, "value covering the largest area (ties: the smallest value)"},
      {"minority", StatKind::kMinority, "value covering the smallest area (ties: the smallest value)"},
      {"variety", StatKind::kVariety, "number of distinct values"},
      {"frac", StatKind::kFrac, "share of the valid covered area of each distinct value: one column frac_V per value"},
      {"weighted_mean", StatKind::kWeightedMean, "mean weighted by coverage x the --weights raster"},
      {"weighted_sum", StatKind::kWeightedSum, "sum of value x coverage x weight"},
      {"area", StatKind::kArea,
       "area of the zone inside the raster, in m2: planar for projected CRS, spherical (R = 6371008.8 m) for "
       "geographic"},
      {"valid_fraction", StatKind::kValidFraction, "share of the zone's covered area whose cells are not nodata"},
      {"cells", StatKind::kCells, "number of cells the zone touches (any coverage)"},
  };
  return table;
}

std::vector<StatSpec> parse_stats(std::string_view list) {
  std::vector<StatSpec> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string name(list.substr(start, comma - start));
    while (!name.empty() && name.front() == ' ') name.erase(name.begin());
    while (!name.empty() && name.back() == ' ') name.pop_back();
    start = comma + 1;
    if (name.empty()) {
      if (comma == list.size()) break;
      continue;
    }
    StatSpec spec{StatKind::kCount, 0.5, name};
    bool found = false;
    for (const auto& s : statistics_table()) {
      if (name == s.name) {
        spec.kind = s.kind;
        found = true;
      }
    }
    if (!found) {
      // Quantiles: quantile_90, p90, q0.9
      double q = -1;
      auto number = [](const std::string& text, double& v) {
        char* end = nullptr;
        v = std::strtod(text.c_str(), &end);
        return !text.empty() && end == text.c_str() + text.size();
      };
      double v;
      bool icdf = false;
      if (name.rfind("quantile_icdf_", 0) == 0 && number(name.substr(14), v)) {
        q = v / 100.0;
        icdf = true;
      } else if (name.rfind("quantile_", 0) == 0 && number(name.substr(9), v)) q = v / 100.0;
      else if (name.size() > 1 && name[0] == 'p' && number(name.substr(1), v)) q = v / 100.0;
      else if (name.size() > 1 && name[0] == 'q' && number(name.substr(1), v)) q = v;
      if (q >= 0.0 && q <= 1.0) {
        spec.kind = icdf ? StatKind::kQuantileIcdf : StatKind::kQuantile;
        spec.q = q;
        spec.name = fmt::format("quantile_{}{:g}", icdf ? "icdf_" : "", q * 100.0);
        found = true;
      } else if (q != -1) {
        core::fail(core::ErrorCode::kInvalidInput, "statistic '{}': a quantile must lie between 0 and 100 percent", name);
      }
    }
    if (!found) {
      std::string names;
      for (const auto& s : statistics_table()) names += (names.empty() ? "" : ", ") + std::string(s.name);
      core::fail(core::ErrorCode::kInvalidInput, "unknown statistic '{}' (statistics: {})", name, names);
    }
    for (const auto& existing : out) {
      if (existing.name == spec.name) core::fail(core::ErrorCode::kInvalidInput, "statistic '{}' is asked twice", name);
    }
    out.push_back(spec);
  }
  if (out.empty()) core::fail(core::ErrorCode::kInvalidInput, "no statistic asked for (--stats count,mean,...)");
  return out;
}

Needs needs_of(const std::vector<StatSpec>& stats) {
  Needs n;
  for (const auto& s : stats) {
    switch (s.kind) {
      case StatKind::kMedian: case StatKind::kQuantile: case StatKind::kMedianIcdf: case StatKind::kQuantileIcdf:
      case StatKind::kMajority: case StatKind::kMinority:
      case StatKind::kVariety: case StatKind::kFrac:
        n.histogram = true;
        break;
      case StatKind::kWeightedMean: case StatKind::kWeightedSum:
        n.weights = true;
        break;
      default:
        break;
    }
  }
  return n;
}

}  // namespace sco::zonal
