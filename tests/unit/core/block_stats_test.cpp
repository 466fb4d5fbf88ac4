#include <gtest/gtest.h>

#include <cmath>
#include <vector>

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
