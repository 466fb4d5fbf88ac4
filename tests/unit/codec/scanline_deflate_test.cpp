// The scanline DEFLATE encoder, checked by a decoder nobody here wrote (zlib's inflate): every kind
// of input comes back byte for byte, and the sizes are what the input's structure allows.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "render/png_encoder.hpp"
#include "codec/scanline_deflate.hpp"

namespace sco::codec {
namespace {

// Compresses, inflates with zlib and checks the round trip; returns the compressed size.
std::size_t round_trip(const std::vector<std::uint8_t>& raw, std::size_t stride) {
  std::vector<std::uint8_t> z{0xAB};  // something before: the encoder appends
  const std::size_t len = zlib_compress_scanlines(raw.data(), raw.size(), stride, z);
  EXPECT_EQ(z.size(), len + 1);
  EXPECT_EQ(z[0], 0xAB);
  EXPECT_EQ((z[1] * 256 + z[2]) % 31, 0) << "zlib header check";
  std::vector<std::uint8_t> back(raw.size() + 1);
  uLongf got = back.size();
  const int rc = uncompress(back.data(), &got, z.data() + 1, static_cast<uLong>(len));
  EXPECT_EQ(rc, Z_OK) << "zlib inflate";
  EXPECT_EQ(got, raw.size());
  back.resize(got);
  EXPECT_TRUE(back == raw) << "bytes differ after the round trip";
  return len;
}

TEST(ScanlineDeflate, EmptyAndTinyInputs) {
  round_trip({}, 257);
  round_trip({7}, 257);
  round_trip({0, 0, 0, 0, 0}, 2);
}

TEST(ScanlineDeflate, ConstantTileIsAFewBytesPerRow) {
  // 256 rows of a filter byte and 256 equal indices: one literal and runs of 258.
  const std::size_t stride = 257;
  std::vector<std::uint8_t> raw(stride * 256, 0);
  const std::size_t len = round_trip(raw, stride);
  // 65792 bytes = 255 runs of 258 + a short one, each coded in a handful of bits.
  EXPECT_LT(len, 300u);
}

TEST(ScanlineDeflate, RowsRepeatedFromAboveUseTheRowDistance) {
  // Noise in the first row, then every row equal to the one above: only the first row is literals.
  const std::size_t stride = 257;
  std::mt19937 rng(5);
  std::vector<std::uint8_t> raw(stride * 64);
  for (std::size_t x = 1; x < stride; ++x) raw[x] = static_cast<std::uint8_t>(rng());
  for (std::size_t y = 1; y < 64; ++y) std::copy_n(raw.begin(), stride, raw.begin() + static_cast<std::ptrdiff_t>(y * stride));
  const std::size_t len = round_trip(raw, stride);
  EXPECT_LT(len, stride + 600);  // the first row, the code tables, and 63 rows of two matches each
  EXPECT_GT(len, stride - 1);    // noise: the first row cannot shrink below 8 bits a byte much
}

TEST(ScanlineDeflate, IncompressibleInputGoesOutStored) {
  std::mt19937 rng(7);
  std::vector<std::uint8_t> raw(200000);
  for (auto& b : raw) b = static_cast<std::uint8_t>(rng());
  const std::size_t len = round_trip(raw, 1025);
  // Stored blocks: 5 bytes of header per 65535, plus the zlib header and Adler-32.
  EXPECT_EQ(len, raw.size() + 5 * 4 + 2 + 4);
}

TEST(ScanlineDeflate, SkewedFrequenciesNeedLengthLimitedCodes) {
  // Symbol k appears Fibonacci(k) times: an optimal Huffman code would be 24 levels deep, beyond
  // DEFLATE's 15 bits. Shuffled with no two neighbours equal, so that most bytes stay literals.
  std::vector<std::uint8_t> raw;
  std::uint32_t a = 1, b = 1;
  for (int k = 0; k < 24; ++k) {
    raw.insert(raw.end(), a, static_cast<std::uint8_t>(k * 10));
    const std::uint32_t c = a + b;
    a = b;
    b = c;
  }
  std::mt19937 rng(11);
  std::shuffle(raw.begin(), raw.end(), rng);
  round_trip(raw, 40000);  // a row longer than DEFLATE's window: no row-above matches
  round_trip(raw, 300);
}

TEST(ScanlineDeflate, RandomTileLikeImagesAtEveryStride) {
  std::mt19937 rng(3);
  for (std::size_t stride : {2u, 3u, 17u, 257u, 1025u}) {
    for (int trial = 0; trial < 20; ++trial) {
      const std::size_t rows = 1 + rng() % 40;
      std::vector<std::uint8_t> raw(stride * rows);
      const int alphabet = 1 + static_cast<int>(rng() % 12);
      for (std::size_t i = 0; i < raw.size(); ++i) {
        const int pick = static_cast<int>(rng() % 100);
        if (i >= stride && pick < 40) raw[i] = raw[i - stride];       // like the row above
        else if (i >= 1 && pick < 75) raw[i] = raw[i - 1];            // a run
        else raw[i] = static_cast<std::uint8_t>(rng() % alphabet);    // a new value
      }
      round_trip(raw, stride);
    }
  }
}

TEST(ScanlineDeflate, SmallerThanTheInputOnStructuredData) {
  // A smooth gradient of 16 classes over 256 x 256, like a colour-mapped tile at high zoom.
  const std::size_t stride = 257;
  std::vector<std::uint8_t> raw(stride * 256);
  for (std::size_t y = 0; y < 256; ++y) {
    for (std::size_t x = 1; x < stride; ++x) raw[y * stride + x] = static_cast<std::uint8_t>((x + y) / 32);
  }
  const std::size_t len = round_trip(raw, stride);
  EXPECT_LT(len, raw.size() / 20);
}

}  // namespace
}  // namespace sco::codec
