#include "cube/validity_mask.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <immintrin.h>

namespace sco::cube {

namespace {

bool quality_ok(const core::BlockView& q, int x, int y, const std::vector<double>& valid, std::uint32_t clear_bits) {
  const double v = q.value_at(x, y);
  if (v != v || (q.nodata && v == *q.nodata)) return false;
  if (clear_bits) {
    if (!(v >= 0.0 && v <= 4294967295.0) || v != std::floor(v)) return false;
    if (static_cast<std::uint32_t>(v) & clear_bits) return false;
    return valid.empty() || std::find(valid.begin(), valid.end(), v) != valid.end();
  }
  if (valid.empty()) return v != 0.0;
  return std::find(valid.begin(), valid.end(), v) != valid.end();
}

bool static_ok(const core::BlockView& m, int x, int y) {
  const double v = m.value_at(x, y);
  return v == v && v != 0.0 && !(m.nodata && v == *m.nodata) && !(m.mask && m.mask[static_cast<std::ptrdiff_t>(y) * m.mask_pitch + x] == 0);
}

// For a quality band of 8 or 16 bits: whether each possible value counts, once per call instead of a
// search per pixel.
bool quality_table(const core::BlockView& q, const std::vector<double>& valid, std::uint32_t clear_bits, std::vector<std::uint8_t>& table) {
  double lo = 0;
  std::size_t n = 0;
  switch (q.type) {
    case core::DataType::kByte: n = 256; break;
    case core::DataType::kUInt16: n = 65536; break;
    case core::DataType::kInt16: n = 65536; lo = -32768; break;
    default: return false;
  }
  table.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double v = lo + static_cast<double>(i);
    table[i] = !(q.nodata && v == *q.nodata) && (clear_bits ? (v >= 0 && !(static_cast<std::uint32_t>(v) & clear_bits) &&
                                                              (valid.empty() || std::find(valid.begin(), valid.end(), v) != valid.end()))
                                                           : valid.empty() ? v != 0.0 : std::find(valid.begin(), valid.end(), v) != valid.end());
  }
  return true;
}

// Row y of a Byte quality band through its table, 32 values at a time: value v = 16 h + l counts when
// bit h of the table's column l is set; the column's bits for h < 8 and h >= 8 are two 16-byte lookup
// tables indexed by l, and bit h & 7 a third.
__attribute__((target("avx2"))) void quality_row_bytes_avx2(const std::uint8_t* p, int w, const std::uint8_t* table, std::uint8_t* m) {
  alignas(32) std::uint8_t low[32] = {}, high[32] = {}, bit[32];
  for (int l = 0; l < 16; ++l) {
    for (int h = 0; h < 16; ++h) {
      if (!table[16 * h + l]) continue;
      if (h < 8) low[l] = static_cast<std::uint8_t>(low[l] | (1u << h));
      else high[l] = static_cast<std::uint8_t>(high[l] | (1u << (h - 8)));
    }
  }
  for (int i = 0; i < 32; ++i) bit[i] = static_cast<std::uint8_t>(1u << (i % 8));
  std::memcpy(low + 16, low, 16);
  std::memcpy(high + 16, high, 16);
  const __m256i vlow = _mm256_load_si256(reinterpret_cast<const __m256i*>(low));
  const __m256i vhigh = _mm256_load_si256(reinterpret_cast<const __m256i*>(high));
  const __m256i vbit = _mm256_load_si256(reinterpret_cast<const __m256i*>(bit));
  const __m256i nibble = _mm256_set1_epi8(0x0F), seven = _mm256_set1_epi8(7), one = _mm256_set1_epi8(1), zero = _mm256_setzero_si256();
  int x = 0;
  for (; x + 32 <= w; x += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + x));
    const __m256i l = _mm256_and_si256(v, nibble);
    const __m256i h = _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble);
    const __m256i column = _mm256_blendv_epi8(_mm256_shuffle_epi8(vlow, l), _mm256_shuffle_epi8(vhigh, l), _mm256_cmpgt_epi8(h, seven));
    const __m256i hit = _mm256_and_si256(column, _mm256_shuffle_epi8(vbit, _mm256_and_si256(h, seven)));
    const __m256i ok = _mm256_andnot_si256(_mm256_cmpeq_epi8(hit, zero), one);
    __m256i* dst = reinterpret_cast<__m256i*>(m + x);
    _mm256_storeu_si256(dst, _mm256_and_si256(_mm256_loadu_si256(dst), ok));
  }
  for (; x < w; ++x) m[x] &= table[p[x]];
}

