// The kernel of apply_kernel against values worked out by hand on a 4 x 3 band.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "algebra/convolution.hpp"
#include "core/error.hpp"

namespace sco::algebra {
namespace {

// rows: 1 2 3 4 / 5 6 7 8 / 9 10 11 12
const std::vector<float> kBand = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

std::vector<float> run(const Kernel2D& k, const std::vector<float>& band = kBand) {
  std::vector<float> out(band.size());
  convolve_rows(k, 4, 3, 0, 3, [&band](long r) { return band.data() + r * 4; }, out.data());
  return out;
}

TEST(BorderIndex, EveryModeAsTheOpenEoDefinitionDrawsIt) {
  // abcdefgh = 0..7; two cells beyond each edge
  const long n = 8;
  auto edges = [n](BorderMode m) { return std::vector<long>{border_index(-2, n, m), border_index(-1, n, m), border_index(8, n, m), border_index(9, n, m)}; };
  EXPECT_EQ(edges(BorderMode::kConstant), (std::vector<long>{-1, -1, -1, -1}));
  EXPECT_EQ(edges(BorderMode::kReplicate), (std::vector<long>{0, 0, 7, 7}));     // aa|abcdefgh|hh
  EXPECT_EQ(edges(BorderMode::kReflect), (std::vector<long>{1, 0, 7, 6}));       // ba|abcdefgh|hg
  EXPECT_EQ(edges(BorderMode::kReflectPixel), (std::vector<long>{2, 1, 6, 5}));  // cb|abcdefgh|gf
  EXPECT_EQ(edges(BorderMode::kWrap), (std::vector<long>{6, 7, 0, 1}));          // gh|abcdefgh|ab
  EXPECT_EQ(border_index(3, n, BorderMode::kWrap), 3);
  EXPECT_EQ(border_index(-1, 1, BorderMode::kReflectPixel), 0);
  EXPECT_THROW(parse_border_mode("mirror"), core::Error);
}

TEST(Convolution, BoxSumWithZeroBorder) {
  Kernel2D k{3, 3, std::vector<double>(9, 1.0), 1.0};
  const auto out = run(k);
  EXPECT_FLOAT_EQ(out[0], 1 + 2 + 5 + 6);                       // corner: 4 cells inside
  EXPECT_FLOAT_EQ(out[5], 1 + 2 + 3 + 5 + 6 + 7 + 9 + 10 + 11);  // (row 1, col 1): all 9
  EXPECT_FLOAT_EQ(out[11], 7 + 8 + 11 + 12);
}

TEST(Convolution, WeightsAreNotFlippedAndFactorScales) {
  // only the east neighbour: out = 2 * in[x + 1]
  Kernel2D k{1, 3, {0, 0, 1}, 2.0, BorderMode::kConstant, 100.0};
  const auto out = run(k);
  EXPECT_FLOAT_EQ(out[0], 4);    // 2 * 2
  EXPECT_FLOAT_EQ(out[3], 200);  // beyond the east edge: the constant 100
  // only the north neighbour, replicated at the top
  Kernel2D north{3, 1, {1, 0, 0}, 1.0, BorderMode::kReplicate};
  const auto up = run(north);
  EXPECT_FLOAT_EQ(up[1], 2);  // row 0 takes row 0 again
  EXPECT_FLOAT_EQ(up[9], 6);  // row 2 takes row 1
}

TEST(Convolution, BordersReflectAndWrap) {
  Kernel2D west{1, 3, {1, 0, 0}, 1.0, BorderMode::kReflect};
  EXPECT_FLOAT_EQ(run(west)[4], 5);  // reflect: the edge cell itself
  west.border = BorderMode::kReflectPixel;
  EXPECT_FLOAT_EQ(run(west)[4], 6);  // about the edge cell: its east neighbour
  west.border = BorderMode::kWrap;
  EXPECT_FLOAT_EQ(run(west)[4], 8);  // the row's last cell
}

TEST(Convolution, InvalidCellsAreReplaced) {
  std::vector<float> band = kBand;
  band[5] = std::nanf("");
  Kernel2D k{3, 3, std::vector<double>(9, 1.0), 1.0};
  k.replace_invalid = 100;
  EXPECT_FLOAT_EQ(run(k, band)[0], 1 + 2 + 5 + 100);
}

}  // namespace
}  // namespace sco::algebra
