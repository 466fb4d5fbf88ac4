// Cube steps over hand-made blocks: anomaly, change in percent, per-pixel percentile thresholds,
// float32 fill values.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cube/cube_step.hpp"

using namespace sco;
using namespace sco::cube;

namespace {
// One 2x1 block per step: pixel 0 and pixel 1.
std::vector<core::BlockView> views(std::vector<std::vector<float>>& steps, std::optional<double> nodata = std::nullopt) {
  std::vector<core::BlockView> v;
  for (auto& s : steps) {
    core::BlockView b;
    b.type = core::DataType::kFloat32;
    b.data = s.data();
    b.pitch = 2;
    b.width = 2;
    b.height = 1;
    b.nodata = nodata;
    v.push_back(b);
  }
  return v;
}
std::vector<float> run(const CubeStepSpec& spec, std::vector<std::vector<float>>& steps, std::optional<double> nodata = std::nullopt) {
  std::vector<float> out(2);
  core::MutableBlockView o{core::DataType::kFloat32, out.data(), 2, 2, 1, std::nan("")};
  CubeStepEvaluator eval(spec);
  eval.evaluate(views(steps, nodata), o);
  return out;
}
}  // namespace

TEST(CubeStep, AnomalyIsPeriodMeanMinusBaselineMean) {
  // Period steps (2): pixel 0 = 20, 24 (mean 22); pixel 1 = 10, NaN (mean 10).
  // Baseline steps (3): pixel 0 = 18, 19, 20 (mean 19); pixel 1 = 12, 14, 16 (mean 14).
  std::vector<std::vector<float>> s = {{20, 10}, {24, NAN}, {18, 12}, {19, 14}, {20, 16}};
  CubeStepSpec spec;
  spec.form = CubeStepSpec::Form::kDifference;
  spec.op = parse_series_op("mean");
  spec.t_main = {0, 1};
  spec.t_reference = {0, 1, 2};
  auto out = run(spec, s);
  EXPECT_FLOAT_EQ(out[0], 3.0f);
  EXPECT_FLOAT_EQ(out[1], -4.0f);
  spec.relative = true;  // 100 * 3 / 19, 100 * -4 / 14
  out = run(spec, s);
  EXPECT_NEAR(out[0], 15.789474f, 1e-5);
  EXPECT_NEAR(out[1], -28.571428f, 1e-5);
}

TEST(CubeStep, CountAboveEachPixelsOwnBaselinePercentile) {
  // Baseline pixel 0: 1..5 -> p80 (numpy linear) = 4.2; pixel 1: 10, 10, 10, 10, 50 -> p80 = 18.
  // Period pixel 0: 4, 5, 6 -> 2 above 4.2; pixel 1: 17, 19, 60 -> 2 above 18.
  std::vector<std::vector<float>> s = {{4, 17}, {5, 19}, {6, 60}, {1, 10}, {2, 10}, {3, 10}, {4, 10}, {5, 50}};
  CubeStepSpec spec;
  spec.form = CubeStepSpec::Form::kThreshold;
  spec.op = parse_series_op("count_above:0");
  spec.t_main = {0, 1, 2};
  spec.t_reference = {0, 1, 2, 3, 4};
  spec.percentile = 0.8;
  auto out = run(spec, s);
  EXPECT_FLOAT_EQ(out[0], 2.0f);
  EXPECT_FLOAT_EQ(out[1], 2.0f);
  // Longest run above the threshold: pixel 0: 4 (no), 5, 6 -> 2; pixel 1: 17 (no), 19, 60 -> 2.
  spec.op = parse_series_op("run_above:0");
  out = run(spec, s);
  EXPECT_FLOAT_EQ(out[0], 2.0f);
  EXPECT_FLOAT_EQ(out[1], 2.0f);
}

TEST(CubeStep, Float32FillValueIsMissing) {
  // NetCDF's _FillValue 1e20 stored as float32 is 1.00000002e20, not the double 1e20: it must
  // still be recognised, or it would count as a very hot month.
  std::vector<std::vector<float>> s = {{1e20f, 26}, {30, 1e20f}, {1e20f, 27}};
  CubeStepSpec spec;
  spec.op = parse_series_op("count_above:25");
  spec.t_main = {0, 1, 2};
  auto out = run(spec, s, 1e20);
  EXPECT_FLOAT_EQ(out[0], 1.0f);
  EXPECT_FLOAT_EQ(out[1], 2.0f);
}
