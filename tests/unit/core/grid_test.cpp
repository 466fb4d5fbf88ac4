#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/grid.hpp"

using namespace sco::core;

TEST(BlockLayout, OddSizesClipLastRowAndColumn) {
  // 1000 x 700 in 256 x 256 blocks: 4 across (256*3 = 768, last 232 wide), 3 down (last 188 high).
  BlockLayout l(1000, 700, 256, 256);
  EXPECT_EQ(l.blocks_across(), 4);
  EXPECT_EQ(l.blocks_down(), 3);
  EXPECT_EQ(l.count(), 12);
  EXPECT_EQ(l.window(0), (Window{0, 0, 256, 256}));
  EXPECT_EQ(l.window(3), (Window{768, 0, 232, 256}));
  EXPECT_EQ(l.window(8), (Window{0, 512, 256, 188}));
  EXPECT_EQ(l.window(11), (Window{768, 512, 232, 188}));
}

TEST(BlockLayout, WindowsCoverEveryPixelExactlyOnce) {
  for (auto [w, h, bw, bh] : {std::array{349, 352, 349, 3}, std::array{1, 1, 512, 512}, std::array{513, 257, 256, 256},
                              std::array{1000, 1, 7, 1}}) {
    BlockLayout l(w, h, bw, bh);
    std::vector<int> hits(static_cast<std::size_t>(w) * h, 0);
    for (std::int64_t i = 0; i < l.count(); ++i) {
      const Window win = l.window(i);
      for (int y = win.y; y < win.y + win.height; ++y)
        for (int x = win.x; x < win.x + win.width; ++x) hits[static_cast<std::size_t>(y) * w + x]++;
    }
    for (int v : hits) ASSERT_EQ(v, 1) << w << "x" << h << " in " << bw << "x" << bh;
  }
}

TEST(BlockLayout, RejectsEmptySizes) { EXPECT_THROW(BlockLayout(0, 10, 256, 256), Error); }

TEST(Grid, SameGeometryToleratesRoundOffOnly) {
  Grid a{349, 352, {288776.25, 28.5, 0, 9120760.75, 0, -28.5}, ""};
  Grid b = a;
  b.transform[0] += 28.5 * 1e-9;  // far below a cell
  EXPECT_TRUE(a.same_geometry(b));
  b.transform[0] += 28.5 * 0.5;  // half a cell off
  EXPECT_FALSE(a.same_geometry(b));
  Grid c = a;
  c.width = 350;
  EXPECT_FALSE(a.same_geometry(c));
}
