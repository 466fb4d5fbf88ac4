#pragma once
// Collection of a histogram row: the valid, covered cells of one row of a window, as (value,
// covered area) pairs with runs of equal neighbouring values merged into one pair. This is what a
// median or a quantile of a floating-point raster keeps per zone, and the most expensive part of
// asking for one: the scalar loop branches on every change of value, which a CPU cannot predict.
//
// Two implementations of one contract, chosen by the CPU at run time:
//   - `collect_runs_scalar`: the reference, any type and any CPU;
//   - `collect_runs_avx512`: eight cells a step, without a data-dependent branch: validity and
//     "same value as the previous valid neighbour" are lane masks, the covered areas of a run are
//     summed by a segmented prefix sum in registers, and the runs that end in the step are written
//     by compress-stores. For float, double, int32 and uint32 rasters (8- and 16-bit rasters turn
//     dense early and keep the scalar path).
//
// Contract: cell x is valid when cov[x] > 0, its value is not NaN, not equal to `nd` (NaN when the
// band has no nodata), and mask[x] != 0 where there is a mask. A pair starts at every valid cell
// whose left neighbour is not valid or holds another value. Pairs are written at `out`, which must
// have room for width + 8 entries; the number written is returned. The weights of a run are summed
// left to right by the scalar code and in a tree by the vector code: equal up to rounding.
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "core/block.hpp"
#include "zonal/accumulator.hpp"

namespace sco::zonal {

template <typename T>
std::size_t collect_runs_scalar(const core::Unaligned<T>* row, const double* cov, const std::uint8_t* mask, int width,
                                double nd, HistEntry* out) {
  std::size_t n = 0;
  double run_key = 0.0, run_w = 0.0;
  bool run_open = false;
  for (int x = 0; x < width; ++x) {
    const double c = cov[x];
    const double key = static_cast<double>(static_cast<T>(row[x]));
    const bool ok = c > 0.0 && key == key && key != nd && (mask == nullptr || mask[x] != 0);
    if (!ok) {
      if (run_open) out[n++] = HistEntry(run_key, run_w);
      run_open = false;
      continue;
    }
    if (run_open && key == run_key) {
      run_w += c;
    } else {
      if (run_open) out[n++] = HistEntry(run_key, run_w);
      run_key = key;
      run_w = c;
      run_open = true;
    }
  }
  if (run_open) out[n++] = HistEntry(run_key, run_w);
  return n;
}

// True when this CPU runs collect_runs_avx512 (AVX-512 F, DQ and VL).
bool runs_avx512_available();

// The vector version for T in {float, double, int32_t, uint32_t}; only call when
// runs_avx512_available().
template <typename T>
std::size_t collect_runs_avx512(const core::Unaligned<T>* row, const double* cov, const std::uint8_t* mask, int width,
                                double nd, HistEntry* out);

// The collector for this CPU and type: the vector one where it applies, else the scalar one.
template <typename T>
std::size_t collect_runs(const core::Unaligned<T>* row, const double* cov, const std::uint8_t* mask, int width, double nd,
                         HistEntry* out) {
  constexpr bool vector_type = std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, std::int32_t> ||
                               std::is_same_v<T, std::uint32_t>;
  if constexpr (vector_type) {
    if (runs_avx512_available()) return collect_runs_avx512<T>(row, cov, mask, width, nd, out);
  }
  return collect_runs_scalar<T>(row, cov, mask, width, nd, out);
}

}  // namespace sco::zonal
