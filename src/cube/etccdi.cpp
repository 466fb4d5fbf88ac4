#include "cube/etccdi.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"

namespace sco::cube {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kWet = 1.0;  // mm: a wet day

using K = EtccdiKind;

}  // namespace

const std::vector<EtccdiIndex>& etccdi_indices() {
  static const std::vector<EtccdiIndex> kIndices = {
      {"TXx", "tasmax", K::kMax, 0, "degC", "the year's highest daily maximum temperature"},
      {"TXn", "tasmax", K::kMin, 0, "degC", "the year's lowest daily maximum temperature"},
      {"TNx", "tasmin", K::kMax, 0, "degC", "the year's highest daily minimum temperature"},
      {"TNn", "tasmin", K::kMin, 0, "degC", "the year's lowest daily minimum temperature"},
      {"SU", "tasmax", K::kDaysAbove, 25, "days", "summer days: daily maximum above 25 degC"},
      {"ID", "tasmax", K::kDaysBelow, 0, "days", "icing days: daily maximum below 0 degC"},
      {"TR", "tasmin", K::kDaysAbove, 20, "days", "tropical nights: daily minimum above 20 degC"},
      {"FD", "tasmin", K::kDaysBelow, 0, "days", "frost days: daily minimum below 0 degC"},
      {"TX90p", "tasmax", K::kPercentAbovePercentile, 90, "%", "warm days: share of days above the calendar day's 90th percentile of the base"},
      {"TN90p", "tasmin", K::kPercentAbovePercentile, 90, "%", "warm nights: share of days above the calendar day's 90th percentile of the base"},
      {"TX10p", "tasmax", K::kPercentBelowPercentile, 10, "%", "cool days: share of days below the calendar day's 10th percentile of the base"},
      {"TN10p", "tasmin", K::kPercentBelowPercentile, 10, "%", "cool nights: share of days below the calendar day's 10th percentile of the base"},
      {"WSDI", "tasmax", K::kSpellAbovePercentile, 90, "days", "warm spell duration: days in spells of at least 6 days above the 90th percentile"},
      {"CSDI", "tasmin", K::kSpellBelowPercentile, 10, "days", "cold spell duration: days in spells of at least 6 days below the 10th percentile"},
      {"Rx1day", "pr", K::kMax, 0, "mm", "the year's wettest day"},
      {"Rx5day", "pr", K::kMaxSum5, 0, "mm", "the year's wettest 5 consecutive days"},
      {"R10mm", "pr", K::kDaysAtLeast, 10, "days", "heavy precipitation days: at least 10 mm"},
      {"R20mm", "pr", K::kDaysAtLeast, 20, "days", "very heavy precipitation days: at least 20 mm"},
      {"R95p", "pr", K::kWetAmountAbovePercentile, 95, "mm", "precipitation of very wet days: above the base's 95th percentile of wet days"},
      {"R99p", "pr", K::kWetAmountAbovePercentile, 99, "mm", "precipitation of extremely wet days: above the base's 99th percentile of wet days"},
      {"CDD", "pr", K::kLongestDry, 0, "days", "consecutive dry days: the longest spell below 1 mm"},
      {"CWD", "pr", K::kLongestWet, 0, "days", "consecutive wet days: the longest spell of at least 1 mm"},
      {"PRCPTOT", "pr", K::kWetTotal, 0, "mm", "precipitation of the wet days (at least 1 mm)"},
      {"SDII", "pr", K::kWetIntensity, 0, "mm/day", "simple daily intensity: PRCPTOT over the number of wet days"},
  };
  return kIndices;
}

const EtccdiIndex& find_etccdi_index(std::string_view name) {
  std::string names;
  for (const auto& i : etccdi_indices()) {
    if (i.name == name) return i;
    names += (names.empty() ? "" : ", ") + i.name;
  }
  core::fail(core::ErrorCode::kInvalidInput, "unknown ETCCDI index '{}' (indices: {})", name, names);
}

bool uses_percentiles(const EtccdiIndex& index) {
  switch (index.kind) {
    case K::kPercentAbovePercentile: case K::kPercentBelowPercentile: case K::kSpellAbovePercentile:
    case K::kSpellBelowPercentile: case K::kWetAmountAbovePercentile:
      return true;
    default:
      return false;
  }
}

