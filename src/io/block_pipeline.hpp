#pragma once
// The read -> compute -> write pipeline. Windows follow the output's tiling (which follows the
// inputs' tiling when they are tiled); each worker thread has its own GDAL handles, reads its window
// of every input (whole blocks through ReadBlock when the window is one block), runs the compute
// kernel, and hands the result to an ordered writer. Memory is bounded by a fixed pool of output
// buffers (2 per thread) and GDAL's block cache, whatever the raster's size; the file's tile order
// is deterministic, so reruns are byte-identical.
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/block.hpp"
#include "core/cancel.hpp"
#include "core/grid.hpp"
#include "core/ranks.hpp"
#include "io/raster_dataset.hpp"
#include "io/raster_output.hpp"

namespace sco::io {

struct PipelineInput {
  std::string path;
  int band = 1;
  // Multiplied into the band's own scale/offset metadata: value * scale + offset.
  double scale = 1.0;
  double offset = 0.0;
  bool ignore_band_scaling = false;  // use raw values even when the band has scale/offset metadata
  // When set, pixels are read from this dataset (same band) at (x + source_x, y + source_y): `path` is
  // a window of it (a VRT), which serves the checks of grids and bands, and is not read.
  std::string source{};
  int source_x = 0, source_y = 0;
};

// The compute step, one instance per worker thread (it may keep per-thread scratch state).
class BlockWorker {
 public:
  virtual ~BlockWorker() = default;
  virtual void process(std::span<const core::BlockView> inputs, const core::MutableBlockView& out) = 0;
  // Workers that fold their inputs into the output one at a time, in order (a sum, an extreme, a
  // count): the pipeline then reads each input of a window into one buffer and hands it over at once,
  // while it is still in the cache, instead of reading every input first (a 36-date window is 36 MiB
  // of float32 tiles, past the cache: read back from memory). begin, fold each input, finish.
  virtual bool folds_inputs() const { return false; }
  virtual void begin(const core::MutableBlockView& /*out*/) {}
  virtual void fold(std::size_t /*k*/, const core::BlockView& /*input*/) {}
  virtual void finish(const core::MutableBlockView& /*out*/) {}
};
using WorkerFactory = std::function<std::unique_ptr<BlockWorker>()>;

struct PipelineOptions {
  int threads = 1;
  bool progress = false;
  std::string progress_label = "computing";
  std::function<void(double)> on_progress;  // the fraction of windows done, at most once per percent
  const core::CancelToken* cancel = nullptr;  // null: the process's Ctrl-C flag only
  // The processes the windows are split across (sco under mpirun): window i is computed and encoded
  // by rank i % size, and rank 0 writes them all in order. Null: this process alone.
  core::RankLink* ranks = core::process_ranks();
};

struct PipelineResult {
  core::Grid grid;
  std::int64_t windows = 0;
  double compute_seconds = 0.0;
  double finalize_seconds = 0.0;
};

// Opens and checks every input (bands exist, same grid and CRS) and returns the common grid; the
// message for mismatched grids names both files and both grids.
core::Grid check_inputs(const std::vector<PipelineInput>& inputs);

// The window (and staging tile) size for a pipeline reading `inputs` bands at once (a cube's steps):
// 0 (the default 512) while 512 x 512 windows of them stay within ~64 MiB of 4-byte values per thread,
// else the largest power of two from 256 down to 16 that does. Outputs written in smaller tiles go
// through GDAL, whose COG is tiled 512 again.
int series_tile(std::size_t inputs);
// The same counted at the inputs' own sample sizes (a UInt16 step is 2 bytes, a Byte quality band 1),
// plus `worker_bytes` a pixel for each input (what the worker keeps per input: masks, float copies).
// Windows of the inputs' own tile size (when they share one) may take twice the budget: reading tiles
// whole (not each through GDAL's cache for several windows) pays more than the memory saved.
struct SeriesFootprint {
  std::uint64_t bytes_per_pixel = 0;
  int block = 0;  // the inputs' common square tile size, 0 when they have none
  SeriesFootprint& operator+=(const SeriesFootprint& o);
};
SeriesFootprint series_footprint(const std::vector<PipelineInput>& inputs, std::size_t worker_bytes);
int series_tile(const SeriesFootprint& footprint);

PipelineResult run_block_pipeline(const std::vector<PipelineInput>& inputs, const OutputSpec& output,
                                  const WorkerFactory& make_worker, const PipelineOptions& options);
// One pass writing several one-band files (e.g. the medians of four bands sharing one cloud mask,
// read once): the worker's output window holds one plane per output, in order. The outputs share
// their type, nodata and tiling.
PipelineResult run_block_pipeline(const std::vector<PipelineInput>& inputs, const std::vector<OutputSpec>& outputs,
                                  const WorkerFactory& make_worker, const PipelineOptions& options);

}  // namespace sco::io
