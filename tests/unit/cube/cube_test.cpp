#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/error.hpp"
#include "cube/cf_time.hpp"
#include "cube/reducers.hpp"
#include "cube/series_op.hpp"
#include "cube/spi.hpp"
#include "cube/trend.hpp"

using namespace sco::cube;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
std::string iso(const std::vector<double>& v, const char* units, const char* cal, std::size_t i) {
  return decode_times(v, units, cal)[i].iso();
}
}  // namespace

TEST(CfTime, StandardCalendarDaysAndHours) {
  // 1999: January has 31 days, February 28.
  const std::vector<double> days = {0, 31, 59.5, 364};
  EXPECT_EQ(iso(days, "days since 1999-01-01", "standard", 0), "1999-01-01T00:00:00Z");
  EXPECT_EQ(iso(days, "days since 1999-01-01", "standard", 1), "1999-02-01T00:00:00Z");
  EXPECT_EQ(iso(days, "days since 1999-01-01", "gregorian", 2), "1999-03-01T12:00:00Z");
  EXPECT_EQ(iso(days, "days since 1999-01-01 00:00:00", "standard", 3), "1999-12-31T00:00:00Z");
  EXPECT_EQ(iso({36}, "hours since 1999-01-01 00:00:00", "standard", 0), "1999-01-02T12:00:00Z");
  EXPECT_EQ(iso({90}, "minutes since 1999-12-31 23:00", "standard", 0), "2000-01-01T00:30:00Z");
}

TEST(CfTime, ModelCalendars) {
  // 2000 is a leap year in the standard calendar: day 59 is 29 February; noleap has no 29
  // February, so day 59 is 1 March; in all_leap even 2001 has a 29 February.
  EXPECT_EQ(iso({59}, "days since 2000-01-01", "standard", 0), "2000-02-29T00:00:00Z");
  EXPECT_EQ(iso({59}, "days since 2000-01-01", "noleap", 0), "2000-03-01T00:00:00Z");
  EXPECT_EQ(iso({59}, "days since 2000-01-01", "365_day", 0), "2000-03-01T00:00:00Z");
  EXPECT_EQ(iso({59}, "days since 2001-01-01", "all_leap", 0), "2001-02-29T00:00:00Z");
  // 360_day: twelve 30-day months; day 59 is 30 February, day 360 the next new year.
  EXPECT_EQ(iso({59}, "days since 2000-01-01", "360_day", 0), "2000-02-30T00:00:00Z");
  EXPECT_EQ(iso({360}, "days since 2000-01-01", "360_day", 0), "2001-01-01T00:00:00Z");
  // 1900 is a leap year in the Julian calendar, not in the Gregorian.
  EXPECT_EQ(iso({59}, "days since 1900-01-01", "julian", 0), "1900-02-29T00:00:00Z");
  EXPECT_EQ(iso({59}, "days since 1900-01-01", "proleptic_gregorian", 0), "1900-03-01T00:00:00Z");
  // The standard calendar jumps from 4 to 15 October 1582.
  EXPECT_EQ(iso({1}, "days since 1582-10-04", "standard", 0), "1582-10-15T00:00:00Z");
  EXPECT_EQ(iso({1}, "days since 1582-10-04", "julian", 0), "1582-10-05T00:00:00Z");
}

TEST(CfTime, BadUnitsAndCalendarsNameTheText) {
  EXPECT_THROW(decode_times({0}, "fortnights since 2000-01-01", "standard"), sco::core::Error);
  EXPECT_THROW(decode_times({0}, "days after 2000-01-01", "standard"), sco::core::Error);
  EXPECT_THROW(decode_times({0}, "days since yesterday", "standard"), sco::core::Error);
  try {
    decode_times({0}, "days since 2000-01-01", "mayan");
    FAIL();
  } catch (const sco::core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown CF calendar 'mayan'"), std::string::npos);
  }
}

