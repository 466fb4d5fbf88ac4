// The AVX-512 histogram-row collector (see runs_kernel.hpp for the contract). Compiled for
// AVX-512 F/DQ/VL/BW by function attributes, called only where the CPU has them.
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>

#include "zonal/runs_kernel.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SCO_HAVE_AVX512_RUNS 1
#endif

// The four instantiations, made where the definition is (GCC compiles a template for the target
// in force where it is instantiated).
#define SCO_INSTANTIATE_RUNS                                                                                                                      \
  template std::size_t collect_runs_avx512<float>(const core::Unaligned<float>*, const double*, const std::uint8_t*, int, double, HistEntry*);    \
  template std::size_t collect_runs_avx512<double>(const core::Unaligned<double>*, const double*, const std::uint8_t*, int, double, HistEntry*);  \
  template std::size_t collect_runs_avx512<std::int32_t>(const core::Unaligned<std::int32_t>*, const double*, const std::uint8_t*, int, double,   \
                                                         HistEntry*);                                                                             \
  template std::size_t collect_runs_avx512<std::uint32_t>(const core::Unaligned<std::uint32_t>*, const double*, const std::uint8_t*, int, double, \
                                                          HistEntry*);

namespace sco::zonal {

#ifdef SCO_HAVE_AVX512_RUNS

bool runs_avx512_available() {
  // SCO_SCALAR_RUNS=1 keeps the scalar collector (to compare the two on one machine).
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
                          __builtin_cpu_supports("avx512bw") && std::getenv("SCO_SCALAR_RUNS") == nullptr;
  return yes;
}

namespace {
// Per-thread scratch of the vector collector's first pass: event values (up to 8 bytes) and
// columns, with room for a full step past the last event (compressed vectors are stored whole).
// Plain malloc, defined before the AVX-512 region: nothing here may be compiled for AVX-512.
class EventScratch {
 public:
  EventScratch() = default;
  EventScratch(const EventScratch&) = delete;
  EventScratch& operator=(const EventScratch&) = delete;
  ~EventScratch() { std::free(data_); }
  // Values at the returned address, columns at `*cols`.
  void* get(int width, std::int32_t** cols) {
    const std::size_t n = static_cast<std::size_t>(width) + 17;
    if (n > capacity_) {
      std::free(data_);
      data_ = std::malloc(n * 12);
      if (data_ == nullptr) throw std::bad_alloc();
      capacity_ = n;
    }
    *cols = reinterpret_cast<std::int32_t*>(static_cast<char*>(data_) + capacity_ * 8);
    return data_;
  }