DailyLayout daily_layout(const std::vector<DateTime>& dates, Calendar calendar, std::string_view what) {
  if (dates.empty()) core::fail(core::ErrorCode::kInvalidInput, "{} has no dates; the ETCCDI indices need daily steps", what);
  std::vector<double> day(dates.size());
  for (std::size_t i = 0; i < dates.size(); ++i) day[i] = std::floor(days_from_epoch(dates[i], calendar));
  if (dates.size() > 1) {
    std::vector<double> gaps(dates.size() - 1);
    for (std::size_t i = 1; i < dates.size(); ++i) gaps[i - 1] = day[i] - day[i - 1];
    std::nth_element(gaps.begin(), gaps.begin() + static_cast<std::ptrdiff_t>(gaps.size() / 2), gaps.end());
    const double typical = gaps[gaps.size() / 2];
    if (typical >= 28) {
      core::fail(core::ErrorCode::kInvalidInput, "{} has {} steps ({} days apart); the ETCCDI indices need daily steps", what,
                 typical <= 31 ? "monthly" : "longer than daily", typical);
    }
    for (std::size_t i = 1; i < dates.size(); ++i) {
      if (day[i] - day[i - 1] != 1) {
        core::fail(core::ErrorCode::kInvalidInput,
                   "{}: step {} ({}) is not the day after step {} ({}); the ETCCDI indices need a daily series without gaps "
                   "(give missing days as nodata)", what, i + 1, dates[i].iso().substr(0, 10), i, dates[i - 1].iso().substr(0, 10));
      }
    }
  }
  DailyLayout l;
  const bool fixed = calendar == Calendar::kNoLeap || calendar == Calendar::kAllLeap || calendar == Calendar::kDay360;
  l.day_key.resize(dates.size());
  double jan1 = 0;
  for (std::size_t i = 0; i < dates.size(); ++i) {
    const int y = dates[i].year;
    if (l.years.empty() || l.years.back() != y) {
      jan1 = days_from_epoch(DateTime{y, 1, 1}, calendar);
      l.years.push_back(y);
      l.year_begin.push_back(i);
      l.year_days.push_back(static_cast<int>(days_from_epoch(DateTime{y + 1, 1, 1}, calendar) - jan1));
    }
    const int doy = static_cast<int>(day[i] - jan1);
    // A 366-day year of a variable calendar: 29 February (doy 59) shares 28 February's key.
    l.day_key[i] = (!fixed && l.year_days.back() == 366 && doy >= 59) ? doy - 1 : doy;
  }
  // Fixed calendars: every year has the same days (365, 366 or 360); the others: a 365-day year's.
  l.key_count = fixed ? static_cast<int>(days_from_epoch(DateTime{2002, 1, 1}, calendar) - days_from_epoch(DateTime{2001, 1, 1}, calendar)) : 365;
  for (int& k : l.day_key) k = std::min(k, l.key_count - 1);
  l.year_begin.push_back(dates.size());
  return l;
}

double quantile_type8(std::vector<double>& v, double q) {
  const std::size_t n = v.size();
  if (n == 0) return kNaN;
  const double h = (static_cast<double>(n) + 1.0 / 3.0) * q + 1.0 / 3.0;  // 1-based
  if (h <= 1) return *std::min_element(v.begin(), v.end());
  if (h >= static_cast<double>(n)) return *std::max_element(v.begin(), v.end());
  const auto lo = static_cast<std::size_t>(std::floor(h)) - 1;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(lo), v.end());
  const double a = v[lo];
  const double b = *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(lo) + 1, v.end());
  return a + (h - std::floor(h)) * (b - a);
}

EtccdiCalculator::EtccdiCalculator(const EtccdiIndex& index, DailyLayout layout, EtccdiOptions options)
    : index_(index), layout_(std::move(layout)), opt_(options) {
  const std::size_t steps = layout_.day_key.size();
  in_base_.assign(steps, 0);
  for (std::size_t y = 0; y < layout_.years.size(); ++y) {
    const bool base = layout_.years[y] >= opt_.base_first && layout_.years[y] <= opt_.base_last;
    for (std::size_t i = layout_.year_begin[y]; i < layout_.year_begin[y + 1]; ++i) in_base_[i] = base ? 1 : 0;
  }
  buckets_.resize(static_cast<std::size_t>(layout_.key_count));
  thresholds_.assign(static_cast<std::size_t>(layout_.key_count), kNaN);
}

void EtccdiCalculator::day_thresholds(const double* x) {
  for (auto& b : buckets_) b.clear();
  const auto n = static_cast<std::ptrdiff_t>(layout_.day_key.size());
  const std::ptrdiff_t half = opt_.window / 2;
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    if (!in_base_[static_cast<std::size_t>(i)]) continue;
    auto& bucket = buckets_[static_cast<std::size_t>(layout_.day_key[static_cast<std::size_t>(i)])];
    for (std::ptrdiff_t j = std::max<std::ptrdiff_t>(0, i - half); j <= std::min(n - 1, i + half); ++j) {
      if (in_base_[static_cast<std::size_t>(j)] && !std::isnan(x[j])) bucket.push_back(x[j]);
    }
  }
  const double q = index_.threshold / 100.0;
  for (std::size_t k = 0; k < buckets_.size(); ++k) thresholds_[k] = quantile_type8(buckets_[k], q);
}

double EtccdiCalculator::wet_threshold(const double* x) {
  scratch_.clear();
  for (std::size_t i = 0; i < layout_.day_key.size(); ++i) {
    if (in_base_[i] && x[i] >= kWet) scratch_.push_back(x[i]);
  }
  return quantile_type8(scratch_, index_.threshold / 100.0);
}