TEST(Trend, PerfectIncreaseWithoutTies) {
  // x = t on 5 steps: every pair increases, S = C(5,2) = 10; Var = 5*4*15/18 = 16.667;
  // Z = (10 - 1)/sqrt(16.667) = 2.2045; p = P(|N(0,1)| > 2.2045) = 0.02749 (normal table).
  const double t[] = {0, 1, 2, 3, 4}, x[] = {1, 2, 3, 4, 5};
  std::vector<double> scratch;
  const TrendResult r = trend(t, x, 5, scratch);
  EXPECT_EQ(r.n, 5);
  EXPECT_DOUBLE_EQ(r.slope, 1.0);
  EXPECT_EQ(r.s, 10);
  EXPECT_NEAR(r.var_s, 300.0 / 18.0, 1e-12);
  EXPECT_NEAR(r.z, 9.0 / std::sqrt(300.0 / 18.0), 1e-12);
  EXPECT_NEAR(r.p, 0.02749, 5e-5);
}

TEST(Trend, TiesCorrectTheVariance) {
  // x = 1 1 2 3 at t = 0 1 2 3: pairs give 0 + + + + +, S = 5; one tie group of 2:
  // Var = [4*3*13 - 2*1*9]/18 = 138/18; Z = 4/sqrt(138/18).
  // Slopes 0, 1/2, 2/3, 1, 1, 1: median of six = (2/3 + 1)/2 = 5/6.
  const double t[] = {0, 1, 2, 3}, x[] = {1, 1, 2, 3};
  std::vector<double> scratch;
  const TrendResult r = trend(t, x, 4, scratch);
  EXPECT_EQ(r.s, 5);
  EXPECT_NEAR(r.var_s, 138.0 / 18.0, 1e-12);
  EXPECT_NEAR(r.z, 4.0 / std::sqrt(138.0 / 18.0), 1e-12);
  EXPECT_NEAR(r.slope, 5.0 / 6.0, 1e-12);
}

TEST(Trend, MissingObservationsAreSkipped) {
  // Valid (1,2), (2,4), (4,8): slopes 2, 2, 2; S = 3; Var = 3*2*11/18; decreasing series flips S.
  const double t[] = {0, 1, 2, 3, 4}, x[] = {kNaN, 2, 4, kNaN, 8};
  std::vector<double> scratch;
  const TrendResult r = trend(t, x, 5, scratch);
  EXPECT_EQ(r.n, 3);
  EXPECT_DOUBLE_EQ(r.slope, 2.0);
  EXPECT_EQ(r.s, 3);
  EXPECT_NEAR(r.z, 2.0 / std::sqrt(66.0 / 18.0), 1e-12);
  const double down[] = {5, 4, 3, 2, 1};
  EXPECT_NEAR(trend(t, down, 5, scratch).z, -9.0 / std::sqrt(300.0 / 18.0), 1e-12);
  const double one[] = {kNaN, kNaN, 3, kNaN, kNaN};
  EXPECT_TRUE(std::isnan(trend(t, one, 5, scratch).slope));
  EXPECT_EQ(trend(t, one, 5, scratch).p, 1.0);
}

TEST(Reducers, SkipMissingAndMatchNumpyPercentile) {
  const double x[] = {4, kNaN, 1, 3, 2};
  std::vector<double> scratch;
  EXPECT_DOUBLE_EQ(series_mean(x, 5), 2.5);
  EXPECT_DOUBLE_EQ(series_sum(x, 5), 10.0);
  EXPECT_DOUBLE_EQ(series_min(x, 5), 1.0);
  EXPECT_DOUBLE_EQ(series_max(x, 5), 4.0);
  EXPECT_EQ(series_count(x, 5), 4u);
  // numpy.percentile([1, 2, 3, 4], 90) = 3 + 0.7 * (4 - 3) = 3.7; the 50th = 2.5.
  EXPECT_DOUBLE_EQ(series_percentile(x, 5, 0.9, scratch), 3.7);
  EXPECT_DOUBLE_EQ(series_percentile(x, 5, 0.5, scratch), 2.5);
  const double none[] = {kNaN, kNaN};
  EXPECT_TRUE(std::isnan(series_mean(none, 2)));
  EXPECT_TRUE(std::isnan(series_percentile(none, 2, 0.5, scratch)));
}

