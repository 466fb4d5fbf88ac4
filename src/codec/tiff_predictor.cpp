#include "codec/tiff_predictor.hpp"

#include <immintrin.h>

#include <cstring>
#include <vector>

namespace sco::codec {

namespace {

template <typename T>
void difference_row(const T* src, T* dst, std::size_t n, int samples) {
  for (int s = 0; s < samples && static_cast<std::size_t>(s) < n; ++s) dst[s] = src[s];
  for (std::size_t i = samples; i < n; ++i) dst[i] = static_cast<T>(src[i] - src[i - samples]);
}

template <typename T>
void accumulate_row(T* data, std::size_t n, int samples) {
  for (std::size_t i = samples; i < n; ++i) data[i] = static_cast<T>(data[i] + data[i - samples]);
}

// One row's values as byte planes, most significant plane first (little-endian input).
template <int Bytes>
void split_planes(const std::uint8_t* src, std::uint8_t* dst, std::size_t values) {
  for (int b = 0; b < Bytes; ++b) {
    std::uint8_t* plane = dst + static_cast<std::size_t>(Bytes - 1 - b) * values;
    for (std::size_t i = 0; i < values; ++i) plane[i] = src[i * Bytes + b];
  }
}

}  // namespace

void horizontal_difference(const std::uint8_t* src, std::uint8_t* dst, const RowShape& shape) {
  const std::size_t n = static_cast<std::size_t>(shape.width) * shape.samples;
  const std::size_t rb = shape.row_bytes();
  for (int r = 0; r < shape.rows; ++r) {
    const std::uint8_t* s = src + r * rb;
    std::uint8_t* d = dst + r * rb;
    switch (shape.bytes) {
      case 1: difference_row(s, d, n, shape.samples); break;
      case 2: difference_row(reinterpret_cast<const std::uint16_t*>(s), reinterpret_cast<std::uint16_t*>(d), n, shape.samples); break;
      case 4: difference_row(reinterpret_cast<const std::uint32_t*>(s), reinterpret_cast<std::uint32_t*>(d), n, shape.samples); break;
      default: difference_row(reinterpret_cast<const std::uint64_t*>(s), reinterpret_cast<std::uint64_t*>(d), n, shape.samples); break;
    }
  }
}

void horizontal_accumulate(std::uint8_t* data, const RowShape& shape) {
  const std::size_t n = static_cast<std::size_t>(shape.width) * shape.samples;
  const std::size_t rb = shape.row_bytes();
  for (int r = 0; r < shape.rows; ++r) {
    std::uint8_t* d = data + r * rb;
    switch (shape.bytes) {
      case 1: accumulate_row(d, n, shape.samples); break;
      case 2: accumulate_row(reinterpret_cast<std::uint16_t*>(d), n, shape.samples); break;
      case 4: accumulate_row(reinterpret_cast<std::uint32_t*>(d), n, shape.samples); break;
      default: accumulate_row(reinterpret_cast<std::uint64_t*>(d), n, shape.samples); break;
    }
  }
}

namespace {

// Float32 rows with AVX2: eight values at a time, their bytes grouped by significance within each
// 128-bit lane (vpshufb), the lanes' groups brought together (vpermd), 8 bytes stored per plane;
// then each byte minus the one before it, 32 at a time.
__attribute__((target("avx2"))) void float32_rows_avx2(const std::uint8_t* src, std::uint8_t* dst, const RowShape& shape, std::uint8_t* planes) {
  const std::size_t values = static_cast<std::size_t>(shape.width) * shape.samples;
  const std::size_t rb = values * 4;
  const __m256i group = _mm256_setr_epi8(3, 7, 11, 15, 2, 6, 10, 14, 1, 5, 9, 13, 0, 4, 8, 12, 3, 7, 11, 15, 2, 6, 10, 14, 1, 5, 9, 13, 0, 4, 8, 12);
  const __m256i gather = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int r = 0; r < shape.rows; ++r) {
    const std::uint8_t* s = src + r * rb;
    std::uint8_t* d = dst + r * rb;
    std::size_t i = 0;
    for (; i + 8 <= values; i += 8) {
      __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + 4 * i));
      v = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, group), gather);
      const std::uint64_t p0 = static_cast<std::uint64_t>(_mm256_extract_epi64(v, 0)), p1 = static_cast<std::uint64_t>(_mm256_extract_epi64(v, 1)),
                          p2 = static_cast<std::uint64_t>(_mm256_extract_epi64(v, 2)), p3 = static_cast<std::uint64_t>(_mm256_extract_epi64(v, 3));
      std::memcpy(planes + i, &p0, 8);
      std::memcpy(planes + values + i, &p1, 8);
      std::memcpy(planes + 2 * values + i, &p2, 8);
      std::memcpy(planes + 3 * values + i, &p3, 8);
    }
    for (; i < values; ++i) {
      for (int b = 0; b < 4; ++b) planes[static_cast<std::size_t>(3 - b) * values + i] = s[4 * i + b];
    }
    const int k = shape.samples;
    for (int j = 0; j < k; ++j) d[j] = planes[j];
    std::size_t j = static_cast<std::size_t>(k);
    for (; j + 32 <= rb; j += 32) {
      const __m256i cur = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(planes + j));
      const __m256i prev = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(planes + j - k));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + j), _mm256_sub_epi8(cur, prev));
    }
    for (; j < rb; ++j) d[j] = static_cast<std::uint8_t>(planes[j] - planes[j - k]);
  }
}

}  // namespace

void floating_point_difference(const std::uint8_t* src, std::uint8_t* dst, const RowShape& shape) {
  const std::size_t values = static_cast<std::size_t>(shape.width) * shape.samples;
  const std::size_t rb = shape.row_bytes();
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2 && shape.bytes == 4) {
    thread_local std::vector<std::uint8_t> planes;
    planes.resize(rb);
    float32_rows_avx2(src, dst, shape, planes.data());
    return;
  }
  for (int r = 0; r < shape.rows; ++r) {
    std::uint8_t* d = dst + r * rb;
    if (shape.bytes == 4) {
      split_planes<4>(src + r * rb, d, values);
    } else {
      split_planes<8>(src + r * rb, d, values);
    }
    // Differences from the end backwards, in place: each byte minus the one `samples` before it.
    for (std::size_t i = rb - 1; i >= static_cast<std::size_t>(shape.samples); --i) d[i] = static_cast<std::uint8_t>(d[i] - d[i - shape.samples]);
  }
}

void floating_point_accumulate(std::uint8_t* data, const RowShape& shape, std::uint8_t* scratch_row) {
  const std::size_t values = static_cast<std::size_t>(shape.width) * shape.samples;
  const std::size_t rb = shape.row_bytes();
  for (int r = 0; r < shape.rows; ++r) {
    std::uint8_t* d = data + r * rb;
    accumulate_row(d, rb, shape.samples);
    std::memcpy(scratch_row, d, rb);
    for (int b = 0; b < shape.bytes; ++b) {
      const std::uint8_t* plane = scratch_row + static_cast<std::size_t>(shape.bytes - 1 - b) * values;
      for (std::size_t i = 0; i < values; ++i) d[i * shape.bytes + b] = plane[i];
    }
  }
}

}  // namespace sco::codec
