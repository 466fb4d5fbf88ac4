// ETCCDI kernels on hand-made daily series: Hyndman-Fan definition 8, calendar-day keys, counts,
// spells cut at the year's end, Rx5day across the new year, the missing-day rule, refused layouts.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "cube/etccdi.hpp"

using namespace sco::cube;

namespace {

std::vector<DateTime> days(int year, int count, Calendar cal) {
  std::vector<DateTime> d;
  const double first = days_from_epoch(DateTime{year, 1, 1}, cal);
  for (int i = 0; i < count; ++i) d.push_back(date_from_days(first + i, cal));
  return d;
}

std::vector<double> run(const char* index, const std::vector<double>& x, int year, Calendar cal, EtccdiOptions opt = {}) {
  EtccdiCalculator calc(find_etccdi_index(index), daily_layout(days(year, static_cast<int>(x.size()), cal), cal, "test"), opt);
  std::vector<double> out(calc.years());
  calc.compute(x.data(), out.data());
  return out;
}

}  // namespace

TEST(Etccdi, QuantileDefinition8) {
  std::vector<double> v = {5, 1, 4, 2, 3};
  EXPECT_DOUBLE_EQ(quantile_type8(v, 0.5), 3.0);  // h = (5 + 1/3) 0.5 + 1/3 = 3
  EXPECT_DOUBLE_EQ(quantile_type8(v, 0.9), 5.0);  // h = 5.13 >= n
  EXPECT_DOUBLE_EQ(quantile_type8(v, 0.1), 1.0);  // h = 0.87 <= 1
  std::vector<double> w = {40, 10, 30, 20};
  EXPECT_NEAR(quantile_type8(w, 0.25), 10 + (13.0 / 12 + 1.0 / 3 - 1) * 10, 1e-12);  // h = 1.41667
  std::vector<double> none;
  EXPECT_TRUE(std::isnan(quantile_type8(none, 0.5)));
}

TEST(Etccdi, CalendarDayKeys) {
  const DailyLayout leap = daily_layout(days(2000, 366, Calendar::kStandard), Calendar::kStandard, "t");
  EXPECT_EQ(leap.key_count, 365);
  EXPECT_EQ(leap.day_key[58], 58);   // 28 February
  EXPECT_EQ(leap.day_key[59], 58);   // 29 February shares it
  EXPECT_EQ(leap.day_key[60], 59);   // 1 March
  EXPECT_EQ(leap.day_key[365], 364); // 31 December
  EXPECT_EQ(leap.year_days[0], 366);
  const DailyLayout d360 = daily_layout(days(2000, 720, Calendar::kDay360), Calendar::kDay360, "t");
  EXPECT_EQ(d360.key_count, 360);
  EXPECT_EQ(d360.years.size(), 2u);
  EXPECT_EQ(d360.day_key[719], 359);
}

TEST(Etccdi, RefusesNonDailySteps) {
  std::vector<DateTime> months;
  for (int m = 1; m <= 12; ++m) months.push_back(DateTime{1999, m, 16});
  try {
    daily_layout(months, Calendar::kStandard, "input 'pr'");
    FAIL();
  } catch (const sco::core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("input 'pr' has monthly steps"), std::string::npos) << e.what();
  }
  std::vector<DateTime> gap = days(2001, 10, Calendar::kNoLeap);
  gap.erase(gap.begin() + 4);
  try {
    daily_layout(gap, Calendar::kNoLeap, "input 'pr'");
    FAIL();
  } catch (const sco::core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("step 5 (2001-01-06) is not the day after step 4 (2001-01-04)"), std::string::npos) << e.what();
  }
}

