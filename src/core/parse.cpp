#include "core/parse.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "core/error.hpp"

namespace sco::core {

std::int64_t parse_integer(std::string_view text, std::int64_t min, std::int64_t max, std::string_view what) {
  std::int64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [p, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || p != end || v < min || v > max) {
    fail(ErrorCode::kInvalidInput, "{}: '{}' is not a whole number from {} to {}", what, text, min, max);
  }
  return v;
}

double parse_finite(std::string_view text, std::string_view what) {
  const std::string s(text);
  char* end = nullptr;
  const double v = s.empty() ? NAN : std::strtod(s.c_str(), &end);
  if (s.empty() || *end || !std::isfinite(v) || std::isspace(static_cast<unsigned char>(s[0]))) {
    fail(ErrorCode::kInvalidInput, "{}: '{}' is not a finite number", what, text);
  }
  return v;
}

namespace {

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int days_in_month(int y, int m) {
  static const int kLen[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return kLen[m - 1] + (m == 2 && leap(y) ? 1 : 0);
}

// Reads exactly `n` digits at `pos` into `out`.
bool digits(std::string_view s, std::size_t& pos, int n, int& out) {
  if (pos + static_cast<std::size_t>(n) > s.size()) return false;
  out = 0;
  for (int k = 0; k < n; ++k) {
    const char c = s[pos + static_cast<std::size_t>(k)];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += static_cast<std::size_t>(n);
  return true;
}

// Days since 1970-01-01 of a Gregorian date (Howard Hinnant's days_from_civil algorithm, public
// domain arithmetic), to shift a time zone offset across day, month and year boundaries.
long long days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const long long yoe = y - era * 400;
  const long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}
void civil_from_days(long long z, int& y, int& m, int& d) {
  z += 719468;
  const long long era = (z >= 0 ? z : z - 146096) / 146097;
  const long long doe = z - era * 146097;
  const long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const long long mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yoe + era * 400 + (m <= 2));
}

}  // namespace

std::string parse_rfc3339(std::string_view s, std::string_view what) {
  auto bad = [&](std::string_view why) -> std::string {
    fail(ErrorCode::kInvalidInput, "{}: '{}' is not a valid date ({}; expected YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ)", what, s, why);
  };
  std::size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!digits(s, pos, 4, y) || pos >= s.size() || s[pos++] != '-' || !digits(s, pos, 2, mo) || pos >= s.size() || s[pos++] != '-' ||
      !digits(s, pos, 2, d)) {
    return bad("not YYYY-MM-DD with a four-digit year");
  }
  if (y < 1) return bad("year 0000");
  if (mo < 1 || mo > 12) return bad("month " + std::to_string(mo));
  if (d < 1 || d > days_in_month(y, mo)) return bad(fmt::format("day {} of a month of {} days", d, days_in_month(y, mo)));
  std::string fraction;
  int offset_minutes = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return bad("text after the date");
    ++pos;
    if (!digits(s, pos, 2, h) || pos >= s.size() || s[pos++] != ':' || !digits(s, pos, 2, mi) || pos >= s.size() || s[pos++] != ':' ||
        !digits(s, pos, 2, sec)) {
      return bad("not hh:mm:ss after the date");
    }
    if (h > 23 || mi > 59 || sec > 60) return bad(fmt::format("time {:02d}:{:02d}:{:02d}", h, mi, sec));
    if (pos < s.size() && s[pos] == '.') {
      const std::size_t start = pos++;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
      if (pos == start + 1) return bad("no digits after '.'");
      fraction = std::string(s.substr(start, pos - start));
    }
    if (pos >= s.size()) return bad("no time zone (Z or +hh:mm)");
    if (s[pos] == 'Z' || s[pos] == 'z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      const int sign = s[pos++] == '-' ? -1 : 1;
      int oh = 0, om = 0;
      if (!digits(s, pos, 2, oh) || pos >= s.size() || s[pos++] != ':' || !digits(s, pos, 2, om) || oh > 23 || om > 59) {
        return bad("time zone not +hh:mm");
      }
      offset_minutes = sign * (oh * 60 + om);
    } else {
      return bad("no time zone (Z or +hh:mm)");
    }
    if (pos != s.size()) return bad("text after the time zone");
  }
  // To UTC.
  long long minutes = days_from_civil(y, mo, d) * 1440 + h * 60 + mi - offset_minutes;
  long long days = minutes >= 0 ? minutes / 1440 : -((-minutes + 1439) / 1440);
  minutes -= days * 1440;
  civil_from_days(days, y, mo, d);
  if (y < 1 || y > 9999) return bad("outside the years 0001-9999 in UTC");
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}{}Z", y, mo, d, minutes / 60, minutes % 60, sec, fraction);
}

}  // namespace sco::core
