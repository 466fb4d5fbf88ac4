// The histogram-row collectors: a hand-worked row, then the vector collector against the scalar
// reference on random rows of every supported type (runs, NaN, nodata, masks, every width).
#include "zonal/runs_kernel.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <utility>
#include <vector>

namespace sco::zonal {
namespace {

template <typename T>
std::vector<HistEntry> collect(bool vector, const std::vector<T>& row, const std::vector<double>& cov, const std::vector<std::uint8_t>* mask,
                               double nd) {
  std::vector<HistEntry> out(row.size() + 8);
  const auto* p = reinterpret_cast<const core::Unaligned<T>*>(row.data());
  const std::uint8_t* m = mask ? mask->data() : nullptr;
  const int w = static_cast<int>(row.size());
  const std::size_t n =
      vector ? collect_runs_avx512<T>(p, cov.data(), m, w, nd, out.data()) : collect_runs_scalar<T>(p, cov.data(), m, w, nd, out.data());
  out.resize(n);
  return out;
}

TEST(RunsKernel, HandWorkedRow) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // Cells:  1    1    2    NaN  2    2     3   9 (nodata)  9    4 (masked)  5    5    5
  const std::vector<float> row{1, 1, 2, NAN, 2, 2, 3, 9, 9, 4, 5, 5, 5};
  const std::vector<double> cov{0.5, 1, 1, 1, 1, 0.25, 0, 1, 1, 1, 1, 1, 1};
  const std::vector<std::uint8_t> mask{1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1};
  for (bool vec : {false, true}) {
    if (vec && !runs_avx512_available()) continue;
    const auto got = collect<float>(vec, row, cov, &mask, 9.0);
    // (1, 0.5) is partly covered, a pair of its own; (1, 1); (2, 1); NaN breaks the run; (2, 1);
    // (2, 0.25) partly covered again; 3 is uncovered, 9 nodata, 4 masked; then a run (5, 3).
    const std::vector<std::pair<double, double>> want{{1, 0.5}, {1, 1}, {2, 1}, {2, 1}, {2, 0.25}, {5, 3}};
    ASSERT_EQ(got.size(), want.size()) << "vector " << vec;
    for (std::size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(got[i].key, want[i].first) << "vector " << vec << " pair " << i;
      EXPECT_EQ(got[i].w, want[i].second) << "vector " << vec << " pair " << i;
    }
    // Without nodata (NaN) the two 9s are one run of area 2.
    const auto all = collect<float>(vec, row, cov, &mask, nan);
    ASSERT_EQ(all.size(), 7u);
    EXPECT_EQ(all[5].key, 9.0);
    EXPECT_EQ(all[5].w, 2.0);
  }
}

template <typename T>
void random_rows_agree() {
  if (!runs_avx512_available()) GTEST_SKIP() << "no AVX-512 on this CPU";
  std::mt19937 rng(20261124);
  std::uniform_int_distribution<int> pick(0, 99);
  for (int width = 0; width <= 70; ++width) {
    for (int trial = 0; trial < 40; ++trial) {
      std::vector<T> row(static_cast<std::size_t>(width));
      std::vector<double> cov(row.size());
      std::vector<std::uint8_t> mask(row.size());
      T value = 5;
      for (std::size_t x = 0; x < row.size(); ++x) {
        if (pick(rng) < 30) value = static_cast<T>(pick(rng) % 7);  // runs of a few equal values
        row[x] = value;
        if constexpr (!std::numeric_limits<T>::is_integer) {
          if (pick(rng) < 4) row[x] = std::numeric_limits<T>::quiet_NaN();
        }
        const int c = pick(rng);
        cov[x] = c < 10 ? 0.0 : c < 70 ? 1.0 : c / 100.0;
        mask[x] = pick(rng) < 8 ? 0 : 1;
      }
      const double nd = trial % 2 ? 3.0 : std::numeric_limits<double>::quiet_NaN();
      const auto* m = trial % 3 == 0 ? &mask : nullptr;
      const auto want = collect<T>(false, row, cov, m, nd);
      const auto got = collect<T>(true, row, cov, m, nd);
      ASSERT_EQ(got.size(), want.size()) << "width " << width << " trial " << trial;
      for (std::size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(got[i].key, want[i].key) << "width " << width << " trial " << trial << " pair " << i;
        EXPECT_EQ(got[i].w, want[i].w) << "width " << width << " trial " << trial << " pair " << i;
      }
    }
  }
}

TEST(RunsKernel, VectorMatchesScalarFloat) { random_rows_agree<float>(); }
TEST(RunsKernel, VectorMatchesScalarDouble) { random_rows_agree<double>(); }
TEST(RunsKernel, VectorMatchesScalarInt32) { random_rows_agree<std::int32_t>(); }
TEST(RunsKernel, VectorMatchesScalarUInt32) { random_rows_agree<std::uint32_t>(); }

}  // namespace
}  // namespace sco::zonal