TEST(Etccdi, CountsExtremesAndWetDays) {
  std::vector<double> tx(365, 20.0);
  tx[10] = 25.0;  // not above 25
  tx[11] = 25.5;
  tx[200] = 31.0;
  tx[300] = -1.0;
  EXPECT_EQ(run("SU", tx, 2001, Calendar::kNoLeap)[0], 2);
  EXPECT_EQ(run("TXx", tx, 2001, Calendar::kNoLeap)[0], 31);
  EXPECT_EQ(run("ID", tx, 2001, Calendar::kNoLeap)[0], 1);
  std::vector<double> pr(365, 0.0);
  pr[5] = 1.0;   // wet (>= 1 mm)
  pr[6] = 10.0;  // heavy (>= 10 mm)
  pr[7] = 0.9;
  pr[100] = 4.0;
  EXPECT_EQ(run("R10mm", pr, 2001, Calendar::kNoLeap)[0], 1);
  EXPECT_DOUBLE_EQ(run("PRCPTOT", pr, 2001, Calendar::kNoLeap)[0], 15.0);
  EXPECT_DOUBLE_EQ(run("SDII", pr, 2001, Calendar::kNoLeap)[0], 5.0);
  EXPECT_EQ(run("CWD", pr, 2001, Calendar::kNoLeap)[0], 2);
  EXPECT_EQ(run("CDD", pr, 2001, Calendar::kNoLeap)[0], 264);  // days 101..364
}

TEST(Etccdi, Rx5dayCrossesTheNewYearSpellsDoNot) {
  std::vector<double> pr(730, 0.0);
  for (int i = 362; i < 367; ++i) pr[static_cast<std::size_t>(i)] = 10.0;  // 29 Dec .. 2 Jan
  const auto rx5 = run("Rx5day", pr, 2001, Calendar::kNoLeap);
  EXPECT_DOUBLE_EQ(rx5[0], 30.0);  // windows ending in 2001
  EXPECT_DOUBLE_EQ(rx5[1], 50.0);  // the window ending on 2 January 2002 starts in 2001
  // Eight hot days across the new year: 4 + 4, neither a spell of 6 within its year.
  std::vector<double> tx(730 + 365 * 2, 10.0);
  for (std::size_t i = 0; i < tx.size(); ++i) tx[i] = 10.0 + 0.001 * static_cast<double>(i % 7);
  for (int i = 361; i < 369; ++i) tx[static_cast<std::size_t>(i)] = 30.0;
  for (int i = 500; i < 507; ++i) tx[static_cast<std::size_t>(i)] = 30.0;  // seven in 2002: a spell
  EtccdiOptions base;  // 2003-2004: the thresholds stay near 10 degC on every calendar day
  base.base_first = 2003;
  base.base_last = 2004;
  const auto wsdi = run("WSDI", tx, 2001, Calendar::kNoLeap, base);
  EXPECT_EQ(wsdi[0], 0);
  EXPECT_EQ(wsdi[1], 7);
}

TEST(Etccdi, YearsMissingTooManyDaysHaveNoValue) {
  std::vector<double> tx(730, 20.0);
  for (int i = 0; i < 16; ++i) tx[static_cast<std::size_t>(100 + i)] = NAN;  // 16 days of 2001
  for (int i = 0; i < 15; ++i) tx[static_cast<std::size_t>(465 + i)] = NAN;  // 15 days of 2002
  const auto v = run("TXx", tx, 2001, Calendar::kNoLeap);
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_DOUBLE_EQ(v[1], 20.0);
  EtccdiOptions strict;
  strict.max_missing_days = 0;
  EXPECT_TRUE(std::isnan(run("TXx", tx, 2001, Calendar::kNoLeap, strict)[1]));
  // A series that starts in March: its first year misses 59 days.
  std::vector<double> late(300, 20.0);
  const std::vector<DateTime> year = days(2001, 365, Calendar::kNoLeap);
  const DailyLayout l = daily_layout(std::vector<DateTime>(year.begin() + 65, year.end()), Calendar::kNoLeap, "t");
  EtccdiCalculator partial(find_etccdi_index("TXx"), l, {});
  std::vector<double> out(1);
  partial.compute(late.data(), out.data());
  EXPECT_TRUE(std::isnan(out[0]));
}

TEST(Etccdi, UnknownIndexListsTheNames) {
  try {
    find_etccdi_index("TXX");
    FAIL();
  } catch (const sco::core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown ETCCDI index 'TXX' (indices: TXx, TXn"), std::string::npos);
  }
}
