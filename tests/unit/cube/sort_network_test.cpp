// The sorting network of the cube's medians, and u16 quantiles through it against the float path.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "core/block.hpp"
#include "cube/series_op.hpp"
#include "cube/sort_network.hpp"
#include "support/block_view.hpp"

using namespace sco::cube;

using sco::test::block_view;

TEST(SortNetwork, SortsEveryZeroOneInputUpTo14) {
  // The 0-1 principle (Knuth, TAOCP 5.3.4): a network that sorts every sequence of 0s and 1s sorts all.
  for (int n = 1; n <= 14; ++n) {
    const int width = 1 << n;  // one column per 0-1 input
    std::vector<std::uint16_t> rows(static_cast<std::size_t>(n) * width);
    for (int x = 0; x < width; ++x) {
      for (int k = 0; k < n; ++k) rows[static_cast<std::size_t>(k) * width + x] = (x >> k) & 1;
    }
    sort_columns(rows.data(), width, sort_network(n));
    for (int x = 0; x < width; ++x) {
      for (int k = 1; k < n; ++k) ASSERT_LE(rows[static_cast<std::size_t>(k - 1) * width + x], rows[static_cast<std::size_t>(k) * width + x]) << "n " << n << " input " << x;
    }
  }
}

TEST(SortNetwork, SortsRandomColumnsAsStdSort) {
  std::mt19937 rng(7);
  for (int n : {2, 3, 17, 36, 64, 100, 128}) {
    const int width = 37;
    std::vector<std::uint16_t> rows(static_cast<std::size_t>(n) * width);
    for (auto& v : rows) v = static_cast<std::uint16_t>(rng() % 20);  // many ties
    std::vector<std::vector<std::uint16_t>> want(width);
    for (int x = 0; x < width; ++x) {
      for (int k = 0; k < n; ++k) want[x].push_back(rows[static_cast<std::size_t>(k) * width + x]);
      std::sort(want[x].begin(), want[x].end());
    }
    sort_columns(rows.data(), width, sort_network(n));
    for (int x = 0; x < width; ++x) {
      for (int k = 0; k < n; ++k) ASSERT_EQ(rows[static_cast<std::size_t>(k) * width + x], want[x][k]) << "n " << n;
    }
  }
  EXPECT_LT(sort_network(36).size(), 300u);  // 36 values: fewer than 300 compare-exchanges
}

TEST(SeriesOps, U16QuantilesEqualTheFloatPath) {
  // 36 steps of 5 x 3 pixels: random values with nodata (0), masked cells, a valid 65535 and a pixel
  // with no observation; medians and the 90th percentile from the u16 steps and from the same values
  // as float32 (the per-pixel path) are equal.
  std::mt19937 rng(11);
  const int n = 36, w = 5, h = 3;
  std::vector<std::vector<std::uint16_t>> u16(n, std::vector<std::uint16_t>(w * h));
  std::vector<std::vector<float>> f32(n, std::vector<float>(w * h));
  std::vector<std::vector<std::uint8_t>> mask(n, std::vector<std::uint8_t>(w * h, 255));
  for (int k = 0; k < n; ++k) {
    for (int i = 0; i < w * h; ++i) {
      std::uint16_t v = static_cast<std::uint16_t>(rng() % 3000);
      if (i == 7 && k % 3 == 0) v = 65535;
      if (rng() % 5 == 0) v = 0;            // nodata
      if (rng() % 7 == 0) mask[k][i] = 0;   // masked (clouds)
      if (i == 4) v = 0;                    // never observed
      u16[k][i] = v;
      f32[k][i] = (v == 0 || mask[k][i] == 0) ? std::nanf("") : static_cast<float>(v);
    }
  }
  for (const char* op : {"median", "p90", "p0", "p100"}) {
    std::vector<sco::core::BlockView> a, b;
    for (int k = 0; k < n; ++k) {
      sco::core::BlockView va = block_view(sco::core::DataType::kUInt16, u16[k].data(), w, h);
      va.nodata = 0;
      va.mask = mask[k].data();
      va.mask_pitch = w;
      a.push_back(va);
      b.push_back(block_view(sco::core::DataType::kFloat32, f32[k].data(), w, h));
    }
    std::vector<float> out_a(w * h), out_b(w * h);
    sco::core::MutableBlockView oa{sco::core::DataType::kFloat32, out_a.data(), w, w, h, -1.0};
    sco::core::MutableBlockView ob{sco::core::DataType::kFloat32, out_b.data(), w, w, h, -1.0};
    std::vector<double> t(n);
    for (int k = 0; k < n; ++k) t[k] = k;
    SeriesEvaluator(parse_series_op(op), t).evaluate(a, oa);
    SeriesEvaluator(parse_series_op(op), t).evaluate(b, ob);
    for (int i = 0; i < w * h; ++i) EXPECT_EQ(out_a[i], out_b[i]) << op << " pixel " << i;
    EXPECT_EQ(out_a[4], -1.0f) << op;  // no observation: nodata
  }
}