TEST(Reducers, RunsAreBrokenByMissingSteps) {
  // Above 4: 5 6 | (missing) | 7 8 9 | 2 -> longest run 3, count 5.
  const double x[] = {1, 5, 6, kNaN, 7, 8, 9, 2};
  auto above4 = [](double v) { return v > 4; };
  EXPECT_EQ(longest_run(x, 8, above4), 3u);
  EXPECT_EQ(count_where(x, 8, above4), 5u);
  // Dry spell: longest run below 1 mm.
  const double pr[] = {0.2, 0, 0.5, 3, 0, 0, 0, 0.9, 12};
  EXPECT_EQ(longest_run(pr, 9, [](double v) { return v < 1.0; }), 4u);
}

TEST(Trend, SeasonalKendallByHand) {
  // Two seasons (January, July) over three years. January 1, 2, 4: S = 3; July 5, 3, 6: S = 1.
  // Var(S) of each = 3 x 2 x 11 / 18; S = 4, Var = 132 / 18, Z = (4 - 1) / sqrt(Var).
  // Within-season slopes per year: January 1, 1.5, 2; July -2, 0.5, 3: median (1 + 1.5) / 2.
  std::vector<DateTime> dates;
  std::vector<double> x;
  const double jan[] = {1, 2, 4}, jul[] = {5, 3, 6};
  for (int y = 0; y < 3; ++y) {
    dates.push_back(DateTime{2000 + y, 1, 16});
    x.push_back(jan[y]);
    dates.push_back(DateTime{2000 + y, 7, 16});
    x.push_back(jul[y]);
  }
  std::vector<std::size_t> steps(dates.size());
  for (std::size_t i = 0; i < steps.size(); ++i) steps[i] = i;
  const SeasonLayout layout = season_layout(dates, steps);
  ASSERT_EQ(layout.seasons, 12);
  EXPECT_EQ(layout.season[1], 6);
  EXPECT_EQ(trend_method(layout), "seasonal Kendall (12 seasons)");
  const std::vector<double> t = decimal_years(dates, Calendar::kStandard, steps, 1.0);
  std::vector<double> scratch;
  const TrendResult r = seasonal_trend(t.data(), x.data(), x.size(), layout, scratch);
  EXPECT_EQ(r.s, 4.0);
  EXPECT_NEAR(r.var_s, 132.0 / 18.0, 1e-12);
  EXPECT_NEAR(r.z, 3.0 / std::sqrt(132.0 / 18.0), 1e-12);
  EXPECT_NEAR(r.p, std::erfc(r.z / std::sqrt(2.0)), 1e-15);
  EXPECT_NEAR(r.p, 0.26794, 1e-5);
  EXPECT_NEAR(r.slope, 1.25, 1e-12);
  EXPECT_EQ(r.n, 6);
  // Per decade: ten times the slope per year.
  const SeasonLayout decades = season_layout(dates, steps, 10.0);
  EXPECT_NEAR(seasonal_trend(t.data(), x.data(), x.size(), decades, scratch).slope, 12.5, 1e-9);
  // The seasonal cycle alone (the same 12 months every year) is no trend, where the plain test on the
  // same 36 values would find one within each year's rise.
  std::vector<DateTime> monthly;
  std::vector<double> cycle;
  for (int y = 0; y < 3; ++y) {
    for (int m = 1; m <= 12; ++m) {
      monthly.push_back(DateTime{1999 + y, m, 15});
      cycle.push_back(10.0 - 8.0 * std::cos((m - 1) * 3.14159265358979 / 6.0));
    }
  }
  std::vector<std::size_t> all(monthly.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  const SeasonLayout ml = season_layout(monthly, all);
  const std::vector<double> tm = decimal_years(monthly, Calendar::kStandard, all, 1.0);
  const TrendResult flat = seasonal_trend(tm.data(), cycle.data(), cycle.size(), ml, scratch);
  EXPECT_EQ(flat.s, 0.0);
  EXPECT_EQ(flat.slope, 0.0);
  EXPECT_EQ(flat.p, 1.0);
  EXPECT_EQ(years_observed(cycle.data(), ml), 3);
  // Two observations of one month in one year are averaged first.
  std::vector<DateTime> twice = {{2000, 1, 5}, {2000, 1, 25}, {2001, 1, 15}, {2002, 1, 15}};
  const std::vector<double> xt = {1.0, 3.0, 4.0, 5.0};  // January 2000: 2
  const std::vector<std::size_t> four = {0, 1, 2, 3};
  const std::vector<double> tt = decimal_years(twice, Calendar::kStandard, four, 1.0);
  const TrendResult avg = seasonal_trend(tt.data(), xt.data(), 4, season_layout(twice, four), scratch);
  EXPECT_EQ(avg.n, 3);
  EXPECT_EQ(avg.s, 3.0);
  EXPECT_NEAR(avg.slope, 1.5, 1e-12);  // slopes 2, 1.5, 1
  // Annual data (one step a year) keeps the plain test.
  const std::vector<DateTime> annual = {{2000, 7, 1}, {2001, 7, 1}, {2002, 7, 1}};
  EXPECT_EQ(season_layout(annual, {0, 1, 2}).seasons, 1);
  EXPECT_EQ(trend_method(season_layout(annual, {0, 1, 2})), "Mann-Kendall");
}

TEST(Spi, SpecialFunctionsAgainstKnownValues) {
  EXPECT_NEAR(normal_quantile(0.975), 1.959963984540054, 1e-14);
  EXPECT_NEAR(normal_quantile(0.001), -3.090232306167814, 1e-13);
  EXPECT_NEAR(normal_quantile(0.5), 0.0, 1e-15);
  EXPECT_NEAR(digamma(1.0), -0.5772156649015329, 1e-14);  // minus the Euler-Mascheroni constant
  EXPECT_NEAR(digamma(0.5), -1.9635100260214235, 1e-14);
  for (double x : {0.1, 1.0, 3.0, 20.0}) {
    EXPECT_NEAR(regularized_gamma_p(1.0, x), 1.0 - std::exp(-x), 1e-14) << x;                       // exponential
    EXPECT_NEAR(regularized_gamma_p(0.5, x), std::erf(std::sqrt(x)), 1e-14) << x;                   // chi-square 1
  }
}

TEST(Spi, MaximumLikelihoodGammaAndTheMixedDistribution) {
  // 1, 2, 4, 8 and two zeros: p0 = 1/3; the fitted alpha solves ln(alpha) - digamma(alpha) = A.
  const double v[] = {1, 2, 4, 8, 0, 0, std::nan("")};
  const GammaFit f = fit_mixed_gamma(v, 7);
  EXPECT_EQ(f.n, 6);
  EXPECT_NEAR(f.p_zero, 1.0 / 3.0, 1e-15);
  const double mean = 15.0 / 4.0, A = std::log(mean) - (std::log(1.0) + std::log(2.0) + std::log(4.0) + std::log(8.0)) / 4.0;
  EXPECT_NEAR(std::log(f.alpha) - digamma(f.alpha), A, 1e-12);
  EXPECT_NEAR(f.alpha * f.beta, mean, 1e-12);
  // A zero accumulation sits at H = p0; the median of the mixed distribution at SPI 0.
  EXPECT_NEAR(spi_of(0.0, f), normal_quantile(1.0 / 3.0), 1e-12);
  EXPECT_NEAR(spi_of(1e9, f), 3.09, 1e-12);  // kept within +-3.09
  // Too few wet values, or all equal: no fit.
  const double few[] = {1, 2, 0, 0};
  EXPECT_TRUE(std::isnan(spi_of(1.0, fit_mixed_gamma(few, 4))));
  const double flat[] = {5, 5, 5, 5};
  EXPECT_TRUE(std::isnan(spi_of(5.0, fit_mixed_gamma(flat, 4))));
}

#include <algorithm>
#include <random>

#include "cube/radix_select.hpp"

TEST(RadixSelect, AgreesWithSortingOnEveryRank) {
  // Negative and positive values, zeros of both signs, ties, tiny and huge magnitudes.
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-5.0f, 5.0f);
  std::vector<std::uint32_t> keys;
  for (int round = 0; round < 50; ++round) {
    std::vector<float> v(static_cast<std::size_t>(1 + round * 13));
    for (auto& x : v) x = u(rng);
    if (v.size() > 4) {
      v[0] = 0.0f;
      v[1] = -0.0f;
      v[2] = v[3];
      v[4] = 3.0e38f;
    }
    std::vector<float> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t k = 0; k < v.size(); ++k) {
      const float got = radix_select(v.data(), v.size(), k, keys);
      // -0 and +0 compare equal; everything else must be the same value.
      ASSERT_EQ(got, sorted[k]) << "round " << round << " rank " << k;
      if (k + 1 < v.size()) {
        const auto [a, b] = radix_select_pair(v.data(), v.size(), k, keys);
        ASSERT_EQ(a, sorted[k]);
        ASSERT_EQ(b, sorted[k + 1]) << "round " << round << " rank " << k + 1;
      }
    }
  }
}

