// risk: hazard x exposure x vulnerability, each min-max normalised over the districts, by hand.
#include <gtest/gtest.h>

#include "run/op_fixture.hpp"

namespace sco::test {
namespace {

TEST(RiskOp, NormalisedProductOfTableColumnsAndDistrictFields) {
  OpFixture f;
  const std::string v = f.raster("v.tif", {{1, 2, 3, 4, 5, 6, 7, 8}});
  const std::string m = f.raster("m.tif", {{1, 0, 0, 0, 1, 1, 0, 1}});
  const auto r = f.run(OpFixture::recipe(R"({"v": {"kind": "raster"}, "m": {"kind": "raster"}})", R"([
      {"id": "h", "op": "zonal.stats", "raster": "v", "stats": ["mean"]},
      {"id": "e", "op": "zonal.stats", "raster": "m", "stats": ["mean"]},
      {"id": "only_hazard", "op": "risk", "hazard": {"step": "h", "column": "mean"}, "output": true},
      {"id": "all", "op": "risk", "hazard": {"step": "h", "column": "mean"}, "exposure": {"step": "e", "column": "mean"},
       "vulnerability": {"field": "pop"}, "output": true}])"),
                       {{"v", {run::InputSource::raster(v)}}, {"m", {run::InputSource::raster(m)}}});
  // hazard: west 3.5, east 5.5 -> 0, 1; exposure: 0.75, 0.25 -> 1, 0; vulnerability (pop): 1000, 200 -> 1, 0.
  EXPECT_DOUBLE_EQ(OpFixture::cell(r, "only_hazard", "hazard", "east"), 5.5);
  EXPECT_DOUBLE_EQ(OpFixture::cell(r, "only_hazard", "risk", "west"), 0.0);
  EXPECT_DOUBLE_EQ(OpFixture::cell(r, "only_hazard", "risk", "east"), 1.0);
  EXPECT_TRUE(std::isnan(OpFixture::cell(r, "only_hazard", "exposure", "west")));
  EXPECT_DOUBLE_EQ(OpFixture::cell(r, "all", "exposure_norm", "west"), 1.0);
  EXPECT_DOUBLE_EQ(OpFixture::cell(r, "all", "vulnerability", "west"), 1000.0);
  EXPECT_DOUBLE_EQ(OpFixture::cell(r, "all", "vulnerability_norm", "east"), 0.0);
  EXPECT_DOUBLE_EQ(OpFixture::cell(r, "all", "risk", "west"), 0.0 * 1.0 * 1.0);
  EXPECT_DOUBLE_EQ(OpFixture::cell(r, "all", "risk", "east"), 1.0 * 0.0 * 0.0);
}

TEST(RiskOp, ColumnsMustExistInEarlierTables) {
  const std::string e = OpFixture::error_of([&] {
    run::bind_steps(OpFixture::recipe(R"({"v": {"kind": "raster"}})", R"([
        {"id": "h", "op": "zonal.stats", "raster": "v", "stats": ["mean"]},
        {"id": "r", "op": "risk", "hazard": {"step": "h", "column": "p90"}, "output": true}])"), {});
  });
  EXPECT_NE(e.find("step 'r': field 'hazard.column': step 'h' has no numeric column 'p90' (columns: mean)"), std::string::npos) << e;
}

}  // namespace
}  // namespace sco::test
