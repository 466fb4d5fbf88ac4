#include "cube/cf_time.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

#include "core/error.hpp"

namespace sco::cube {

using core::ErrorCode;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

constexpr int kLastYear = 9999;

bool gregorian_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
bool julian_leap(int y) { return y % 4 == 0; }

// Days before month m (1-12) in a year of the given kind.
int days_before_month(int m, bool leap) {
  static const int kCum[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  return kCum[m - 1] + (leap && m > 2 ? 1 : 0);
}

int month_length(int m, bool leap) {
  static const int kLen[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return kLen[m - 1] + (leap && m == 2 ? 1 : 0);
}

// Whole days from 0001-01-01 to year-month-day in the calendar.
long long day_number(int y, int m, int d, Calendar cal) {
  const long long py = y - 1;
  switch (cal) {
    case Calendar::kDay360:
      return py * 360 + (m - 1) * 30 + (d - 1);
    case Calendar::kNoLeap:
      return py * 365 + days_before_month(m, false) + (d - 1);
    case Calendar::kAllLeap:
      return py * 366 + days_before_month(m, true) + (d - 1);
    case Calendar::kJulian:
      return py * 365 + py / 4 + days_before_month(m, julian_leap(y)) + (d - 1);
    case Calendar::kProlepticGregorian:
      return py * 365 + py / 4 - py / 100 + py / 400 + days_before_month(m, gregorian_leap(y)) + (d - 1);
    case Calendar::kStandard: {
      // Julian before 1582-10-15, Gregorian from then on; 1582-10-05..14 do not exist.
      if (y < 1582 || (y == 1582 && (m < 10 || (m == 10 && d < 15)))) {
        return day_number(y, m, d, Calendar::kJulian);
      }
      return day_number(y, m, d, Calendar::kProlepticGregorian) + 2;  // the calendars differ by 2 days then
    }
  }
  return 0;
}

void date_of_day(long long n, Calendar cal, int& y, int& m, int& d) {
  auto from_year_length = [&](auto leap_of, auto days_in_year) {
    y = 1;
    // Jump close first, then walk.
    y = static_cast<int>(n / 366) + 1;
    while (day_number(y + 1, 1, 1, cal) <= n) ++y;
    while (day_number(y, 1, 1, cal) > n) --y;
    long long doy = n - day_number(y, 1, 1, cal);
    const bool leap = leap_of(y);
    m = 1;
    while (m < 12 && doy >= month_length(m, leap)) {
      doy -= month_length(m, leap);
      ++m;
    }
    d = static_cast<int>(doy) + 1;
    (void)days_in_year;
  };
  switch (cal) {
    case Calendar::kDay360:
      y = static_cast<int>(n / 360) + 1;
      m = static_cast<int>((n % 360) / 30) + 1;
      d = static_cast<int>(n % 30) + 1;
      return;
    case Calendar::kNoLeap:
      from_year_length([](int) { return false; }, 365);
      return;
    case Calendar::kAllLeap:
      from_year_length([](int) { return true; }, 366);
      return;
    case Calendar::kJulian:
      from_year_length(julian_leap, 0);
      return;
    case Calendar::kProlepticGregorian:
      from_year_length(gregorian_leap, 0);
      return;
    case Calendar::kStandard:
      if (n < day_number(1582, 10, 15, Calendar::kStandard)) {
        date_of_day(n, Calendar::kJulian, y, m, d);
      } else {
        date_of_day(n - 2, Calendar::kProlepticGregorian, y, m, d);
      }
      return;
  }
}

}  // namespace

Calendar parse_calendar(std::string_view name) {
  const std::string n = lower(name);
  if (n.empty() || n == "standard" || n == "gregorian") return Calendar::kStandard;
  if (n == "proleptic_gregorian") return Calendar::kProlepticGregorian;
  if (n == "julian") return Calendar::kJulian;
  if (n == "noleap" || n == "365_day") return Calendar::kNoLeap;
  if (n == "all_leap" || n == "366_day") return Calendar::kAllLeap;
  if (n == "360_day") return Calendar::kDay360;
  core::fail(ErrorCode::kInvalidInput,
             "unknown CF calendar '{}' (standard, gregorian, proleptic_gregorian, julian, noleap, 365_day, all_leap, "
             "366_day, 360_day)",
             name);
}

std::string DateTime::iso() const {
  const int s = static_cast<int>(std::floor(second + 1e-6));
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z", year, month, day, hour, minute, s);
}

TimeUnits parse_time_units(std::string_view text) {
  const std::string t = lower(text);
  const auto since = t.find(" since ");
  if (since == std::string::npos) {
    core::fail(ErrorCode::kInvalidInput, "time units '{}' are not 'UNIT since DATE'", text);
  }
  const std::string unit = t.substr(0, since);
  TimeUnits u;
  if (unit == "seconds" || unit == "second" || unit == "secs" || unit == "sec" || unit == "s") u.seconds_per_unit = 1;
  else if (unit == "minutes" || unit == "minute" || unit == "mins" || unit == "min") u.seconds_per_unit = 60;
  else if (unit == "hours" || unit == "hour" || unit == "hrs" || unit == "hr" || unit == "h") u.seconds_per_unit = 3600;
  else if (unit == "days" || unit == "day" || unit == "d") u.seconds_per_unit = 86400;
  else {
    core::fail(ErrorCode::kInvalidInput, "time units '{}': unit '{}' is not seconds, minutes, hours or days", text, unit);
  }
  int y = 0, mo = 0, d = 0, h = 0, mi = 0;
  double s = 0;
  const std::string date = t.substr(since + 7);
  const int n = std::sscanf(date.c_str(), "%d-%d-%d%*[ t]%d:%d:%lf", &y, &mo, &d, &h, &mi, &s);
  if (n < 3 || mo < 1 || mo > 12 || d < 1 || d > 31 || y < 1 || y > kLastYear || (n >= 4 && (h < 0 || h > 23)) ||
      (n >= 5 && (mi < 0 || mi > 59)) || (n >= 6 && !(s >= 0 && s < 61))) {
    core::fail(ErrorCode::kInvalidInput, "time units '{}': cannot read the reference date '{}' (YYYY-MM-DD[ hh:mm[:ss]], years 1-{})", text,
               date, kLastYear);
  }
  u.reference = DateTime{y, mo, d, n >= 4 ? h : 0, n >= 5 ? mi : 0, n >= 6 ? s : 0.0};
  return u;
}

double days_from_epoch(const DateTime& dt, Calendar cal) {
  return static_cast<double>(day_number(dt.year, dt.month, dt.day, cal)) +
         (dt.hour * 3600.0 + dt.minute * 60.0 + dt.second) / 86400.0;
}

DateTime date_from_days(double days, Calendar cal) {
  // Dates are written with four-digit years (RFC 3339, ISO 8601's basic range): 0001-01-01 to
  // 9999-12-31. Outside, the year arithmetic would overflow (1e300 days once looped forever).
  const double last = static_cast<double>(day_number(kLastYear + 1, 1, 1, cal));
  if (!(days >= 0.0 && std::round(days * 86400000.0) < last * 86400000.0)) {
    core::fail(ErrorCode::kInvalidInput, "{} days from 0001-01-01 lies outside the dates this calendar can write (0001-01-01 to {}-12-31)",
               days, kLastYear);
  }
  // Rounded to the millisecond first (so that 0.5 day is exactly 12:00:00), then split into the day
  // and the time of day: a time a hair before midnight is the next day's 00:00:00, never 24:00:00.
  // Within the years 1-9999 the milliseconds (below 3.2e14) are exact in a double.
  const double ms = std::round(days * 86400000.0);
  const double whole = std::floor(ms / 86400000.0);
  DateTime dt;
  date_of_day(static_cast<long long>(whole), cal, dt.year, dt.month, dt.day);
  double secs = (ms - whole * 86400000.0) / 1000.0;
  dt.hour = static_cast<int>(secs / 3600);
  secs -= dt.hour * 3600.0;
  dt.minute = static_cast<int>(secs / 60);
  dt.second = secs - dt.minute * 60.0;
  return dt;
}

double decimal_year(const DateTime& dt, Calendar cal) {
  const double start = static_cast<double>(day_number(dt.year, 1, 1, cal));
  const double length = static_cast<double>(day_number(dt.year + 1, 1, 1, cal)) - start;
  return dt.year + (days_from_epoch(dt, cal) - start) / length;
}

std::vector<double> decimal_years(const std::vector<DateTime>& dates, Calendar calendar, const std::vector<std::size_t>& steps, double per) {
  std::vector<double> t;
  t.reserve(steps.size());
  for (std::size_t i : steps) t.push_back(dates.empty() ? static_cast<double>(i) / per : decimal_year(dates[i], calendar) / per);
  return t;
}

std::vector<DateTime> decode_times(const std::vector<double>& values, std::string_view units, std::string_view calendar) {
  const Calendar cal = parse_calendar(calendar);
  const TimeUnits u = parse_time_units(units);
  const double base = days_from_epoch(u.reference, cal);
  std::vector<DateTime> out;
  out.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    if (!std::isfinite(v)) core::fail(ErrorCode::kInvalidInput, "time value {} (step {}) is not a number", v, i + 1);
    try {
      out.push_back(date_from_days(base + v * u.seconds_per_unit / 86400.0, cal));
    } catch (const core::Error&) {
      core::fail(ErrorCode::kInvalidInput, "time value {} (step {}) in '{}' lies outside the years 1-{} of the {} calendar", v, i + 1, units,
                 kLastYear, calendar.empty() ? "standard" : calendar);
    }
  }
  return out;
}

}  // namespace sco::cube
