// The CF time decoder on arbitrary axes: the first byte picks a calendar (or the bytes up to the
// first newline are the calendar's name), the next line is the units text, the rest are the values
// (doubles, 8 bytes each, NaN and infinities included).
// Properties: no crash, no hang (1e300 days once looped forever), only sco errors thrown; every
// decoded date is a real date of its calendar (years 1-9999, months 1-12, days within the month,
// time of day within the day), and decoding it back gives the value within a millisecond.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "cube/cf_time.hpp"

namespace {
int month_days(int y, int m, sco::cube::Calendar cal) {
  using sco::cube::Calendar;
  if (cal == Calendar::kDay360) return 30;
  static const int kLen[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = false;
  switch (cal) {
    case Calendar::kAllLeap: leap = true; break;
    case Calendar::kNoLeap: leap = false; break;
    case Calendar::kJulian: leap = y % 4 == 0; break;
    case Calendar::kProlepticGregorian: leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; break;
    case Calendar::kStandard: leap = y < 1583 ? y % 4 == 0 : (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; break;
    default: break;
  }
  return kLen[m - 1] + (leap && m == 2 ? 1 : 0);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const char* const kCalendars[] = {"standard", "gregorian", "proleptic_gregorian", "julian", "noleap", "365_day", "all_leap", "366_day", "360_day", ""};
  if (size < 1) return 0;
  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string calendar = data[0] < 200 ? kCalendars[data[0] % 10] : "";
  if (data[0] >= 200) {
    const auto nl = text.find('\n');
    calendar = text.substr(0, nl);
    text = nl == std::string::npos ? "" : text.substr(nl + 1);
  }
  const auto nl = text.find('\n');
  const std::string units = text.substr(0, nl);
  const std::string rest = nl == std::string::npos ? "" : text.substr(nl + 1);
  std::vector<double> values(std::min<std::size_t>(rest.size() / 8, 64));
  if (!values.empty()) std::memcpy(values.data(), rest.data(), values.size() * 8);
  try {
    const auto cal = sco::cube::parse_calendar(calendar);
    const auto dates = sco::cube::decode_times(values, units, calendar);
    const auto u = sco::cube::parse_time_units(units);
    const double base = sco::cube::days_from_epoch(u.reference, cal);
    for (std::size_t i = 0; i < dates.size(); ++i) {
      const auto& d = dates[i];
      if (d.year < 1 || d.year > 9999 || d.month < 1 || d.month > 12 || d.day < 1 || d.day > month_days(d.year, d.month, cal) || d.hour < 0 ||
          d.hour > 23 || d.minute < 0 || d.minute > 59 || d.second < 0 || d.second >= 60.001) {
        std::fprintf(stderr, "not a date of the calendar: %s (value %.17g, calendar '%s')\n", d.iso().c_str(), values[i], calendar.c_str());
        std::abort();
      }
      const double want = base + values[i] * u.seconds_per_unit / 86400.0;
      // The date's own time of day is rounded to the millisecond.
      if (std::fabs(sco::cube::days_from_epoch(d, cal) - want) > 2e-8 * std::max(1.0, std::fabs(want)) + 1.2e-8) {
        std::fprintf(stderr, "%s decodes back to %.17g days, not %.17g\n", d.iso().c_str(), sco::cube::days_from_epoch(d, cal), want);
        std::abort();
      }
    }
  } catch (const sco::core::Error&) {
  }
  return 0;
}
