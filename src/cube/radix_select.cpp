#include "cube/radix_select.hpp"

#include <cstring>

namespace sco::cube {

namespace {
// Order-preserving map: flip all bits of negatives, only the sign bit of positives.
inline std::uint32_t key_of(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
inline float float_of(std::uint32_t k) {
  const std::uint32_t u = (k & 0x80000000u) ? (k & 0x7fffffffu) : ~k;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
}  // namespace

float radix_select(const float* values, std::size_t n, std::size_t k, std::vector<std::uint32_t>& keys) {
  keys.resize(n);
  std::uint32_t lo = 0xffffffffu, hi = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t key = key_of(values[i]);
    keys[i] = key;
    lo = key < lo ? key : lo;
    hi = key > hi ? key : hi;
  }
  if (lo == hi) return float_of(lo);
  // Bits above the highest one where the smallest and largest keys differ are shared by all keys:
  // start the 8-bit digits there, so that every pass splits the candidates.
  int top = 31 - __builtin_clz(lo ^ hi);
  std::size_t count = n;
  std::uint32_t result = lo & ~((top >= 31) ? 0xffffffffu : ((2u << top) - 1u));
  while (top >= 0) {
    const int width = top >= 7 ? 8 : top + 1;
    const int shift = top - width + 1;
    const std::uint32_t mask = (1u << width) - 1u;
    std::uint32_t hist[256] = {};
    for (std::size_t i = 0; i < count; ++i) hist[(keys[i] >> shift) & mask]++;
    // The bucket holding the k-th key, and k's rank inside it.
    std::uint32_t bucket = 0;
    while (k >= hist[bucket]) {
      k -= hist[bucket];
      ++bucket;
    }
    result |= bucket << shift;
    top = shift - 1;
    if (top < 0) break;
    // Keep only the keys of that bucket (branch-free compaction).
    std::size_t m = 0;
    for (std::size_t i = 0; i < count; ++i) {
      keys[m] = keys[i];
      m += ((keys[i] >> shift) & mask) == bucket;
    }
    count = m;
    if (count == 1) return float_of(keys[0]);
  }
  return float_of(result);
}

std::pair<float, float> radix_select_pair(const float* values, std::size_t n, std::size_t k,
                                          std::vector<std::uint32_t>& keys) {
  const float a = radix_select(values, n, k, keys);
  std::size_t not_above = 0;
  float next = __builtin_inff();
  for (std::size_t i = 0; i < n; ++i) {
    const float v = values[i];
    not_above += v <= a;
    next = (v > a && v < next) ? v : next;
  }
  return {a, not_above > k + 1 ? a : next};
}

}  // namespace sco::cube
