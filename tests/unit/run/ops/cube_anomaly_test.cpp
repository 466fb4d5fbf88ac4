// cube.anomaly: the 2002 mean minus the 2000-2001 mean, absolute and relative, by hand.
#include <gtest/gtest.h>

#include "run/ops/cube_fixture.hpp"

namespace sco::test {
namespace {

TEST(CubeAnomalyOp, PeriodMinusBaselineAbsoluteAndRelative) {
  OpFixture f;
  const auto r = f.run(OpFixture::recipe(kCubeInput, R"([
      {"id": "a", "op": "cube.anomaly", "input": "x", "period": ["2002", "2002"], "baseline": ["2000", "2001"], "output": true},
      {"id": "p", "op": "cube.anomaly", "input": "x", "period": ["2002", "2002"], "baseline": ["2000", "2001"], "relative": true, "output": true}])"),
                       {yearly_cube(f)});
  const auto a = OpFixture::values(OpFixture::raster_output(r, "a"));
  const auto p = OpFixture::values(OpFixture::raster_output(r, "p"));
  for (std::size_t i = 0; i < 8; ++i) {
    const double base = (kY2000[i] + kY2001[i]) / 2.0;  // 2, 2.5, ... 5.5
    EXPECT_NEAR(a[i], kY2002[i] - base, 1e-6) << i;      // 3, 3.5, ... 6.5
    EXPECT_NEAR(p[i], 100.0 * (kY2002[i] - base) / base, 1e-3) << i;  // 150, 140, ... 118.18
  }
  EXPECT_NEAR(p[0], 150.0, 1e-4);
}

TEST(CubeAnomalyOp, TheBaselineIsRequired) {
  const std::string e = OpFixture::error_of(
      [&] { run::bind_steps(OpFixture::recipe(kCubeInput, R"([{"id": "a", "op": "cube.anomaly", "input": "x", "output": true}])"), {}); });
  EXPECT_NE(e.find("step 'a': missing field 'baseline'"), std::string::npos) << e;
}

}  // namespace
}  // namespace sco::test
