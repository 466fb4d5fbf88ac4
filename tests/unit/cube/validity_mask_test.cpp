// Validity masks from quality bands: every Byte value against the listed classes (the vectorised
// lookup covers all 256, rows of widths that are not multiples of its 32 lanes), steps' own masks
// combined with the shared ones, and one shared mask serving two cubes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "cube/validity_mask.hpp"
#include "support/block_view.hpp"

using namespace sco;

namespace {
template <class T>
core::BlockView view(const std::vector<T>& v, int w, int h) {
  return test::block_view(sizeof(T) == 1 ? core::DataType::kByte : core::DataType::kUInt16, v.data(), w, h);
}
}  // namespace

TEST(ValidityMask, EveryByteValueAgainstTheListedClasses) {
  std::mt19937 rng(7);
  const std::vector<std::vector<double>> sets = {{2, 4, 5, 6, 7, 11}, {0}, {255}, {1, 17, 128, 200, 254}, {}};
  for (const auto& valid : sets) {
    for (int w : {1, 31, 32, 33, 100, 256}) {
      const int h = 3;
      std::vector<std::uint8_t> q(static_cast<std::size_t>(w) * h);
      for (std::size_t i = 0; i < q.size(); ++i) q[i] = static_cast<std::uint8_t>(i < 256 ? i : rng() % 256);
      const std::vector<core::BlockView> quality = {view(q, w, h)};
      std::vector<std::uint8_t> storage;
      cube::shared_validity(quality, nullptr, 1, valid, w, h, storage);
      for (std::size_t i = 0; i < q.size(); ++i) {
        const bool listed = valid.empty() ? q[i] != 0 : std::find(valid.begin(), valid.end(), double(q[i])) != valid.end();
        ASSERT_EQ(storage[i], listed ? 1 : 0) << "value " << int(q[i]) << " width " << w;
      }
    }
  }
}

TEST(ValidityMask, OwnMasksCombineWithTheSharedOne) {
  const int w = 4, h = 1;
  const std::vector<std::uint8_t> scl = {4, 9, 4, 9}, scl2 = {4, 4, 4, 4};
  const std::vector<core::BlockView> quality = {view(scl, w, h), view(scl2, w, h)};
  std::vector<std::uint8_t> shared;
  cube::shared_validity(quality, nullptr, 2, {4}, w, h, shared);
  EXPECT_EQ(shared, (std::vector<std::uint8_t>{1, 0, 1, 0, 1, 1, 1, 1}));
  // Two cubes on the same steps: the first without masks of its own, the second with one on step 2.
  const std::vector<std::uint16_t> values(4, 100);
  const std::vector<std::uint8_t> own = {255, 255, 0, 255};
  const core::BlockView plain = view(values, w, h);
  std::vector<core::BlockView> a = {plain, plain}, b = {plain, plain};
  b[1].mask = own.data();
  b[1].mask_pitch = w;
  std::vector<std::uint8_t> sa, sb;
  cube::attach_validity(a, shared.data(), w, h, sa);
  cube::attach_validity(b, shared.data(), w, h, sb);
  EXPECT_EQ(a[0].mask, shared.data());
  EXPECT_EQ(a[1].mask, shared.data() + 4);
  EXPECT_EQ(b[0].mask, shared.data());
  EXPECT_EQ(std::vector<std::uint8_t>(b[1].mask, b[1].mask + 4), (std::vector<std::uint8_t>{1, 1, 0, 1}));
  // apply_validity: both at once.
  std::vector<core::BlockView> c = {plain, plain};
  c[0].mask = own.data();
  c[0].mask_pitch = w;
  std::vector<std::uint8_t> sc;
  cube::apply_validity(c, quality, nullptr, {4}, w, h, sc);
  EXPECT_EQ(std::vector<std::uint8_t>(c[0].mask, c[0].mask + 4), (std::vector<std::uint8_t>{1, 0, 0, 0}));
  EXPECT_EQ(std::vector<std::uint8_t>(c[1].mask, c[1].mask + 4), (std::vector<std::uint8_t>{1, 1, 1, 1}));
}
