#pragma once
// Sorting many short series at once: Batcher's odd-even merge sort as a fixed network of
// compare-exchanges, applied to whole rows (column x of every row is one series), so that each
// compare-exchange is a min and a max over contiguous lanes: vectorised, branch-free, the same work
// for every pixel. Medians and percentiles of a cube's time steps go through it (cube/series_op).
#include <cstdint>
#include <utility>
#include <vector>

namespace sco::cube {

// The compare-exchanges (i, j), i < j, that sort n values ascending: Batcher's network for the next
// power of two, without those that touch an input >= n (such inputs would be +infinity: they never
// move). Cached per n.
const std::vector<std::pair<int, int>>& sort_network(int n);

// Sorts each column of `rows` (n rows of `width` values, row k at rows + k * width) ascending, with
// `network` = sort_network(n).
void sort_columns(std::uint16_t* rows, int width, const std::vector<std::pair<int, int>>& network);

}  // namespace sco::cube
