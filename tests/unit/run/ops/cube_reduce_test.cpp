// cube.reduce: a mean over a period and a count above a threshold, by hand; a period outside the data.
#include <gtest/gtest.h>

#include "run/ops/cube_fixture.hpp"

namespace sco::test {
namespace {

TEST(CubeReduceOp, MeanOverAPeriodAndCountAboveAThreshold) {
  OpFixture f;
  const auto r = f.run(OpFixture::recipe(kCubeInput, R"([
      {"id": "m", "op": "cube.reduce", "input": "x", "reducer": "mean", "period": ["2001", "2002"], "output": true},
      {"id": "n", "op": "cube.reduce", "input": "x", "reducer": "count_above", "threshold": 4, "output": true}])"),
                       {yearly_cube(f)});
  const auto m = OpFixture::values(OpFixture::raster_output(r, "m"));
  const auto n = OpFixture::values(OpFixture::raster_output(r, "n"));
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_DOUBLE_EQ(m[i], (kY2001[i] + kY2002[i]) / 2.0) << i;                                                 // 4, 4.5, ... 7.5
    EXPECT_DOUBLE_EQ(n[i], (kY2000[i] > 4) + (kY2001[i] > 4) + (kY2002[i] > 4)) << i;                           // 1 1 1 1 / 2 2 2 2
  }
  EXPECT_DOUBLE_EQ(n[3], 1.0);  // 4 is not above 4
}

TEST(CubeReduceOp, APeriodOutsideTheDataIsRefusedBeforeAnyPixel) {
  OpFixture f;
  const auto rec = OpFixture::recipe(kCubeInput, R"([{"id": "m", "op": "cube.reduce", "input": "x", "period": ["1990", "1991"], "output": true}])");
  const std::string e = OpFixture::error_of([&] { run::plan_run(f.request(rec, {yearly_cube(f)})); });
  EXPECT_NE(e.find("step 'm': field 'period': 1990..1991 is outside the data of input 'x' (2000-01-01..2002-01-01)"), std::string::npos) << e;
  const std::string t = OpFixture::error_of([&] {
    run::bind_steps(OpFixture::recipe(kCubeInput, R"([{"id": "m", "op": "cube.reduce", "input": "x", "reducer": "count_above", "output": true}])"), {});
  });
  EXPECT_NE(t.find("step 'm': field 'threshold': reducer 'count_above' needs a threshold"), std::string::npos) << t;
}

}  // namespace
}  // namespace sco::test
