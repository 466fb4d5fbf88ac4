// zonal.trend: each district's yearly mean, then its Sen's slope and Mann-Kendall S, by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "run/ops/cube_fixture.hpp"

namespace sco::test {
namespace {

TEST(ZonalTrendOp, DistrictSeriesAndTheirTrend) {
  OpFixture f;
  const auto r = f.run(OpFixture::recipe(kCubeInput, R"([{"id": "t", "op": "zonal.trend", "input": "x", "min_years": 3, "output": true},
                                                         {"id": "short", "op": "zonal.trend", "input": "x", "output": true}])"),
                       {yearly_cube(f)});
  // west: 3.5, 3, 7.5; pairwise slopes -0.5, 2, 4.5: Sen's slope 2; S = -1 + 1 + 1 = 1.
  EXPECT_NEAR(OpFixture::cell(r, "t", "mean", "west"), (3.5 + 3 + 7.5) / 3, 1e-12);
  EXPECT_NEAR(OpFixture::cell(r, "t", "slope", "west"), 2.0, 1e-12);
  EXPECT_DOUBLE_EQ(OpFixture::cell(r, "t", "mk_s", "west"), 1.0);
  EXPECT_DOUBLE_EQ(OpFixture::cell(r, "t", "steps", "west"), 3.0);
  EXPECT_DOUBLE_EQ(OpFixture::cell(r, "t", "years", "west"), 3.0);
  EXPECT_EQ(OpFixture::text_cell(r, "t", "method", "west"), "Mann-Kendall");  // one step a year
  // east: 5.5, 3, 9.5; slopes -2.5, 2, 6.5: 2.
  EXPECT_NEAR(OpFixture::cell(r, "t", "slope", "east"), 2.0, 1e-12);
  // The default min_years (10) leaves these three years without a trend, and says why.
  EXPECT_TRUE(std::isnan(OpFixture::cell(r, "short", "slope", "west")));
  EXPECT_TRUE(std::isnan(OpFixture::cell(r, "short", "p_value", "west")));
  EXPECT_EQ(OpFixture::text_cell(r, "short", "significant", "west"), "");
  EXPECT_EQ(OpFixture::text_cell(r, "short", "method", "west"), "record too short (3 years < 10)");
  // The series file of the web map's charts.
  std::ifstream series(std::filesystem::path(r.out) / "t_series.json");
  const auto doc = nlohmann::json::parse(series);
  EXPECT_EQ(doc["dates"], nlohmann::json::array({"2000-01-01", "2001-01-01", "2002-01-01"}));
  EXPECT_EQ(doc["series"]["west"], nlohmann::json::array({3.5, 3.0, 7.5}));
}

}  // namespace
}  // namespace sco::test
