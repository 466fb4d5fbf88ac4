#pragma once
// Running statistics of the valid pixels of blocks (count, min, max, mean, stddev), mergeable across
// threads. Used to summarise what a command wrote.
#include <cstdint>
#include <limits>

#include "core/block.hpp"

namespace sco::core {

struct RunningStats {
  std::int64_t count = 0;      // valid pixels
  std::int64_t total = 0;      // all pixels
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  double sum = 0.0;
  double sum_sq = 0.0;

  void add_block(const MutableBlockView& block);  // pixels equal to block.nodata or NaN are invalid
  void merge(const RunningStats& other);
  double mean() const;
  double stddev() const;  // population standard deviation
};

class RankLink;
// Every rank's statistics merged in rank order, the same on every rank (`ranks` null or alone: `mine`).
RunningStats merged_across_ranks(const RunningStats& mine, RankLink* ranks);

}  // namespace sco::core
