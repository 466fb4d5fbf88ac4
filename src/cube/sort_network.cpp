#include "cube/sort_network.hpp"

#include <algorithm>
#include <map>
#include <mutex>

#include "core/simd.hpp"

namespace sco::cube {

namespace {
std::vector<std::pair<int, int>> batcher(int n) {
  std::vector<std::pair<int, int>> net;
  int size = 1;
  while (size < n) size <<= 1;
  // The iterative odd-even merge sort (Batcher 1968; Knuth, TAOCP vol. 3, 5.3.4): merges of runs of
  // length p, comparing elements k apart inside each pair of runs.
  for (int p = 1; p < size; p <<= 1) {
    for (int k = p; k >= 1; k >>= 1) {
      for (int j = k % p; j + k < size; j += 2 * k) {
        for (int i = 0; i < std::min(k, size - j - k); ++i) {
          const int a = i + j, b = i + j + k;
          if (a / (2 * p) == b / (2 * p) && b < n) net.emplace_back(a, b);
        }
      }
    }
  }
  return net;
}

SCO_KERNEL_CLONES
void exchange(std::uint16_t* a, std::uint16_t* b, int width) {
  for (int x = 0; x < width; ++x) {
    const std::uint16_t lo = std::min(a[x], b[x]), hi = std::max(a[x], b[x]);
    a[x] = lo;
    b[x] = hi;
  }
}
}  // namespace

const std::vector<std::pair<int, int>>& sort_network(int n) {
  static std::mutex mutex;
  static std::map<int, std::vector<std::pair<int, int>>> cache;
  std::lock_guard lock(mutex);
  auto it = cache.find(n);
  if (it == cache.end()) it = cache.emplace(n, batcher(n)).first;
  return it->second;  // entries are never removed: the reference stays valid
}

void sort_columns(std::uint16_t* rows, int width, const std::vector<std::pair<int, int>>& network) {
  for (const auto& [i, j] : network) {
    exchange(rows + static_cast<std::ptrdiff_t>(i) * width, rows + static_cast<std::ptrdiff_t>(j) * width, width);
  }
}

}  // namespace sco::cube
