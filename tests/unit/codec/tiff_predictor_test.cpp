// TIFF predictors: hand-computed bytes of a small row (TIFF 6.0 section 14; Adobe's Technical Note 3
// for the floating-point predictor), and round trips through the readers' inverses at widths that
// do and do not fill the AVX2 path's groups of eight.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "codec/tiff_predictor.hpp"

namespace sco::codec {
namespace {

TEST(TiffPredictor, HorizontalDifferenceOfUInt16ByHand) {
  const std::vector<std::uint16_t> row = {10, 12, 11, 65535, 0};  // wraps: 65535 - 11, 0 - 65535
  std::vector<std::uint16_t> out(row.size());
  horizontal_difference(reinterpret_cast<const std::uint8_t*>(row.data()), reinterpret_cast<std::uint8_t*>(out.data()), {5, 1, 1, 2});
  EXPECT_EQ(out, (std::vector<std::uint16_t>{10, 2, 65535, 65524, 1}));
}

TEST(TiffPredictor, FloatingPointOfTwoValuesByHand) {
  // 1.0f = 3f 80 00 00, -2.0f = c0 00 00 00 (big-endian). Planes, most significant first:
  // 3f c0 | 80 00 | 00 00 | 00 00; then each byte minus the one before it (mod 256).
  const float row[2] = {1.0f, -2.0f};
  std::uint8_t out[8];
  floating_point_difference(reinterpret_cast<const std::uint8_t*>(row), out, {2, 1, 1, 4});
  const std::uint8_t want[8] = {0x3f, 0x81, 0xc0, 0x80, 0x00, 0x00, 0x00, 0x00};
  EXPECT_EQ(std::memcmp(out, want, 8), 0);
}

TEST(TiffPredictor, RoundTripsThroughTheReadersInverse) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> value(-1000.0f, 1000.0f);
  for (const RowShape shape : {RowShape{512, 9, 1, 4}, RowShape{13, 5, 1, 4}, RowShape{100, 4, 2, 4}, RowShape{37, 3, 1, 8}}) {
    const std::size_t n = shape.row_bytes() * shape.rows;
    std::vector<std::uint8_t> raw(n), coded(n), scratch(shape.row_bytes());
    if (shape.bytes == 4) {
      for (std::size_t i = 0; i < n / 4; ++i) reinterpret_cast<float*>(raw.data())[i] = value(rng);
    } else {
      for (std::size_t i = 0; i < n / 8; ++i) reinterpret_cast<double*>(raw.data())[i] = value(rng);
    }
    floating_point_difference(raw.data(), coded.data(), shape);
    EXPECT_NE(coded, raw);
    floating_point_accumulate(coded.data(), shape, scratch.data());
    EXPECT_EQ(coded, raw) << "width " << shape.width << ", samples " << shape.samples << ", bytes " << shape.bytes;
  }
  const RowShape ints{300, 4, 3, 2};
  std::vector<std::uint8_t> raw(ints.row_bytes() * ints.rows), coded(raw.size());
  for (auto& b : raw) b = static_cast<std::uint8_t>(rng());
  horizontal_difference(raw.data(), coded.data(), ints);
  horizontal_accumulate(coded.data(), ints);
  EXPECT_EQ(coded, raw);
}

}  // namespace
}  // namespace sco::codec