 private:
  void* data_ = nullptr;
  std::size_t capacity_ = 0;
};
thread_local EventScratch event_scratch;
}  // namespace

// Everything from here to the matching pop is compiled for AVX-512 (GCC and Clang spell it
// differently); it uses only intrinsics and builtins, so no inline function shared with other files
// is emitted for AVX-512 here.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma,popcnt"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma,popcnt")
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace {

// Bit 31 of an event's column: the event is the first invalid cell after a valid one (it ends the
// run before it and starts no pair).
constexpr std::uint32_t kEndOnly = 0x80000000u;

// The mask bytes of `lanes` cells as a lane mask of the non-zero ones.
inline __mmask16 mask16(const std::uint8_t* p, __mmask16 in) {
  const __m128i bytes = _mm_maskz_loadu_epi8(in, p);
  return _mm_test_epi8_mask(bytes, bytes);
}

// First pass for 32-bit types, 16 cells a step: writes the events' values and columns, returns
// their number. Full steps load without masks and keep lane masks in general registers (masked
// loads and mask-register traffic made the step a third slower); the last, partial step is masked.
template <typename T>
std::size_t events32(const core::Unaligned<T>* row, const double* cov, const std::uint8_t* mask, int width, double nd, T* keys, std::int32_t* cols) {
  const __m512i end_only = _mm512_set1_epi32(static_cast<int>(kEndOnly));
  const __m512i sixteen = _mm512_set1_epi32(16);
  const __m512d zero = _mm512_setzero_pd(), one = _mm512_set1_pd(1.0);
  const bool has_nd = nd == nd;
  __m512i xs = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);  // the step's columns
  __m512i last = _mm512_setzero_si512();
  std::uint32_t left_ok = 0, left_whole = 0;  // bit 0: the previous step's last cell
  std::size_t n = 0;
  auto step = [&](int x, std::uint32_t in, auto tail) {
    constexpr bool kTail = decltype(tail)::value;
    __m512d c0, c1;
    __m512i v;
    if constexpr (kTail) {
      c0 = _mm512_maskz_loadu_pd(static_cast<__mmask8>(in), cov + x);
      c1 = _mm512_maskz_loadu_pd(static_cast<__mmask8>(in >> 8), cov + x + 8);
      v = _mm512_maskz_loadu_epi32(static_cast<__mmask16>(in), row + x);
    } else {
      c0 = _mm512_loadu_pd(cov + x);
      c1 = _mm512_loadu_pd(cov + x + 8);
      v = _mm512_loadu_si512(row + x);
    }
    const std::uint32_t covered = static_cast<std::uint32_t>(_mm512_cmp_pd_mask(c0, zero, _CMP_GT_OQ)) |
                                  (static_cast<std::uint32_t>(_mm512_cmp_pd_mask(c1, zero, _CMP_GT_OQ)) << 8);
    const std::uint32_t whole = static_cast<std::uint32_t>(_mm512_cmp_pd_mask(c0, one, _CMP_EQ_OQ)) |
                                (static_cast<std::uint32_t>(_mm512_cmp_pd_mask(c1, one, _CMP_EQ_OQ)) << 8);
    std::uint32_t ok = covered & in;
    // The left neighbour of each lane, and whether it is the same value (floats compare as floats:
    // -0 equals 0, as in the scalar reference).
    const __m512i left = _mm512_alignr_epi32(v, last, 15);
    std::uint32_t same;
    if constexpr (std::is_same_v<T, float>) {
      const __m512 f = _mm512_castsi512_ps(v);
      ok &= _mm512_cmp_ps_mask(f, f, _CMP_ORD_Q);
      if (has_nd) ok &= _mm512_cmp_ps_mask(f, _mm512_set1_ps(static_cast<float>(nd)), _CMP_NEQ_UQ);
      same = _mm512_cmp_ps_mask(f, _mm512_castsi512_ps(left), _CMP_EQ_OQ);
    } else {
      if (has_nd) ok &= _mm512_cmpneq_epi32_mask(v, _mm512_set1_epi32(static_cast<int>(static_cast<T>(nd))));
      same = _mm512_cmpeq_epi32_mask(v, left);
    }
    if (mask) ok &= mask16(mask + x, static_cast<__mmask16>(in));
    const std::uint32_t okl = (ok << 1) | left_ok;
    const std::uint32_t wholel = (whole << 1) | left_whole;
    const std::uint32_t cont = ok & same & whole & okl & wholel;
    const auto events = static_cast<__mmask16>(((ok & ~cont) | (~ok & okl)) & in);
    const __m512i col = _mm512_mask_or_epi32(xs, static_cast<__mmask16>(~ok), xs, end_only);
    _mm512_storeu_si512(keys + n, _mm512_maskz_compress_epi32(events, v));
    _mm512_storeu_si512(cols + n, _mm512_maskz_compress_epi32(events, col));
    n += static_cast<std::size_t>(__builtin_popcount(events));
    left_ok = (ok >> 15) & 1u;
    left_whole = (whole >> 15) & 1u;
    last = v;
    xs = _mm512_add_epi32(xs, sixteen);
  };
  int x = 0;
  for (; x + 16 <= width; x += 16) step(x, 0xffffu, std::false_type{});
  if (x < width) step(x, (1u << (width - x)) - 1u, std::true_type{});
  return n;
}

// First pass for double, 8 cells a step.
std::size_t events64(const core::Unaligned<double>* row, const double* cov, const std::uint8_t* mask, int width, double nd, double* keys,
                     std::int32_t* cols) {
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i end_only = _mm256_set1_epi32(static_cast<int>(kEndOnly));
  const __m512d zero = _mm512_setzero_pd(), one = _mm512_set1_pd(1.0);
  const bool has_nd = nd == nd;
  __m512d last = zero;
  unsigned left_ok = 0, left_whole = 0;
  std::size_t n = 0;
  for (int x = 0; x < width; x += 8) {
    const int lanes = width - x < 8 ? width - x : 8;
    const auto in = static_cast<__mmask8>((1u << lanes) - 1u);
    const __m512d c = _mm512_maskz_loadu_pd(in, cov + x);
    const __m512d v = _mm512_maskz_loadu_pd(in, row + x);
    const __mmask8 whole = _mm512_cmp_pd_mask(c, one, _CMP_EQ_OQ);
    __mmask8 ok = _mm512_cmp_pd_mask(c, zero, _CMP_GT_OQ) & _mm512_cmp_pd_mask(v, v, _CMP_ORD_Q) & in;
    if (has_nd) ok &= _mm512_cmp_pd_mask(v, _mm512_set1_pd(nd), _CMP_NEQ_UQ);
    if (mask) ok &= static_cast<__mmask8>(mask16(mask + x, in));
    const __m512d left = _mm512_castsi512_pd(_mm512_alignr_epi64(_mm512_castpd_si512(v), _mm512_castpd_si512(last), 7));
    const __mmask8 same = _mm512_cmp_pd_mask(v, left, _CMP_EQ_OQ);
    const unsigned okl = ((static_cast<unsigned>(ok) << 1) | left_ok) & 0xffu;
    const unsigned wholel = ((static_cast<unsigned>(whole) << 1) | left_whole) & 0xffu;
    const unsigned cont = static_cast<unsigned>(ok & same & whole) & okl & wholel;
    const auto events = static_cast<__mmask8>(((ok & ~cont) | (~static_cast<unsigned>(ok) & okl)) & in);
    const __m256i at = _mm256_add_epi32(iota, _mm256_set1_epi32(x));
    const __m256i col = _mm256_mask_or_epi32(at, static_cast<__mmask8>(~ok), at, end_only);
    _mm512_storeu_pd(keys + n, _mm512_maskz_compress_pd(events, v));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(cols + n), _mm256_maskz_compress_epi32(events, col));
    n += static_cast<std::size_t>(__builtin_popcount(events));
    left_ok = (static_cast<unsigned>(ok) >> 7) & 1u;
    left_whole = (static_cast<unsigned>(whole) >> 7) & 1u;
    last = v;
  }
  return n;
}

}  // namespace

