#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "core/error.hpp"
#include "core/parse.hpp"

using sco::core::parse_band_number;
using sco::core::parse_finite;
using sco::core::parse_integer;
using sco::core::parse_rfc3339;

namespace {
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const sco::core::Error& e) {
    EXPECT_EQ(e.code(), sco::core::ErrorCode::kInvalidInput);
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}
}  // namespace

TEST(ParseInteger, RangeIsCheckedNeverWrapped) {
  EXPECT_EQ(parse_integer("42", 0, 100, "n"), 42);
  EXPECT_EQ(parse_integer("-7", -10, 10, "n"), -7);
  // 4294967297 = 2^32 + 1 once wrapped to band 1 (a 32-bit truncation) or threw std::stoi's
  // out_of_range as an internal error.
  EXPECT_EQ(error_of([] { parse_band_number("4294967297", "bidx"); }), "bidx: '4294967297' is not a whole number from 1 to 65535");
  EXPECT_NE(error_of([] { parse_integer("99999999999999999999999", 0, 10, "x"); }).find("is not a whole number"), std::string::npos);
  for (const char* bad : {"", " 1", "1 ", "+1", "1.0", "0x10", "1e3", "abc", "0"}) {
    EXPECT_NE(error_of([&] { parse_band_number(bad, "band"); }).find("band: '"), std::string::npos) << bad;
  }
}

TEST(ParseFinite, RefusesNanAndInfinity) {
  EXPECT_DOUBLE_EQ(parse_finite("-35.25", "bbox"), -35.25);
  EXPECT_DOUBLE_EQ(parse_finite("1e2", "bbox"), 100.0);
  for (const char* bad : {"nan", "NaN", "inf", "-inf", "1e400", "", " 1", "1,2", "1x"}) {
    EXPECT_NE(error_of([&] { parse_finite(bad, "bbox"); }).find("is not a finite number"), std::string::npos) << bad;
  }
}

TEST(ParseRfc3339, RealDatesOnly) {
  EXPECT_EQ(parse_rfc3339("2020-02-29", "d"), "2020-02-29T00:00:00Z");  // a leap year
  EXPECT_EQ(parse_rfc3339("2000-02-29T12:30:00Z", "d"), "2000-02-29T12:30:00Z");  // divisible by 400
  EXPECT_EQ(parse_rfc3339("2021-06-01T10:00:00.25Z", "d"), "2021-06-01T10:00:00.25Z");
  // Offsets are taken to UTC across day, month and year boundaries.
  EXPECT_EQ(parse_rfc3339("2021-01-01T01:30:00+02:00", "d"), "2020-12-31T23:30:00Z");
  EXPECT_EQ(parse_rfc3339("2020-02-28T23:00:00-01:30", "d"), "2020-02-29T00:30:00Z");
  EXPECT_NE(error_of([] { parse_rfc3339("2020-02-30", "--datetime"); }).find("day 30 of a month of 29 days"), std::string::npos);
  EXPECT_NE(error_of([] { parse_rfc3339("2019-02-29", "d"); }).find("day 29 of a month of 28 days"), std::string::npos);
  EXPECT_NE(error_of([] { parse_rfc3339("1900-02-29", "d"); }).find("28 days"), std::string::npos);  // not divisible by 400
  EXPECT_NE(error_of([] { parse_rfc3339("2020-13-45T99:99:99Z", "datetime"); }).find("datetime: '2020-13-45T99:99:99Z'"), std::string::npos);
  EXPECT_NE(error_of([] { parse_rfc3339("2020-13-01", "d"); }).find("month 13"), std::string::npos);
  EXPECT_NE(error_of([] { parse_rfc3339("2020-01-01T24:00:00Z", "d"); }).find("time 24:00:00"), std::string::npos);
  // Five-digit years were once cut to their last four digits (99999 -> 9999).
  EXPECT_NE(error_of([] { parse_rfc3339("99999-01-01", "d"); }).find("four-digit year"), std::string::npos);
  EXPECT_NE(error_of([] { parse_rfc3339("0000-01-01", "d"); }).find("year 0000"), std::string::npos);
  EXPECT_NE(error_of([] { parse_rfc3339("9999-12-31T23:00:00-02:00", "d"); }).find("0001-9999"), std::string::npos);
  for (const char* bad : {"2020-1-01", "2020-01-01T10:00:00", "2020-01-01T10:00Z", "2020-01-01Tx", "2020-01-01Z", "yesterday", ""}) {
    EXPECT_FALSE(error_of([&] { parse_rfc3339(bad, "d"); }).empty()) << bad;
  }
}