void EtccdiCalculator::compute(const double* x, double* out) {
  double wet_thr = kNaN;
  if (index_.kind == K::kWetAmountAbovePercentile) {
    wet_thr = wet_threshold(x);
  } else if (uses_percentiles(index_)) {
    day_thresholds(x);
  }
  for (std::size_t y = 0; y < layout_.years.size(); ++y) {
    const std::size_t b = layout_.year_begin[y], e = layout_.year_begin[y + 1];
    std::size_t valid = 0;
    for (std::size_t i = b; i < e; ++i) valid += std::isnan(x[i]) ? 0 : 1;
    const auto missing = static_cast<std::ptrdiff_t>(layout_.year_days[y]) - static_cast<std::ptrdiff_t>(valid);
    out[y] = (valid == 0 || missing > opt_.max_missing_days) ? kNaN : year_value(x, y, wet_thr);
  }
}

double EtccdiCalculator::year_value(const double* x, std::size_t y, double wet_thr) {
  const std::size_t b = layout_.year_begin[y], e = layout_.year_begin[y + 1];
  const double thr = index_.threshold;
  double acc = 0, count = 0, valid = 0;
  double hi = -std::numeric_limits<double>::infinity(), lo = std::numeric_limits<double>::infinity();
  for (std::size_t i = b; i < e; ++i) {
    const double v = x[i];
    if (std::isnan(v)) continue;
    valid += 1;
    hi = std::max(hi, v);
    lo = std::min(lo, v);
    switch (index_.kind) {
      case K::kDaysAbove: count += v > thr; break;
      case K::kDaysBelow: count += v < thr; break;
      case K::kDaysAtLeast: count += v >= thr; break;
      case K::kPercentAbovePercentile: case K::kPercentBelowPercentile: {
        const double t = thresholds_[static_cast<std::size_t>(layout_.day_key[i])];
        if (std::isnan(t)) {
          valid -= 1;
        } else {
          count += index_.kind == K::kPercentAbovePercentile ? v > t : v < t;
        }
        break;
      }
      case K::kWetAmountAbovePercentile: acc += (v >= kWet && v > wet_thr) ? v : 0; break;
      case K::kWetTotal: case K::kWetIntensity:
        if (v >= kWet) { acc += v; count += 1; }
        break;
      default: break;
    }
  }
  switch (index_.kind) {
    case K::kMax: return hi;
    case K::kMin: return lo;
    case K::kDaysAbove: case K::kDaysBelow: case K::kDaysAtLeast: return count;
    case K::kPercentAbovePercentile: case K::kPercentBelowPercentile: return valid > 0 ? 100.0 * count / valid : kNaN;
    case K::kSpellAbovePercentile: return spell_days(x, b, e, true);
    case K::kSpellBelowPercentile: return spell_days(x, b, e, false);
    case K::kMaxSum5: return max_sum5(x, b, e);
    case K::kWetAmountAbovePercentile: return std::isnan(wet_thr) ? kNaN : acc;
    case K::kLongestDry: return longest(x, b, e, false);
    case K::kLongestWet: return longest(x, b, e, true);
    case K::kWetTotal: return acc;
    case K::kWetIntensity: return count > 0 ? acc / count : kNaN;
  }
  return kNaN;
}

// Days in runs of at least 6 consecutive days beyond the calendar day's threshold, within [b, e).
double EtccdiCalculator::spell_days(const double* x, std::size_t b, std::size_t e, bool above) const {
  constexpr int kSpell = 6;
  double total = 0;
  int run = 0;
  for (std::size_t i = b; i <= e; ++i) {
    bool hit = false;
    if (i < e) {
      const double t = thresholds_[static_cast<std::size_t>(layout_.day_key[i])];
      hit = !std::isnan(x[i]) && !std::isnan(t) && (above ? x[i] > t : x[i] < t);
    }
    if (hit) {
      ++run;
    } else {
      if (run >= kSpell) total += run;
      run = 0;
    }
  }
  return total;
}

double EtccdiCalculator::longest(const double* x, std::size_t b, std::size_t e, bool wet) const {
  int run = 0, best = 0;
  for (std::size_t i = b; i < e; ++i) {
    const bool hit = !std::isnan(x[i]) && (wet ? x[i] >= kWet : x[i] < kWet);
    run = hit ? run + 1 : 0;
    best = std::max(best, run);
  }
  return best;
}

double EtccdiCalculator::max_sum5(const double* x, std::size_t b, std::size_t e) const {
  constexpr std::size_t kDays = 5;
  double best = kNaN;
  for (std::size_t i = std::max(b, kDays - 1); i < e; ++i) {
    double s = 0;
    bool ok = true;
    for (std::size_t j = i + 1 - kDays; j <= i && ok; ++j) {
      ok = !std::isnan(x[j]);
      s += x[j];
    }
    if (ok && !(s <= best)) best = s;
  }
  return best;
}

}  // namespace sco::cube
