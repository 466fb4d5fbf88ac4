#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

#include "render/block_cache.hpp"

using namespace sco::render;

namespace {
Block bytes(std::size_t n, std::uint8_t fill) { return std::make_shared<const std::vector<std::uint8_t>>(n, fill); }
BlockKey key(int bx, int level = 0, const char* source = "a.tif") { return BlockKey{source, level, 1, bx, 0}; }
}  // namespace

TEST(BlockCache, KeepsBlocksUpToItsCapacityLeastRecentlyUsedOut) {
  BlockCache cache(300);
  cache.put(key(0), bytes(100, 0));
  cache.put(key(1), bytes(100, 1));
  cache.put(key(2), bytes(100, 2));
  EXPECT_EQ(cache.bytes(), 300u);
  ASSERT_NE(cache.get(key(0)), nullptr);  // 0 is now the most recently used: 1 is the oldest
  cache.put(key(3), bytes(100, 3));
  EXPECT_EQ(cache.bytes(), 300u);
  EXPECT_EQ(cache.get(key(1)), nullptr);
  EXPECT_EQ((*cache.get(key(0)))[0], 0);
  EXPECT_EQ((*cache.get(key(2)))[0], 2);
  EXPECT_EQ((*cache.get(key(3)))[0], 3);
}

TEST(BlockCache, KeysDifferBySourceLevelBandAndBlock) {
  BlockCache cache(1000);
  cache.put(key(0, -1), bytes(10, 1));
  cache.put(key(0, 0), bytes(10, 2));
  cache.put(key(0, 0, "b.tif"), bytes(10, 3));
  cache.put(BlockKey{"a.tif", 0, 2, 0, 0}, bytes(10, 4));
  cache.put(BlockKey{"a.tif", 0, 1, 0, 1}, bytes(10, 5));
  EXPECT_EQ((*cache.get(key(0, -1)))[0], 1);
  EXPECT_EQ((*cache.get(key(0, 0)))[0], 2);
  EXPECT_EQ((*cache.get(key(0, 0, "b.tif")))[0], 3);
  EXPECT_EQ((*cache.get(BlockKey{"a.tif", 0, 2, 0, 0}))[0], 4);
  EXPECT_EQ((*cache.get(BlockKey{"a.tif", 0, 1, 0, 1}))[0], 5);
  EXPECT_EQ(cache.bytes(), 50u);
}

TEST(BlockCache, ReplacingAKeyAndOversizedBlocksKeepTheCountRight) {
  BlockCache cache(100);
  cache.put(key(0), bytes(60, 1));
  cache.put(key(0), bytes(40, 2));  // replaces: 40 bytes held, not 100
  EXPECT_EQ(cache.bytes(), 40u);
  EXPECT_EQ((*cache.get(key(0)))[0], 2);
  cache.put(key(1), bytes(101, 3));  // larger than the whole cache: not kept, nothing evicted
  EXPECT_EQ(cache.get(key(1)), nullptr);
  EXPECT_EQ(cache.bytes(), 40u);
  cache.set_capacity(30);  // shrinking evicts
  EXPECT_EQ(cache.bytes(), 0u);
  EXPECT_EQ(cache.get(key(0)), nullptr);
}

TEST(BlockCache, AHandedOutBlockOutlivesItsEviction) {
  BlockCache cache(100);
  cache.put(key(0), bytes(100, 7));
  const Block held = cache.get(key(0));
  cache.put(key(1), bytes(100, 8));  // evicts block 0 from the cache
  EXPECT_EQ(cache.get(key(0)), nullptr);
  EXPECT_EQ((*held)[99], 7);  // still readable by the tile that holds it
}

TEST(BlockCache, ThreadsSharingItNeverExceedTheCapacity) {
  BlockCache cache(1000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 5000; ++i) {
        const BlockKey k = key((i * 7 + t) % 50);
        if (!cache.get(k)) cache.put(k, bytes(64, static_cast<std::uint8_t>(t)));
        EXPECT_LE(cache.bytes(), 1000u);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(cache.bytes(), 1000u);
  EXPECT_EQ(cache.bytes() % 64, 0u);
}
