// zonal.stats: statistics per district, exposure to a mask with residents, classes, by hand.
#include <gtest/gtest.h>

#include "run/op_fixture.hpp"

namespace sco::test {
namespace {

TEST(ZonalStatsOp, StatisticsExposureResidentsAndClasses) {
  OpFixture f;
  const std::string v = f.raster("v.tif", {{1, 2, 3, 4, 5, 6, 7, 8}});
  const std::string m = f.raster("m.tif", {{1, 0, 0, 0, 1, 1, 0, 1}});
  const auto r = f.run(OpFixture::recipe(R"({"v": {"kind": "raster"}, "m": {"kind": "raster"}})", R"([
      {"id": "z", "op": "zonal.stats", "raster": "v", "stats": ["mean", "max", "count"], "output": true,
       "exposure": {"mask": "m", "population_field": "pop"}, "classes": {"column": "mean", "thresholds": [4, 5]}}])"),
                       {{"v", {run::InputSource::raster(v)}}, {"m", {run::InputSource::raster(m)}}});
  // west: cells 1 2 / 5 6; east: 3 4 / 7 8.
  EXPECT_DOUBLE_EQ(OpFixture::cell(r, "z", "mean", "west"), 3.5);
  EXPECT_DOUBLE_EQ(OpFixture::cell(r, "z", "max", "west"), 6.0);
  EXPECT_DOUBLE_EQ(OpFixture::cell(r, "z", "count", "west"), 4.0);
  EXPECT_DOUBLE_EQ(OpFixture::cell(r, "z", "mean", "east"), 5.5);
  // The mask covers 3 of west's 4 cells and 1 of east's; each district is 400 m2 = 4e-4 km2.
  EXPECT_DOUBLE_EQ(OpFixture::cell(r, "z", "exposed_fraction", "west"), 0.75);
  EXPECT_DOUBLE_EQ(OpFixture::cell(r, "z", "exposed_fraction", "east"), 0.25);
  EXPECT_NEAR(OpFixture::cell(r, "z", "exposed_area_km2", "west"), 3e-4, 1e-12);
  EXPECT_DOUBLE_EQ(OpFixture::cell(r, "z", "residents", "west"), 1000);
  EXPECT_DOUBLE_EQ(OpFixture::cell(r, "z", "exposed_residents", "west"), 750);
  EXPECT_DOUBLE_EQ(OpFixture::cell(r, "z", "exposed_residents", "east"), 50);
  // Classes of the mean: below 4 low, from 5 high.
  const io::ResultTable& t = r.tables.at("z");
  ASSERT_EQ(t.text_columns, std::vector<std::string>{"class"});
  EXPECT_EQ(t.text_rows[0][0], t.ids[0] == "west" ? "low" : "high");
  EXPECT_EQ(t.text_rows[1][0], t.ids[1] == "west" ? "low" : "high");
}

TEST(ZonalStatsOp, AMissingPopulationFieldIsRefusedBeforeAnyPixel) {
  OpFixture f;
  const std::string v = f.raster("v.tif", {{1, 2, 3, 4, 5, 6, 7, 8}});
  const auto rec = OpFixture::recipe(R"({"v": {"kind": "raster"}})", R"([
      {"id": "z", "op": "zonal.stats", "raster": "v", "stats": ["mean"], "output": true, "exposure": {"mask": "v", "population_field": "residents"}}])");
  const std::string e = OpFixture::error_of([&] { run::plan_run(f.request(rec, {{"v", {run::InputSource::raster(v)}}})); });
  EXPECT_NE(e.find("has no field 'residents' (fields: name, pop)"), std::string::npos) << e;
}

}  // namespace
}  // namespace sco::test
