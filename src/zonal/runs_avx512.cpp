// The AVX-512 histogram-row collector (see runs_kernel.hpp for the contract). Compiled for
// AVX-512 F/DQ/VL by function attributes, called only where the CPU has them.
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "zonal/runs_kernel.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SCO_HAVE_AVX512_RUNS 1
#endif

// The four instantiations, made where the definition is (GCC compiles a template for the target
// in force where it is instantiated).
#define SCO_INSTANTIATE_RUNS                                                                                       \
  template std::size_t collect_runs_avx512<float>(const core::Unaligned<float>*, const double*, const std::uint8_t*, \
                                                  int, double, HistEntry*);                                        \
  template std::size_t collect_runs_avx512<double>(const core::Unaligned<double>*, const double*,                  \
                                                   const std::uint8_t*, int, double, HistEntry*);                  \
  template std::size_t collect_runs_avx512<std::int32_t>(const core::Unaligned<std::int32_t>*, const double*,      \
                                                         const std::uint8_t*, int, double, HistEntry*);            \
  template std::size_t collect_runs_avx512<std::uint32_t>(const core::Unaligned<std::uint32_t>*, const double*,    \
                                                          const std::uint8_t*, int, double, HistEntry*);

namespace sco::zonal {

#ifdef SCO_HAVE_AVX512_RUNS

bool runs_avx512_available() {
  // SCO_SCALAR_RUNS=1 keeps the scalar collector (to compare the two on one machine).
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                          __builtin_cpu_supports("avx512vl") && std::getenv("SCO_SCALAR_RUNS") == nullptr;
  return yes;
}

// Everything from here to the matching pop is compiled for AVX-512 (GCC and Clang spell it
// differently); it uses only intrinsics and builtins, so no inline function shared with other files
// is emitted for AVX-512 here.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma,popcnt"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx2,fma,popcnt")
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace {

// Eight cells (the first `m` of them) as doubles; lanes outside `m` are zero.
template <typename T>
inline __m512d load8(const core::Unaligned<T>* p, __mmask8 m) {
  if constexpr (std::is_same_v<T, float>) {
    return _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, p));
  } else if constexpr (std::is_same_v<T, double>) {
    return _mm512_maskz_loadu_pd(m, p);
  } else if constexpr (std::is_same_v<T, std::int32_t>) {
    return _mm512_cvtepi32_pd(_mm256_maskz_loadu_epi32(m, p));
  } else {
    static_assert(std::is_same_v<T, std::uint32_t>);
    return _mm512_cvtepu32_pd(_mm256_maskz_loadu_epi32(m, p));
  }
}

// The mask bytes of eight cells (the first `lanes`) as a lane mask of the non-zero ones.
inline __mmask8 mask8(const std::uint8_t* p, int lanes) {
  std::uint64_t bytes = 0;
  std::memcpy(&bytes, p, static_cast<std::size_t>(lanes));
  return _mm512_test_epi64_mask(_mm512_cvtepu8_epi64(_mm_cvtsi64_si128(static_cast<long long>(bytes))),
                                _mm512_set1_epi64(0xff));
}

}  // namespace

