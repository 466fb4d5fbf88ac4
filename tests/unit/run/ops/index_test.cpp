// index.NAME: NDVI of a 6-band Landsat-7 layout (red band 3, NIR band 4), by hand.
#include <gtest/gtest.h>

#include "run/op_fixture.hpp"

namespace sco::test {
namespace {

TEST(IndexOp, NdviOfTheSensorsBands) {
  OpFixture f;
  const std::vector<float> zero(8, 0.0f), red{1, 1, 2, 2, 1, 1, 3, 3}, nir{3, 3, 2, 2, 1, 3, 1, 5};
  const std::string scene = f.raster("scene.tif", {zero, zero, red, nir, zero, zero});
  const auto r = f.run(OpFixture::recipe(R"({"scene": {"kind": "image"}})",
                                         R"([{"id": "ndvi", "op": "index.ndvi", "input": "scene", "sensor": "landsat7", "output": true},
                                             {"id": "z", "op": "zonal.stats", "raster": "ndvi", "stats": ["mean"], "output": true}])"),
                       {{"scene", {run::InputSource::raster(scene)}}});
  // (nir - red) / (nir + red), cell by cell.
  const std::vector<double> expected{0.5, 0.5, 0, 0, 0, 0.5, -0.5, 0.25};
  const auto got = OpFixture::values(OpFixture::raster_output(r, "ndvi"));
  ASSERT_EQ(got.size(), 8u);
  for (std::size_t i = 0; i < 8; ++i) EXPECT_NEAR(got[i], expected[i], 1e-6) << i;
  EXPECT_NEAR(OpFixture::cell(r, "z", "mean", "west"), (0.5 + 0.5 + 0 + 0.5) / 4, 1e-6);
  EXPECT_NEAR(OpFixture::cell(r, "z", "mean", "east"), (0 + 0 - 0.5 + 0.25) / 4, 1e-6);
}

TEST(IndexOp, UnknownIndexAndSensorNameTheField) {
  const auto bad = [](const std::string& step) {
    return OpFixture::error_of([&] { run::bind_steps(OpFixture::recipe(R"({"scene": {"kind": "image"}})", "[" + step + "]"), {}); });
  };
  EXPECT_NE(bad(R"({"id": "a", "op": "index.ndvx", "input": "scene", "sensor": "landsat7", "output": true})").find("field 'op': unknown index 'ndvx'"),
            std::string::npos);
  EXPECT_NE(bad(R"({"id": "a", "op": "index.ndvi", "input": "scene", "sensor": "spot9", "output": true})").find("field 'sensor': unknown sensor 'spot9'"),
            std::string::npos);
}

}  // namespace
}  // namespace sco::test
