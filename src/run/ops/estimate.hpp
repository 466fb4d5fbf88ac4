#pragma once
// Shares of the plan that several ops have in common: a block pipeline over the working grid, a
// zonal pass. Sizes only: nothing here reads a pixel.
#include <cstdint>

#include "run/context.hpp"
#include "run/step_op.hpp"

namespace sco::run::ops {

// A block pipeline writing one float32 raster on the working grid from `inputs` bands of
// `bytes_per_cell` each: windows in flight per thread, the output's buffers, the COG's overviews.
StepEstimate pipeline_estimate(const core::Grid& grid, int threads, std::size_t inputs, std::size_t bytes_per_cell, bool output);
// The same for inputs of different sample sizes: `input_bytes` a cell over all of them.
StepEstimate pipeline_estimate_bytes(const core::Grid& grid, int threads, std::size_t inputs, std::uint64_t input_bytes, bool output);
inline StepEstimate pipeline_estimate(const RunContext& ctx, std::size_t inputs, std::size_t bytes_per_cell, bool output) {
  return pipeline_estimate(ctx.grid, ctx.exec.threads, inputs, bytes_per_cell, output);
}
// A zonal pass over `bands` float32 bands of the working grid: the row strips each thread reads, the
// zones' coverage, the values kept for medians and quantiles.
StepEstimate zonal_estimate(const core::Grid& grid, int threads, std::size_t zones, std::size_t bands, bool values_kept);
inline StepEstimate zonal_estimate(const RunContext& ctx, std::size_t bands, bool values_kept) {
  return zonal_estimate(ctx.grid, ctx.exec.threads, ctx.zones.size(), bands, values_kept);
}

}  // namespace sco::run::ops
