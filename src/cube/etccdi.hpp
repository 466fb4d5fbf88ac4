#pragma once
// The ETCCDI indices of climate extremes from daily series (Expert Team on Climate Change Detection
// and Indices; Zhang et al. 2011, WIREs Climate Change 2:851-870; definitions as listed by the ETCCDI,
// https://etccdi.pacificclimate.org/list_27_indices.shtml), one value per calendar year and pixel.
//
// Conventions, each stated where the ETCCDI leaves a choice:
// - Temperatures in degrees Celsius, precipitation in mm/day (the op converts K and kg m-2 s-1).
// - A year with more than `max_missing_days` missing days (nodata, or days outside the series) gets
//   no value (the ETCCDI's annual rule: 15).
// - Percentile thresholds (TX90p, TN90p, TX10p, TN10p, WSDI, CSDI) are per calendar day: the values
//   of the 5 consecutive days centred on each day of every base year, pooled, and their percentile by
//   Hyndman & Fan's (1996) definition 8, h = (n + 1/3) p + 1/3 (the estimator of Zhang et al. 2005 and
//   of xclim's percentile_doy). Days outside the base period do not enter a window. In years inside
//   the base period no bootstrap is made (Zhang et al. 2005's correction is not applied): their
//   exceedance rates are slightly biased towards the base.
// - Calendar days: the day of the year in calendars whose years all have the same length (noleap,
//   all_leap, 360_day); in the standard, proleptic Gregorian and Julian calendars the day of a 365-day
//   year, 29 February sharing 28 February's threshold.
// - R95p and R99p: the 95th / 99th percentile (definition 8) of the wet days (>= 1 mm) of the base
//   period; the amount fallen on wet days above it.
// - Spells (WSDI, CSDI, CDD, CWD) are counted within each calendar year; a missing day ends a spell.
// - Rx5day: the largest total of 5 consecutive days ending in the year (a window may start in
//   December of the year before); a window with a missing day has no total.
// - TX90p and its kin are the percentage of the year's valid days beyond the threshold.
#include <string>
#include <string_view>
#include <vector>

#include "cube/cf_time.hpp"

namespace sco::cube {

enum class EtccdiKind {
  kMax, kMin,                   // TXx, TXn, TNx, TNn, Rx1day
  kDaysAbove, kDaysBelow,       // SU, TR (> threshold), FD, ID (< threshold)
  kDaysAtLeast,                 // R10mm, R20mm (>= threshold)
  kPercentAbovePercentile,      // TX90p, TN90p
  kPercentBelowPercentile,      // TX10p, TN10p
  kSpellAbovePercentile,        // WSDI
  kSpellBelowPercentile,        // CSDI
  kMaxSum5,                     // Rx5day
  kWetAmountAbovePercentile,    // R95p, R99p
  kLongestDry, kLongestWet,     // CDD, CWD
  kWetTotal, kWetIntensity,     // PRCPTOT, SDII
};

struct EtccdiIndex {
  std::string name;       // "TXx"
  std::string variable;   // "tasmax", "tasmin" or "pr"
  EtccdiKind kind;
  double threshold = 0;   // degC or mm/day, or the percentile in 0..100
  std::string units;      // of the result
  std::string meaning;
};

const std::vector<EtccdiIndex>& etccdi_indices();
// By its ETCCDI name (case-sensitive as the ETCCDI writes them); throws listing the names.
const EtccdiIndex& find_etccdi_index(std::string_view name);
bool uses_percentiles(const EtccdiIndex& index);  // needs a base period

// The daily steps of a series: consecutive days of a calendar, grouped by year.
struct DailyLayout {
  std::vector<int> years;                 // ascending
  std::vector<std::size_t> year_begin;    // first step of each year, then the number of steps
  std::vector<int> year_days;             // days in each year of the calendar
  std::vector<int> day_key;               // per step: the calendar day, 0 .. key_count - 1
  int key_count = 365;
};

// Throws kInvalidInput, naming `what` and the first step that is not the day after the one before
// (or saying the steps are monthly, ...) when the dates are not a daily series without gaps.
DailyLayout daily_layout(const std::vector<DateTime>& dates, Calendar calendar, std::string_view what);

// Hyndman & Fan's definition 8 of the q-quantile (q in [0, 1]) of `v` (reordered); NaN when empty.
double quantile_type8(std::vector<double>& v, double q);

struct EtccdiOptions {
  int base_first = -1000000, base_last = 1000000;  // base period (years), for percentile indices
  int max_missing_days = 15;
  int window = 5;                                  // days pooled around each calendar day
};

// One pixel at a time; keeps its scratch buffers between pixels.
class EtccdiCalculator {
 public:
  EtccdiCalculator(const EtccdiIndex& index, DailyLayout layout, EtccdiOptions options);
  std::size_t years() const { return layout_.years.size(); }
  // `x`: the pixel's value at every step (NaN: missing). `out`: one value per year (NaN: none).
  void compute(const double* x, double* out);

 private:
  void day_thresholds(const double* x);
  double wet_threshold(const double* x);
  double year_value(const double* x, std::size_t y, double wet_thr);
  double spell_days(const double* x, std::size_t b, std::size_t e, bool above) const;
  double longest(const double* x, std::size_t b, std::size_t e, bool wet) const;
  double max_sum5(const double* x, std::size_t b, std::size_t e) const;

  EtccdiIndex index_;
  DailyLayout layout_;
  EtccdiOptions opt_;
  std::vector<char> in_base_;                 // per step
  std::vector<std::vector<double>> buckets_;  // per calendar day: the pooled base values
  std::vector<double> thresholds_;            // per calendar day
  std::vector<double> scratch_;
};

}  // namespace sco::cube