// Values beyond the years 1-9999 are errors naming the value and step, in every calendar (1e300 days
// once overflowed an int and looped forever); the last representable day still decodes.
TEST(CfTime, ValuesOutsideTheWritableYearsAreErrors) {
  for (const char* cal : {"standard", "proleptic_gregorian", "julian", "noleap", "all_leap", "360_day"}) {
    for (const double v : {1e300, -1e300, 1e12, -800000.0}) {
      try {
        decode_times({0, v}, "days since 2000-01-01", cal);
        ADD_FAILURE() << cal << " " << v;
      } catch (const sco::core::Error& e) {
        EXPECT_NE(std::string(e.what()).find("(step 2)"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("outside the years 1-9999"), std::string::npos) << e.what();
      }
    }
  }
  // 9999-12-31 is 2921939 days after 2000-01-01 in the Gregorian calendar: 8000 years of 365 days
  // plus 1940 leap days (2000 + 2000 more every 4 years, less 60 centuries not divisible by 400),
  // less one day: 2920000 + 1940 - 1.
  EXPECT_EQ(iso({2921939}, "days since 2000-01-01", "standard", 0), "9999-12-31T00:00:00Z");
  EXPECT_THROW(decode_times({2921940}, "days since 2000-01-01", "standard"), sco::core::Error);
  EXPECT_EQ(iso({0}, "days since 0001-01-01", "julian", 0), "0001-01-01T00:00:00Z");
  EXPECT_THROW(decode_times({-1}, "days since 0001-01-01", "julian"), sco::core::Error);
  EXPECT_THROW(decode_times({0}, "days since 0000-01-01", "standard"), sco::core::Error);
  EXPECT_THROW(decode_times({0}, "days since 2000-01-01 25:00", "standard"), sco::core::Error);
  // A hair before midnight rounds to the next day's 00:00:00, not to 24:00:00 (found by fuzz_cf_time).
  EXPECT_EQ(iso({-3.4924596548080444e-09}, "days since 1035-01-01", "standard", 0), "1035-01-01T00:00:00Z");
  EXPECT_EQ(iso({1 - 1e-10}, "days since 2000-02-28", "noleap", 0), "2000-03-01T00:00:00Z");
}

// Years of each calendar's own length: a trend per year divides by the year the data live in, not
// by 365.25 days (1.4 % off in 360_day, 0.07 % in a common standard year).
TEST(CfTime, DecimalYearsUseEachCalendarsYears) {
  const auto at = [](const char* units, double v, const char* cal) {
    const auto d = decode_times({v}, units, cal)[0];
    return decimal_year(d, parse_calendar(cal));
  };
  // 1 July 1999 at 00:00 is day 181 of a 365-day year; in 2000 (leap) day 182 of 366.
  EXPECT_DOUBLE_EQ(at("days since 1999-07-01", 0, "standard"), 1999 + 181.0 / 365.0);
  EXPECT_DOUBLE_EQ(at("days since 2000-07-01", 0, "standard"), 2000 + 182.0 / 366.0);
  EXPECT_DOUBLE_EQ(at("days since 1900-07-01", 0, "proleptic_gregorian"), 1900 + 181.0 / 365.0);  // not leap
  EXPECT_DOUBLE_EQ(at("days since 1900-07-01", 0, "julian"), 1900 + 182.0 / 366.0);               // leap
  EXPECT_DOUBLE_EQ(at("days since 2000-07-01", 0, "noleap"), 2000 + 181.0 / 365.0);
  EXPECT_DOUBLE_EQ(at("days since 1999-07-01", 0, "all_leap"), 1999 + 182.0 / 366.0);
  EXPECT_DOUBLE_EQ(at("days since 2000-07-01", 0, "360_day"), 2000 + 180.0 / 360.0);
  // 12:00 on 1 January of a 360-day year is half a day in.
  EXPECT_DOUBLE_EQ(at("hours since 2000-01-01", 12, "360_day"), 2000 + 0.5 / 360.0);
  // 1582 of the standard calendar has 355 days (4 October is followed by 15 October).
  EXPECT_DOUBLE_EQ(at("days since 1582-12-31", 0, "standard"), 1582 + 354.0 / 355.0);
  // New Year to New Year is exactly one year in every calendar, and 1 March 2000 (day 60 of a leap
  // year) to 1 March 2001 (day 59 of a common one) is 1 + 59/365 - 60/366.
  for (const char* cal : {"standard", "julian", "noleap", "all_leap", "360_day", "proleptic_gregorian"}) {
    EXPECT_DOUBLE_EQ(at("days since 2001-01-01", 0, cal) - at("days since 2000-01-01", 0, cal), 1.0) << cal;
  }
  EXPECT_NEAR(at("days since 2001-03-01", 0, "standard") - at("days since 2000-03-01", 0, "standard"), 1 + 59.0 / 365 - 60.0 / 366, 1e-12);
}

// date_of_max / date_of_min over one row of 3 pixels and 4 steps: the step's label (day of the
// year), the earliest on ties, missing steps skipped, nodata without any observation.
TEST(SeriesOps, DateOfTheExtreme) {
  const float nan = std::nanf("");
  std::vector<std::vector<float>> steps = {{1, 7, nan}, {5, 7, nan}, {5, 2, nan}, {2, nan, nan}};
  std::vector<sco::core::BlockView> views;
  for (auto& s : steps) {
    sco::core::BlockView b;
    b.type = sco::core::DataType::kFloat32;
    b.data = s.data();
    b.pitch = 3;
    b.width = 3;
    b.height = 1;
    views.push_back(b);
  }
  const std::vector<DateTime> dates = {{2022, 1, 10}, {2022, 2, 1}, {2022, 6, 2}, {2022, 12, 31}};
  const std::vector<double> labels = step_labels(dates, Calendar::kStandard, {0, 1, 2, 3});
  EXPECT_EQ(labels, (std::vector<double>{10, 32, 153, 365}));
  float out[3];
  sco::core::MutableBlockView o{sco::core::DataType::kFloat32, out, 3, 3, 1, -9999.0};
  SeriesEvaluator max(parse_series_op("date_of_max"), {0, 1, 2, 3});
  max.set_labels(labels);
  max.evaluate(views, o);
  EXPECT_EQ(out[0], 32.0f);   // 5 on 1 February and 2 June: the earlier
  EXPECT_EQ(out[1], 10.0f);
  EXPECT_EQ(out[2], -9999.0f);
  SeriesEvaluator min(parse_series_op("date_of_min"), {0, 1, 2, 3});
  min.evaluate(views, o);     // no labels: step numbers
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], 3.0f);
}