// Row y of a quality band through its table.
void quality_row(const core::BlockView& q, int y, int w, const std::uint8_t* table, std::uint8_t* m) {
  const void* r = q.row(y);
  switch (q.type) {
    case core::DataType::kByte: {
      static const bool avx2 = __builtin_cpu_supports("avx2");
      const auto* p = static_cast<const std::uint8_t*>(r);
      if (avx2) {
        quality_row_bytes_avx2(p, w, table, m);
      } else {
        for (int x = 0; x < w; ++x) m[x] &= table[p[x]];
      }
      break;
    }
    case core::DataType::kUInt16: {
      const auto* p = static_cast<const core::Unaligned<std::uint16_t>*>(r);
      for (int x = 0; x < w; ++x) m[x] &= table[p[x]];
      break;
    }
    default: {
      const auto* p = static_cast<const core::Unaligned<std::int16_t>*>(r);
      for (int x = 0; x < w; ++x) m[x] &= table[static_cast<int>(p[x]) + 32768];
      break;
    }
  }
}

}  // namespace

namespace {
// shared_validity into n planes at `out`.
void fill_shared(std::span<const core::BlockView> quality, const core::BlockView* static_mask, std::size_t n,
                 const std::vector<double>& quality_valid, int w, int h, std::uint8_t* out, std::uint32_t clear_bits) {
  const std::size_t cells = static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
  std::vector<std::uint8_t> table;
  for (std::size_t k = 0; k < n; ++k) {
    std::uint8_t* m = out + k * cells;
    const core::BlockView* q = quality.empty() ? nullptr : &quality[k];
    const bool fast = q && !q->mask && quality_table(*q, quality_valid, clear_bits, table);
    for (int y = 0; y < h; ++y) {
      std::uint8_t* row = m + static_cast<std::ptrdiff_t>(y) * w;
      if (fast) {
        // The quality value's table entry, then the static mask.
        std::memset(row, 1, static_cast<std::size_t>(w));
        quality_row(*q, y, w, table.data(), row);
        if (static_mask) {
          for (int x = 0; x < w; ++x) row[x] = row[x] && static_ok(*static_mask, x, y);
        }
        continue;
      }
      for (int x = 0; x < w; ++x) {
        bool ok = !q || quality_ok(*q, x, y, quality_valid, clear_bits);
        if (static_mask) ok = ok && static_ok(*static_mask, x, y);
        row[x] = ok ? 1 : 0;
      }
    }
  }
}

std::size_t own_masks(const std::vector<core::BlockView>& steps) {
  std::size_t own = 0;
  for (const auto& b : steps) own += b.mask ? 1 : 0;
  return own;
}

// attach_validity with the combined masks written from `out` on.
void attach_into(std::vector<core::BlockView>& steps, const std::uint8_t* shared, int w, int h, std::uint8_t* out) {
  const std::size_t cells = static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
  for (std::size_t k = 0; k < steps.size(); ++k) {
    core::BlockView& b = steps[k];
    const std::uint8_t* s = shared + k * cells;
    if (!b.mask) {
      b.mask = s;
      b.mask_pitch = w;
      continue;
    }
    for (int y = 0; y < h; ++y) {
      const std::uint8_t* own_row = b.mask + static_cast<std::ptrdiff_t>(y) * b.mask_pitch;
      const std::uint8_t* shared_row = s + static_cast<std::ptrdiff_t>(y) * w;
      std::uint8_t* row = out + static_cast<std::ptrdiff_t>(y) * w;
      for (int x = 0; x < w; ++x) row[x] = static_cast<std::uint8_t>((own_row[x] != 0) & shared_row[x]);
    }
    b.mask = out;
    b.mask_pitch = w;
    out += cells;
  }
}
}  // namespace

void shared_validity(std::span<const core::BlockView> quality, const core::BlockView* static_mask, std::size_t n,
                     const std::vector<double>& quality_valid, int w, int h, std::vector<std::uint8_t>& storage, std::uint32_t clear_bits) {
  storage.resize(n * static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
  fill_shared(quality, static_mask, n, quality_valid, w, h, storage.data(), clear_bits);
}

void attach_validity(std::vector<core::BlockView>& steps, const std::uint8_t* shared, int w, int h, std::vector<std::uint8_t>& storage) {
  storage.resize(own_masks(steps) * static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
  attach_into(steps, shared, w, h, storage.data());
}

void apply_validity(std::vector<core::BlockView>& steps, std::span<const core::BlockView> quality, const core::BlockView* static_mask,
                    const std::vector<double>& quality_valid, int w, int h, std::vector<std::uint8_t>& storage,
                    std::uint32_t clear_bits) {
  // One allocation: the shared planes, then the combined ones.
  const std::size_t cells = static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
  storage.resize((steps.size() + own_masks(steps)) * cells);
  fill_shared(quality, static_mask, steps.size(), quality_valid, w, h, storage.data(), clear_bits);
  attach_into(steps, storage.data(), w, h, storage.data() + steps.size() * cells);
}

}  // namespace sco::cube
