#pragma once
// CF-convention time axes (CF 1.x, section 4.4): values are offsets in a unit since a reference
// date, "days since 1999-01-01 00:00:00", in one of the CF calendars. Decoding turns each value
// into a calendar date in that calendar; no conversion between calendars is attempted (a 360_day
// model's 30 February stays 30 February).
#include <string>
#include <string_view>
#include <vector>

namespace sco::cube {

enum class Calendar { kStandard, kProlepticGregorian, kJulian, kNoLeap, kAllLeap, kDay360 };

// Parses the CF calendar attribute (case-insensitive): standard, gregorian, proleptic_gregorian,
// julian, noleap, 365_day, all_leap, 366_day, 360_day. Throws naming the value otherwise.
Calendar parse_calendar(std::string_view name);

struct DateTime {
  int year = 1970, month = 1, day = 1;
  int hour = 0, minute = 0;
  double second = 0.0;
  bool operator==(const DateTime&) const = default;
  std::string iso() const;  // "1999-03-16T00:00:00Z"
};

struct TimeUnits {
  double seconds_per_unit = 86400.0;  // seconds, minutes, hours, days (CF discourages months/years)
  DateTime reference;
};

// Parses "UNIT since YYYY-MM-DD[ hh:mm[:ss[.f]]][ timezone]". Throws naming the text.
TimeUnits parse_time_units(std::string_view units);

// Days from 0001-01-01 of the calendar to `date` (0 for that day), and back.
double days_from_epoch(const DateTime& date, Calendar calendar);
DateTime date_from_days(double days, Calendar calendar);

// The date as a year with its fraction in the calendar's own years: the year number plus the time
// since its 1 January over the length of that year (365 days in noleap, 366 in all_leap, 360 in
// 360_day; 365 or 366 in the standard, proleptic Gregorian and Julian calendars, 355 in 1582 of the
// standard one). What trends per year and per decade are measured in.
double decimal_year(const DateTime& date, Calendar calendar);
// The decimal years of the selected steps divided by `per` (10: decades); without dates, the step
// numbers (0, 1, ...) divided by `per`. Every trend of a run and of `sco cube` is measured on these.
std::vector<double> decimal_years(const std::vector<DateTime>& dates, Calendar calendar, const std::vector<std::size_t>& steps,
                                  double per = 1.0);

// Decodes CF time values into dates.
std::vector<DateTime> decode_times(const std::vector<double>& values, std::string_view units, std::string_view calendar);

}  // namespace sco::cube
