#pragma once
// Collection of a histogram row: the valid, covered cells of one row of a window, as (value,
// covered area) pairs with runs of equal neighbouring, wholly covered values merged into one pair.
// This is what a median or a quantile of a floating-point raster keeps per zone, and the most
// expensive part of asking for one: the scalar loop branches on every change of value, which a CPU
// cannot predict.
//
// Two implementations of one contract, chosen by the CPU at run time:
//   - `collect_runs_scalar`: the reference, any type and any CPU;
//   - `collect_runs_avx512`: sixteen cells a step (eight for double), without a data-dependent
//     branch, in two passes. The first marks events as lane masks (a valid cell that does not
//     continue its left neighbour's run, or the first invalid cell after a valid one) and writes
//     each event's value and column by compress; the second turns consecutive events into pairs,
//     the area of a run being its length times its first cell's coverage. For float, double, int32
//     and uint32 rasters (8- and 16-bit rasters turn dense early and keep the scalar path).
//
// Contract: cell x is valid when cov[x] > 0, its value is not NaN, not equal to `nd` (NaN when the
// band has no nodata), and mask[x] != 0 where there is a mask. A valid cell continues the run of its
// left neighbour when that neighbour is valid, holds the same value, and both cells are wholly
// covered (cov == 1); every other valid cell starts a pair. So a partly covered cell is a pair of
// its own, of area cov[x], and a run of n whole cells one pair of area n: both implementations
// compute that area as (length) x (coverage of the first cell), so they agree bit for bit. Pairs
// are written at `out`, which must have room for width + 8 entries; the number written is returned.
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "core/block.hpp"
#include "zonal/accumulator.hpp"

namespace sco::zonal {

template <typename T>
std::size_t collect_runs_scalar(const core::Unaligned<T>* row, const double* cov, const std::uint8_t* mask, int width, double nd, HistEntry* out) {
  std::size_t n = 0;
  double run_key = 0.0;
  int run_start = 0;
  bool run_open = false, run_whole = false;
  auto close = [&](int end) {
    if (run_open) out[n++] = HistEntry(run_key, static_cast<double>(end - run_start) * cov[run_start]);
  };
  for (int x = 0; x < width; ++x) {
    const double c = cov[x];
    const double key = static_cast<double>(static_cast<T>(row[x]));
    const bool ok = c > 0.0 && key == key && key != nd && (mask == nullptr || mask[x] != 0);
    if (!ok) {
      close(x);
      run_open = false;
      continue;
    }
    const bool whole = c == 1.0;
    if (run_open && run_whole && whole && key == run_key) continue;
    close(x);
    run_key = key;
    run_start = x;
    run_whole = whole;
    run_open = true;
  }
  close(width);
  return n;
}

// True when this CPU runs collect_runs_avx512 (AVX-512 F, DQ, VL and BW).
bool runs_avx512_available();

// The vector version for T in {float, double, int32_t, uint32_t}; only call when
// runs_avx512_available().
template <typename T>
std::size_t collect_runs_avx512(const core::Unaligned<T>* row, const double* cov, const std::uint8_t* mask, int width, double nd, HistEntry* out);

// The collector for this CPU and type: the vector one where it applies, else the scalar one.
template <typename T>
std::size_t collect_runs(const core::Unaligned<T>* row, const double* cov, const std::uint8_t* mask, int width, double nd, HistEntry* out) {
  constexpr bool vector_type =
      std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::uint32_t>;
  if constexpr (vector_type) {
    if (runs_avx512_available()) return collect_runs_avx512<T>(row, cov, mask, width, nd, out);
  }
  return collect_runs_scalar<T>(row, cov, mask, width, nd, out);
}

}  // namespace sco::zonal
