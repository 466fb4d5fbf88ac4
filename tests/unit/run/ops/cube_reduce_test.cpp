// cube.reduce: a mean over a period and a count above a threshold, by hand; a period outside the data.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "run/ops/cube_fixture.hpp"
#include "run/state.hpp"
#include "run/step_op.hpp"

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

TEST(CubeReduceOp, LandsatQaPixelBitsAndBandMathAtEachStep) {
  // Landsat Collection 2 QA_PIXEL values (USGS): 21824 clear land (bits 6, 8, 10, 12, 14), 21952
  // clear water (also bit 7), 22280 cloud (bit 3), 23888 cloud shadow (bit 4), 1 fill (bit 0).
  // quality_clear_bits [0..5] keeps an observation only where none of bits 0-5 is set.
  OpFixture f;
  const std::vector<float> q2000{21824, 22280, 1, 21952, 21824, 21824, 23888, 21824};
  const std::vector<float> q2001{21824, 21824, 21824, 21824, 22280, 22280, 22280, 22280};
  const std::vector<float> q2002(8, 21952.0f);
  const run::RunInput qa = OpFixture::dated("qa", {{f.raster("qa_2000.tif", {q2000}), 2000}, {f.raster("qa_2001.tif", {q2001}), 2001},
                                                   {f.raster("qa_2002.tif", {q2002}), 2002}});
  const auto r = f.run(OpFixture::recipe(R"({"x": {"kind": "cube"}, "qa": {"kind": "cube"}})", R"([
      {"id": "n", "op": "cube.reduce", "input": "x", "reducer": "count", "quality": "qa", "quality_clear_bits": [0, 1, 2, 3, 4, 5],
       "output": true},
      {"id": "d", "op": "cube.reduce", "input": "x", "reducer": "max", "expression": "x - qa / 1000", "output": true}])"),
                       {yearly_cube(f), qa});
  const auto n = OpFixture::values(OpFixture::raster_output(r, "n"));
  const auto d = OpFixture::values(OpFixture::raster_output(r, "d"));
  const std::vector<double> want{3, 2, 2, 3, 2, 2, 1, 2};
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_DOUBLE_EQ(n[i], want[i]) << i;
    // Band math at each step, then the reduction: max over the years of x - qa / 1000.
    const double m = std::max({kY2000[i] - q2000[i] / 1000.0, kY2001[i] - q2001[i] / 1000.0, kY2002[i] - q2002[i] / 1000.0});
    EXPECT_NEAR(d[i], m, 1e-4) << i;
  }
  const std::string e = OpFixture::error_of([&] {
    run::bind_steps(OpFixture::recipe(R"({"x": {"kind": "cube"}, "qa": {"kind": "cube"}})",
                                      R"([{"id": "n", "op": "cube.reduce", "input": "x", "quality": "qa", "quality_clear_bits": [40], "output": true}])"), {});
  });
  EXPECT_NE(e.find("field 'quality_clear_bits': bits are whole numbers 0 to 31"), std::string::npos) << e;
}

}  // namespace
}  // namespace sco::test

namespace sco::test {
namespace {

// Reductions sharing a quality cube run in one pass (one file each, the quality read once); a step
// whose quality classes differ runs in its own. Every value by hand.
TEST(CubeReduceOp, StepsSharingAQualityCubeRunInOnePass) {
  OpFixture f;
  const std::vector<float> q2000{4, 9, 4, 9, 4, 9, 4, 9}, q2001{4, 4, 9, 9, 4, 4, 9, 9}, q2002(8, 4.0f);
  const run::RunInput scl = OpFixture::dated("scl", {{f.raster("scl_2000.tif", {q2000}, GDT_Byte), 2000}, {f.raster("scl_2001.tif", {q2001}, GDT_Byte), 2001},
                                                     {f.raster("scl_2002.tif", {q2002}, GDT_Byte), 2002}});
  auto plan = run::plan_run(f.request(OpFixture::recipe(R"({"x": {"kind": "cube"}, "scl": {"kind": "cube"}})", R"([
      {"id": "med", "op": "cube.reduce", "input": "x", "reducer": "median", "quality": "scl", "quality_valid": [4], "output": true},
      {"id": "top", "op": "cube.reduce", "input": "x", "reducer": "max", "expression": "x * 2", "quality": "scl", "quality_valid": [4], "output": true},
      {"id": "n", "op": "cube.reduce", "input": "x", "reducer": "count", "quality": "scl", "quality_valid": [4], "output": true},
      {"id": "cloudy", "op": "cube.reduce", "input": "x", "reducer": "count", "quality": "scl", "quality_valid": [9], "output": true}])"),
                                              {yearly_cube(f), scl}));
  const run::RunContext& ctx = *plan.state->ctx;
  EXPECT_EQ(run::group_size(ctx, ctx.steps, 0), 3u);
  EXPECT_EQ(run::group_size(ctx, ctx.steps, 3), 1u);
  // The plan counts what the passes read: each step's 3 float32 steps of x; the 3 Byte SCL steps once
  // per pass (with its first step), 8 cells each.
  ASSERT_EQ(plan.step_plans.size(), 4u);
  EXPECT_EQ(plan.step_plans[0].estimate.bytes_read, 8u * (3 * 4 + 3 * 1));
  EXPECT_EQ(plan.step_plans[1].estimate.bytes_read, 8u * 3 * 4);
  EXPECT_EQ(plan.step_plans[2].estimate.bytes_read, 8u * 3 * 4);
  EXPECT_EQ(plan.step_plans[3].estimate.bytes_read, 8u * (3 * 4 + 3 * 1));
  EXPECT_EQ(plan.bytes_read, 8u * (4 * 3 * 4 + 2 * 3 * 1));
  const run::RunResult r = run::execute_run(std::move(plan), {});
  ASSERT_EQ(r.step_times.size(), 4u);
  const auto med = OpFixture::values(OpFixture::raster_output(r, "med"));
  const auto top = OpFixture::values(OpFixture::raster_output(r, "top"));
  const auto n = OpFixture::values(OpFixture::raster_output(r, "n"));
  const auto cloudy = OpFixture::values(OpFixture::raster_output(r, "cloudy"));
  for (std::size_t i = 0; i < 8; ++i) {
    std::vector<double> clear;
    if (q2000[i] == 4) clear.push_back(kY2000[i]);
    if (q2001[i] == 4) clear.push_back(kY2001[i]);
    clear.push_back(kY2002[i]);
    std::sort(clear.begin(), clear.end());
    const double median = clear.size() % 2 ? clear[clear.size() / 2] : (clear[clear.size() / 2 - 1] + clear[clear.size() / 2]) / 2;
    EXPECT_DOUBLE_EQ(med[i], median) << i;
    EXPECT_DOUBLE_EQ(top[i], 2 * clear.back()) << i;
    EXPECT_DOUBLE_EQ(n[i], static_cast<double>(clear.size())) << i;
    // A pixel with no cloudy year has no observation to count: no value, as any reducer's.
    if (clear.size() == 3) EXPECT_TRUE(std::isnan(cloudy[i])) << i;
    else EXPECT_DOUBLE_EQ(cloudy[i], 3.0 - static_cast<double>(clear.size())) << i;
  }
}

}  // namespace
}  // namespace sco::test