template <typename T>
std::size_t collect_runs_avx512(const core::Unaligned<T>* row, const double* cov, const std::uint8_t* mask, int width, double nd, HistEntry* out) {
  std::int32_t* cols = nullptr;
  T* const keys = static_cast<T*>(event_scratch.get(width, &cols));
  std::size_t events;
  if constexpr (std::is_same_v<T, double>) {
    events = events64(row, cov, mask, width, nd, keys, cols);
  } else {
    events = events32<T>(row, cov, mask, width, nd, keys, cols);
  }
  // Second pass: a pair per event that starts one; its run lasts to the next event (or the row's
  // end), and its area is that length times the coverage of its first cell (1 for a whole run, the
  // cell's own coverage for a partly covered cell, which is always a run of one).
  cols[events] = width;
  std::size_t n = 0;
  for (std::size_t i = 0; i < events; ++i) {
    const auto c = static_cast<std::uint32_t>(cols[i]);
    const auto x = static_cast<std::int32_t>(c & ~kEndOnly);
    const auto next = static_cast<std::int32_t>(static_cast<std::uint32_t>(cols[i + 1]) & ~kEndOnly);
    out[n] = HistEntry(static_cast<double>(keys[i]), static_cast<double>(next - x) * cov[x]);
    n += (c >> 31) ^ 1u;
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
std::size_t collect_runs_avx512(const core::Unaligned<T>* row, const double* cov, const std::uint8_t* mask, int width, double nd, HistEntry* out) {
  return collect_runs_scalar<T>(row, cov, mask, width, nd, out);
}

SCO_INSTANTIATE_RUNS

#endif

}  // namespace sco::zonal
