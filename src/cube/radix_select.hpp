#pragma once
// Exact k-th smallest of an array of floats by radix selection: floats map to unsigned keys whose
// order is the floats' order, and four 8-bit histogram passes narrow the candidates down to the
// answer. No comparison-heavy partitioning, so no mispredicted branches: several times faster than
// std::nth_element on the few hundred values of a pixel's pairwise slopes. NaN must not be present.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace sco::cube {

// The k-th smallest value (0-based) of values[0..n). `keys` is scratch space reused between calls.
float radix_select(const float* values, std::size_t n, std::size_t k, std::vector<std::uint32_t>& keys);

// The k-th and (k+1)-th smallest values (k + 1 < n) with one selection: the next one is a tie of
// the k-th or the smallest value above it, found in one pass.
std::pair<float, float> radix_select_pair(const float* values, std::size_t n, std::size_t k,
                                          std::vector<std::uint32_t>& keys);

}  // namespace sco::cube
