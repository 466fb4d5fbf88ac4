// cube.trend: Sen's slope per year and per decade of a series growing by 2k a year, by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "run/ops/cube_fixture.hpp"

namespace sco::test {
namespace {

TEST(CubeTrendOp, SlopePerYearAndPerDecade) {
  OpFixture f;
  // k, 3k, 5k in 2000, 2001, 2002 (k = 1..8): 2k a year.
  std::vector<float> k(8), k3(8), k5(8);
  for (int i = 0; i < 8; ++i) k[i] = static_cast<float>(i + 1), k3[i] = 3.0f * (i + 1), k5[i] = 5.0f * (i + 1);
  const run::RunInput cube = OpFixture::dated("x", {{f.raster("a.tif", {k}), 2000}, {f.raster("b.tif", {k3}), 2001}, {f.raster("c.tif", {k5}), 2002}});
  const auto r = f.run(OpFixture::recipe(kCubeInput, R"([
      {"id": "y", "op": "cube.trend", "input": "x", "min_years": 3, "output": true},
      {"id": "d", "op": "cube.trend", "input": "x", "per": "decade", "min_years": 3, "output": true},
      {"id": "short", "op": "cube.trend", "input": "x", "output": true}])"),
                       {cube});
  const auto y = OpFixture::values(OpFixture::raster_output(r, "y"));
  const auto d = OpFixture::values(OpFixture::raster_output(r, "d"));
  const auto none = OpFixture::values(OpFixture::raster_output(r, "short"));
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_NEAR(y[i], 2.0 * (i + 1), 1e-4) << i;
    EXPECT_NEAR(d[i], 20.0 * (i + 1), 1e-3) << i;
    // Three years are fewer than the default min_years (10): no trend.
    EXPECT_TRUE(std::isnan(none[i])) << i;
  }
  bool warned = false;
  for (const auto& w : r.warnings) warned |= w.find("step 'short': record too short (3 years < 10): no trend is reported") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(CubeTrendOp, MinYearsMustBeAWholeNumberOfYears) {
  OpFixture f;
  const auto rec = OpFixture::recipe(kCubeInput, R"([{"id": "y", "op": "cube.trend", "input": "x", "min_years": 1.5, "output": true}])");
  const std::string e = OpFixture::error_of([&] { run::plan_run(f.request(rec, {yearly_cube(f)})); });
  EXPECT_NE(e.find("field 'min_years': a whole number of years, at least 2"), std::string::npos) << e;
}

TEST(CubeTrendOp, ATrendNeedsThreeSteps) {
  OpFixture f;
  const auto rec = OpFixture::recipe(kCubeInput, R"([{"id": "y", "op": "cube.trend", "input": "x", "period": ["2001", "2002"], "output": true}])");
  const std::string e = OpFixture::error_of([&] { run::plan_run(f.request(rec, {yearly_cube(f)})); });
  EXPECT_NE(e.find("step 'y': a trend needs at least 3 time steps, the period has 2"), std::string::npos) << e;
}

}  // namespace
}  // namespace sco::test