template <typename T>
std::size_t collect_runs_avx512(const core::Unaligned<T>* row, const double* cov, const std::uint8_t* mask,
                                           int width, double nd, HistEntry* out) {
  const __m512d zero = _mm512_setzero_pd();
  const __m512d vnd = _mm512_set1_pd(nd);
  // Interleave compressed keys k0..k7 and weights w0..w7 into (k0 w0 k1 w1 ...) pairs.
  const __m512i lo_idx = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0);
  const __m512i hi_idx = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);
  double* const base = reinterpret_cast<double*>(out);
  std::size_t n = 0;
  __m512d last = zero;          // the previous step's values (lane 7 is the left neighbour)
  __mmask8 carry_ok = 0;        // 1 when that neighbour was valid (and so ended the last pair)
  __m512d carry_w = zero;       // the weight of that pair, in every lane
  const __m512i wz = _mm512_setzero_si512();
  for (int x = 0; x < width; x += 8) {
    const int lanes = width - x < 8 ? width - x : 8;
    const auto in = static_cast<__mmask8>((1u << lanes) - 1u);
    const __m512d c = _mm512_maskz_loadu_pd(in, cov + x);
    const __m512d v = load8<T>(row + x, in);
    __mmask8 ok = _mm512_cmp_pd_mask(c, zero, _CMP_GT_OQ) & _mm512_cmp_pd_mask(v, v, _CMP_ORD_Q) &
                  _mm512_cmp_pd_mask(v, vnd, _CMP_NEQ_UQ) & in;
    if (mask) ok &= mask8(mask + x, lanes);
    // Lane i continues a run when lane i-1 (lane 7 of the last step for i = 0) is valid and equal.
    const __m512d prev = _mm512_castsi512_pd(_mm512_alignr_epi64(_mm512_castpd_si512(v), _mm512_castpd_si512(last), 7));
    const auto prev_ok = static_cast<__mmask8>(_kor_mask8(_kshiftli_mask8(ok, 1), carry_ok));
    const __mmask8 cont = _mm512_mask_cmp_pd_mask(_kand_mask8(ok, prev_ok), v, prev, _CMP_EQ_OQ);
    // Each valid stretch of this step begins at a start (lane 0 too when it goes on from the last
    // step) and ends at an end (lane 7 always ends one when valid: the next step rewrites that pair
    // if the run goes on). A stretch's covered area is the difference of two prefix sums.
    const __mmask8 begin = _kandn_mask8(cont, ok) | (ok & 1u);
    const __mmask8 end = _kandn_mask8(_kshiftri_mask8(cont, 1), ok);
    const __m512d w = _mm512_maskz_mov_pd(ok, c);
    __m512d p = _mm512_add_pd(w, _mm512_castsi512_pd(_mm512_alignr_epi64(_mm512_castpd_si512(w), wz, 7)));
    p = _mm512_add_pd(p, _mm512_castsi512_pd(_mm512_alignr_epi64(_mm512_castpd_si512(p), wz, 6)));
    p = _mm512_add_pd(p, _mm512_castsi512_pd(_mm512_alignr_epi64(_mm512_castpd_si512(p), wz, 4)));
    const __m512d keys = _mm512_maskz_compress_pd(end, v);
    __m512d sums = _mm512_sub_pd(_mm512_maskz_compress_pd(end, p), _mm512_maskz_compress_pd(begin, _mm512_sub_pd(p, w)));
    // A run that goes on from the last step adds the area it had (kept in a register) and its pair
    // is rewritten.
    const unsigned go_on = static_cast<unsigned>(cont) & 1u;
    sums = _mm512_mask_add_pd(sums, static_cast<__mmask8>(go_on), sums, carry_w);
    const std::size_t at = n - go_on;
    _mm512_storeu_pd(base + 2 * at, _mm512_permutex2var_pd(keys, lo_idx, sums));
    _mm512_storeu_pd(base + 2 * at + 8, _mm512_permutex2var_pd(keys, hi_idx, sums));
    const int k = __builtin_popcount(static_cast<unsigned>(end));
    n = at + static_cast<std::size_t>(k);
    carry_w = _mm512_permutexvar_pd(_mm512_set1_epi64(k - 1), sums);
    last = v;
    carry_ok = _kshiftri_mask8(ok, 7);
  }
  return n;
}

SCO_INSTANTIATE_RUNS

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif

#else

bool runs_avx512_available() { return false; }

template <typename T>
std::size_t collect_runs_avx512(const core::Unaligned<T>* row, const double* cov, const std::uint8_t* mask, int width,
                                double nd, HistEntry* out) {
  return collect_runs_scalar<T>(row, cov, mask, width, nd, out);
}

SCO_INSTANTIATE_RUNS

#endif

}  // namespace sco::zonal
