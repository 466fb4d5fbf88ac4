#pragma once
// The zonal statistics: names, what each needs from the accumulator, and how each is computed.
// One table feeds parsing, `sco zonal --help` and docs/zonal.md.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sco::zonal {

enum class StatKind {
  kCount, kSum, kMean, kMin, kMax, kStddev, kVariance, kMedian, kQuantile, kMedianIcdf, kQuantileIcdf, kMajority,
  kMinority, kVariety,
  kFrac, kWeightedMean, kWeightedSum, kArea, kValidFraction, kCells,
};

// What an accumulator must keep so that every requested statistic costs one read of the raster.
struct Needs {
  bool histogram = false;  // value -> covered area: median, quantiles, majority, minority, variety, frac
  bool weights = false;    // a weights raster
};

struct StatSpec {
  StatKind kind;
  double q = 0.5;     // for kQuantile and kQuantileIcdf, in [0, 1]
  std::string name;   // column name: "mean", "quantile_90", ...
};

struct StatInfo {
  const char* name;
  StatKind kind;
  const char* summary;
};
const std::vector<StatInfo>& statistics_table();

// Parses "count,mean,quantile_90" (also "p90", "q0.9", and "quantile_icdf_90" for the inverted CDF);
// throws naming the unknown statistic.
std::vector<StatSpec> parse_stats(std::string_view list);
Needs needs_of(const std::vector<StatSpec>& stats);

}  // namespace sco::zonal
