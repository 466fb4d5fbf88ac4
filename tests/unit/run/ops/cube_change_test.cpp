// cube.change: the maximum after (2002) minus the maximum before (2000-2001), by hand.
#include <gtest/gtest.h>

#include "run/ops/cube_fixture.hpp"

namespace sco::test {
namespace {

TEST(CubeChangeOp, AfterMinusBefore) {
  OpFixture f;
  const auto r = f.run(OpFixture::recipe(kCubeInput, R"([
      {"id": "c", "op": "cube.change", "input": "x", "reducer": "max", "before": ["2000", "2001"], "after": ["2002", "2002"], "output": true}])"),
                       {yearly_cube(f)});
  const auto c = OpFixture::values(OpFixture::raster_output(r, "c"));
  const std::vector<double> expected{2, 3, 4, 4, 4, 4, 4, 4};  // 5-3, 6-3, 7-3, 8-4, 9-5, ...
  for (std::size_t i = 0; i < 8; ++i) EXPECT_DOUBLE_EQ(c[i], expected[i]) << i;
}

TEST(CubeChangeOp, BothPeriodsAreRequiredAndNamed) {
  const std::string e = OpFixture::error_of([&] {
    run::bind_steps(OpFixture::recipe(kCubeInput, R"([{"id": "c", "op": "cube.change", "input": "x", "before": ["2000", "2001"], "period": ["2002", "2002"], "output": true}])"), {});
  });
  EXPECT_NE(e.find("step 'c': unknown field 'period' (fields of cube.change:"), std::string::npos) << e;
}

}  // namespace
}  // namespace sco::test
