// raster.calc: band math over inputs and an earlier step, by hand.
#include <gtest/gtest.h>

#include "run/op_fixture.hpp"

namespace sco::test {
namespace {

TEST(RasterCalcOp, ExpressionOverInputsAndEarlierSteps) {
  OpFixture f;
  const std::string a = f.raster("a.tif", {{1, 2, 3, 4, 5, 6, 7, 8}});
  const std::string b = f.raster("b.tif", {{10, 20, 30, 40, 50, 60, 70, std::nanf("")}});
  const auto r = f.run(OpFixture::recipe(R"({"a": {"kind": "raster"}, "b": {"kind": "raster"}})",
                                         R"([{"id": "c", "op": "raster.calc", "expression": "a * 2 + b"},
                                             {"id": "d", "op": "raster.calc", "expression": "c / 2", "output": true}])"),
                       {{"a", {run::InputSource::raster(a)}}, {"b", {run::InputSource::raster(b)}}});
  // (a * 2 + b) / 2 = a + b / 2; nodata stays nodata.
  const auto got = OpFixture::values(OpFixture::raster_output(r, "d"));
  const std::vector<double> expected{6, 12, 18, 24, 30, 36, 42};
  for (std::size_t i = 0; i < 7; ++i) EXPECT_DOUBLE_EQ(got[i], expected[i]) << i;
  EXPECT_TRUE(std::isnan(got[7]));
}

TEST(RasterCalcOp, NamesOnlyRastersDefinedBefore) {
  const auto err = [](const std::string& steps) {
    return OpFixture::error_of([&] { run::bind_steps(OpFixture::recipe(R"({"a": {"kind": "raster"}, "t": {"kind": "cube"}})", steps), {}); });
  };
  EXPECT_NE(err(R"([{"id": "c", "op": "raster.calc", "expression": "a * later", "output": true}])").find("step 'c': field 'expression': 'later' is neither an input nor an earlier step"),
            std::string::npos);
  EXPECT_NE(err(R"([{"id": "c", "op": "raster.calc", "expression": "t + 1", "output": true}])").find("input 't' is a cube, not a raster"), std::string::npos);
  EXPECT_NE(err(R"([{"id": "z", "op": "zonal.stats", "raster": "a", "stats": ["mean"]},
                    {"id": "c", "op": "raster.calc", "expression": "z + 1", "output": true}])").find("step 'z' makes a table, not a raster"),
            std::string::npos);
}

}  // namespace
}  // namespace sco::test
