#pragma once
// Accumulates, for one zone and one band, everything the requested statistics need in one pass over
// the zone's cells: coverage-weighted moments, extremes, weights, area, and (only when asked) a
// histogram of value -> covered area. The histogram is a list of pairs compacted by sorting, which
// turns into a dense table for 8- and 16-bit rasters once a zone is large, so memory follows the
// number of distinct values, not of cells.
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/block.hpp"
#include "core/ranks.hpp"
#include "zonal/statistic.hpp"

namespace sco::zonal {

// One histogram entry: a raw value and the covered area that has it. Not zeroed on construction, so
// that the pair list can grow by a row before the row's valid cells are written into it.
struct HistEntry {
  double key;
  double w;
  HistEntry() {}  // NOLINT: deliberately uninitialised
  HistEntry(double k, double weight) : key(k), w(weight) {}
  bool operator<(const HistEntry& o) const { return key < o.key; }
};

// The histogram's pair list: entries [0, size()), and room past them that a row's collector writes
// into before the entries it wrote are counted. The room is grown by doubling and never written to
// on its own (a std::vector resized per row would write every entry of room once per row).
class PairList {
 public:
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  HistEntry* begin() { return store_.data(); }
  HistEntry* end() { return store_.data() + size_; }
  const HistEntry* begin() const { return store_.data(); }
  const HistEntry* end() const { return store_.data() + size_; }
  HistEntry* data() { return store_.data(); }
  HistEntry& operator[](std::size_t i) { return store_[i]; }
  void clear() { size_ = 0; }
  void truncate(std::size_t n) { size_ = n < size_ ? n : size_; }
  // Room for `extra` entries after the last one.
  HistEntry* room(std::size_t extra) {
    if (size_ + extra > store_.size()) store_.resize(std::max(store_.size() * 2, size_ + extra));
    return store_.data() + size_;
  }
  // Counts `n` entries written into room().
  void commit(std::size_t n) { size_ += n; }
  void emplace_back(double key, double w) {
    *room(1) = HistEntry(key, w);
    ++size_;
  }

 private:
  std::vector<HistEntry> store_;
  std::size_t size_ = 0;
};

// Sums of one window, produced by the vector kernels (moments_kernel.inc).
struct WindowMoments {
  double cov_all = 0, area = 0, touched = 0, cov = 0, d = 0, d2 = 0, lo = 0, hi = 0;
};

class Accumulator {
 public:
  Accumulator() = default;
  void reset(Needs needs, core::DataType type, double scale, double offset);

  // Adds a window of `values` (width x rows) with its coverage fractions (row-major, rows
  // `coverage_pitch` apart), optional weights (same window) and the area in m2 of one cell of each
  // row.
  void add(const core::BlockView& values, const double* coverage, std::ptrdiff_t coverage_pitch,
           const core::BlockView* weights, const double* row_cell_area);

  // The statistic's value; NaN where undefined (no valid cell, no weight).
  double value(const StatSpec& stat) const;
  // (value, share of valid covered area) for each distinct value, ascending (for frac).
  std::vector<std::pair<double, double>> fractions() const;

  double covered() const { return cov_; }

  // Adds another accumulator of the same zone and band (a slice computed by another thread).
  void merge(const Accumulator& other);

  // The whole state into a message and back (a slice computed by another rank); the histogram
  // travels as its distinct values and their areas.
  void save(core::ByteWriter& out) const;
  void load(core::ByteReader& in);

 private:
  template <typename T, bool kHist, bool kWeights>
  void add_typed(const core::BlockView& values, const double* coverage, std::ptrdiff_t coverage_pitch,
                 const core::BlockView* weights, const double* row_cell_area);
  template <typename T>
  void add_dispatch(const core::BlockView& values, const double* coverage, std::ptrdiff_t coverage_pitch,
                    const core::BlockView* weights, const double* row_cell_area);
  void hist_add(double key, double weight);
  void hist_grown();  // after entries were appended to pairs_: densify or compact when due
  void compact() const;                        // sort and merge the pair list
  const std::vector<std::pair<double, double>>& sorted_histogram() const;
  double quantile(double q) const;      // inverted CDF: the smallest value reaching q of the area
  double interpolated(double q) const;  // exactextract's interpolated quantile (weighted_quantile.hpp)

  Needs needs_;
  core::DataType type_ = core::DataType::kFloat32;
  double scale_ = 1.0, offset_ = 0.0;
  double cov_all_ = 0.0;  // coverage of all touched cells, nodata or not
  double cov_ = 0.0;      // coverage of valid cells
  double shift_ = 0.0;    // first valid value: moments about it keep the variance accurate
  bool shifted_ = false;
  double sum_d_ = 0.0, sum_d2_ = 0.0;  // sum of c (v - shift) and c (v - shift)^2
  double min_ = 0.0, max_ = 0.0;
  double w_sum_ = 0.0, wv_sum_ = 0.0;
  double area_ = 0.0;
  std::int64_t cells_ = 0;
  // Histogram of raw values (before scale/offset).
  mutable PairList pairs_;
  mutable std::size_t sorted_upto_ = 0;
  std::vector<double> dense_;  // index raw - dense_base_, for 8/16-bit types
  double dense_base_ = 0.0;
  bool dense_mode_ = false;
  mutable std::vector<std::pair<double, double>> merged_;
  mutable bool merged_valid_ = false;
};

}  // namespace sco::zonal