namespace {
// Four steps of 2 x 4 cells, one of each kind of missing value: a NaN (float32), a nodata (UInt16 0;
// Int16 -32768, whose others are scaled by 0.5 and offset by 1) and a mask (Byte). Column 3 is
// missing at every step.
struct FourSteps {
  const float nan = std::nanf("");
  std::vector<float> f32 = {1, 2, nan, nan, 4, 5, 6, nan};
  std::vector<std::uint16_t> u16 = {3, 0, 7, 0, 8, 0, 2, 0};
  std::vector<std::int16_t> i16 = {4, -2, 10, -32768, 0, 6, 2, -32768};
  std::vector<std::uint8_t> byte = {9, 9, 9, 9, 9, 9, 9, 9};
  std::vector<std::uint8_t> mask = {1, 0, 1, 0, 0, 0, 1, 0};
  std::vector<sco::core::BlockView> views() {
    using sco::core::DataType;
    auto view = [](DataType t, const void* d, double nodata) {
      sco::core::BlockView b;
      b.type = t;
      b.data = d;
      b.pitch = 4;
      b.width = 4;
      b.height = 2;
      b.nodata = nodata;
      return b;
    };
    std::vector<sco::core::BlockView> v = {view(DataType::kFloat32, f32.data(), std::nan("")), view(DataType::kUInt16, u16.data(), 0),
                                           view(DataType::kInt16, i16.data(), -32768), view(DataType::kByte, byte.data(), std::nan(""))};
    v[2].scale = 0.5;
    v[2].offset = 1;
    v[3].mask = mask.data();
    v[3].mask_pitch = 4;
    return v;
  }
};
}  // namespace

