#include "run/ops/estimate.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace sco::run::ops {

namespace {
constexpr std::uint64_t kWindowSide = 512;  // COG blocks; strips of untiled inputs hold as many cells
}

StepEstimate pipeline_estimate(const core::Grid& grid, int threads_wanted, std::size_t inputs, std::size_t bytes_per_cell, bool output) {
  return pipeline_estimate_bytes(grid, threads_wanted, inputs, static_cast<std::uint64_t>(inputs) * bytes_per_cell, output);
}

StepEstimate pipeline_estimate_bytes(const core::Grid& grid, int threads_wanted, std::size_t inputs, std::uint64_t input_bytes, bool output) {
  const std::uint64_t cells = static_cast<std::uint64_t>(grid.width) * static_cast<std::uint64_t>(grid.height);
  const std::uint64_t window = std::min<std::uint64_t>(cells, kWindowSide * kWindowSide);
  const auto threads = static_cast<std::uint64_t>(std::max(1, threads_wanted));
  StepEstimate e;
  e.bytes_read = cells * input_bytes;
  e.bytes_written = cells * 4;
  // Per thread: one window of every input (read, then as doubles for evaluation), two output buffers.
  const std::uint64_t per_thread = window * (input_bytes + inputs * 8 + 2 * 4);
  // Writing a COG: the staged file's blocks pass through GDAL's cache, overviews are built from it.
  const std::uint64_t finish = output ? std::min<std::uint64_t>(cells * 4 + cells * 4 / 3, 64ull << 20) : 0;
  e.peak_bytes = threads * per_thread + finish;
  e.detail = fmt::format("{} input band{} x {} cells, {} thread{} x windows of {} cells", inputs, inputs == 1 ? "" : "s", cells, threads,
                         threads == 1 ? "" : "s", window);
  return e;
}

StepEstimate zonal_estimate(const core::Grid& grid, int threads_wanted, std::size_t zones, std::size_t bands, bool values_kept) {
  const std::uint64_t cells = static_cast<std::uint64_t>(grid.width) * static_cast<std::uint64_t>(grid.height);
  const auto threads = static_cast<std::uint64_t>(std::max(1, threads_wanted));
  StepEstimate e;
  e.bytes_read = cells * bands * 4;
  // Per thread, a slice of up to 2^20 cells: its values per band and its coverage fractions; for
  // medians and quantiles, the (value, area) pairs of the zones active in one band of block rows.
  const std::uint64_t strip = std::min<std::uint64_t>(cells, 1u << 20);
  const std::uint64_t band_cells = std::min<std::uint64_t>(cells, static_cast<std::uint64_t>(grid.width) * 512);
  e.peak_bytes = threads * strip * (bands + 1) * 8 + (values_kept ? band_cells * 16 : 0);
  e.detail = fmt::format("{} band{} x {} cells, {} zones", bands, bands == 1 ? "" : "s", cells, zones);
  return e;
}

}  // namespace sco::run::ops
