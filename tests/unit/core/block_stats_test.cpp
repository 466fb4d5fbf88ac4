#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/block.hpp"
#include "core/block_stats.hpp"

using namespace sco::core;

TEST(RunningStats, SkipsNodataAndNaN) {
  // Valid values 1, 2, 3, 6: mean 3, population variance (4+1+0+9)/4 = 3.5.
  std::vector<float> v = {1, 2, -9, 3, NAN, 6};
  MutableBlockView b{DataType::kFloat32, v.data(), 3, 3, 2, -9};
  RunningStats s;
  s.add_block(b);
  EXPECT_EQ(s.count, 4);
  EXPECT_EQ(s.total, 6);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 6);
  EXPECT_DOUBLE_EQ(s.mean(), 3);
  EXPECT_NEAR(s.stddev(), std::sqrt(3.5), 1e-12);
  RunningStats t;
  t.merge(s);
  t.merge(s);
  EXPECT_EQ(t.count, 8);
  EXPECT_DOUBLE_EQ(t.mean(), 3);
}

// The one nodata rule every kernel (band math, zonal, cube) uses.
TEST(NodataAs, InTheBandsOwnType) {
  using sco::core::nodata_as;
  EXPECT_FALSE(nodata_as<float>(std::nullopt).has_value());
  EXPECT_FALSE(nodata_as<float>(std::nan("")).has_value());
  EXPECT_EQ(*nodata_as<float>(1e20), 1e20f);  // the float nearest 1e20, as GDAL stores it
  EXPECT_NE(static_cast<double>(*nodata_as<float>(1e20)), 1e20);
  EXPECT_FALSE(nodata_as<float>(1e300).has_value());  // a float32 band cannot hold it
  EXPECT_TRUE(std::isinf(*nodata_as<float>(-INFINITY)));
  EXPECT_EQ(*nodata_as<std::uint8_t>(255.0), 255);
  EXPECT_FALSE(nodata_as<std::uint8_t>(256.0).has_value());
  EXPECT_FALSE(nodata_as<std::int16_t>(-0.5).has_value());
  EXPECT_EQ(*nodata_as<std::int16_t>(-32768.0), -32768);
}