TEST(SeriesOps, FoldingStepsInOneAtATimeGivesTheWholeSeriesValues) {
  // Per cell, the observations: (1 3 3 9) (2 0) (7 6 9) (none) / (4 8 1) (5 4) (6 2 2 9) (none).
  const std::vector<std::pair<std::string, std::vector<float>>> expected = {
      {"mean", {4, 1, 22.0f / 3, -7, 13.0f / 3, 4.5f, 4.75f, -7}},
      {"sum", {16, 2, 22, -7, 13, 9, 19, -7}},
      {"min", {1, 0, 6, -7, 1, 4, 2, -7}},
      {"max", {9, 2, 9, -7, 8, 5, 9, -7}},
      {"count", {4, 2, 3, -7, 3, 2, 4, -7}},
      {"count_above:5", {1, 0, 3, -7, 1, 0, 2, -7}},
  };
  FourSteps s;
  const std::vector<sco::core::BlockView> steps = s.views();
  for (const auto& [name, want] : expected) {
    // An output whose rows are 5 wide (an edge window in a full-size buffer): column 4 untouched.
    std::vector<float> whole(10, 77.0f), folded(10, 77.0f);
    sco::core::MutableBlockView ow{sco::core::DataType::kFloat32, whole.data(), 5, 4, 2, -7.0};
    sco::core::MutableBlockView of{sco::core::DataType::kFloat32, folded.data(), 5, 4, 2, -7.0};
    SeriesEvaluator a(parse_series_op(name), {0, 1, 2, 3}), b(parse_series_op(name), {0, 1, 2, 3});
    a.evaluate(steps, ow);
    ASSERT_TRUE(b.folds()) << name;
    b.fold_begin(of);
    for (const auto& v : steps) b.fold_step(v);
    b.fold_finish(of);
    for (int y = 0; y < 2; ++y) {
      for (int x = 0; x < 4; ++x) {
        EXPECT_FLOAT_EQ(whole[y * 5 + x], want[y * 4 + x]) << name << " cell " << x << "," << y;
        EXPECT_EQ(folded[y * 5 + x], whole[y * 5 + x]) << name << " cell " << x << "," << y;
      }
      EXPECT_EQ(whole[y * 5 + 4], 77.0f);
      EXPECT_EQ(folded[y * 5 + 4], 77.0f);
    }
  }
  // Reducers that need each cell's series in order do not fold.
  EXPECT_FALSE(SeriesEvaluator(parse_series_op("median"), {0, 1, 2, 3}).folds());
  EXPECT_FALSE(SeriesEvaluator(parse_series_op("sen_slope"), {0, 1, 2, 3}).folds());
  SeriesEvaluator median(parse_series_op("median"), {0, 1, 2, 3});
  std::vector<float> out(8);
  sco::core::MutableBlockView o{sco::core::DataType::kFloat32, out.data(), 4, 4, 2, -7.0};
  EXPECT_THROW(median.fold_begin(o), sco::core::Error);
}
