#pragma once
// Zonal statistics over one grid: for each zone, its coverage fractions are computed once per strip
// of rows and reused for every band (and date) read on that grid, so extra bands cost reads, not
// geometry. Memory is bounded: a zone is processed in strips of at most `strip_cells` cells, and
// statistics are finalised per zone. Work is spread over threads by zone, in raster order so that
// neighbouring zones share the file's cached blocks.
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "core/block.hpp"
#include "core/cancel.hpp"
#include "core/grid.hpp"
#include "core/progress.hpp"
#include "core/ranks.hpp"
#include "zonal/cell_area.hpp"
#include "zonal/coverage.hpp"
#include "zonal/statistic.hpp"

namespace sco::zonal {

// Per-thread access to the bands on one grid (implemented over GDAL in io/, in memory in tests).
class BandReader {
 public:
  virtual ~BandReader() = default;
  virtual int band_count() const = 0;
  // Values of `band` in window `w`; the view stays valid until the next read of that band.
  virtual core::BlockView read(int band, const core::Window& w) = 0;
  virtual bool has_weights() const = 0;
  virtual core::BlockView read_weights(const core::Window& w) = 0;
  // When positive, windows that stay inside one column of blocks this wide are the cheapest to read
  // (the reader can hand out the file's cached block without copying); the engine splits strips at
  // these columns.
  virtual int segment_width() const { return 0; }
  // The engine is done with every row above `y`, in every thread (called between row bands, while
  // the other threads wait): a reader may give back what it holds of those rows. A smaller `y` than
  // before starts a new pass over the rows below it (under mpirun, a rank that finished the whole
  // zones of one range past its end and then takes the next range sweeps those bands again).
  virtual void done_above(int /*y*/) {}
  // Within the row band [y0, y1), every thread is done with the columns left of `x` (zones extend
  // to the right of where they start, and the engine hands out the zones in order of their start):
  // a reader may give back what it holds there. Called by any one thread at a time, never again
  // with a smaller `x` for the same band within one pass.
  virtual void done_left_of(int /*x*/, int /*y0*/, int /*y1*/) {}
};
using BandReaderFactory = std::function<std::unique_ptr<BandReader>()>;

struct BandResult {
  std::vector<double> values;                          // one per requested statistic (NaN: undefined)
  std::vector<std::pair<double, double>> fractions;    // (value, share) when frac is asked
};

struct ZoneResult {
  bool overlaps = false;  // the zone covers part of at least one cell of the grid
  std::vector<BandResult> bands;
};

struct ZonalOptions {
  int threads = 1;
  std::int64_t strip_cells = 1 << 20;
  bool progress = false;
  // Zones are visited in bands of this many rows, left to right within a band, so that the file's
  // blocks are swept once (use the file's block height).
  int locality_rows = 256;
  // Within a band, threads take the zones of one column of this many cells at a time (use the file's
  // block width): each thread then reads its own columns' blocks, where zones handed out one by one
  // had every thread read nearly every block through its own file handle.
  int locality_cols = 256;
  std::function<void(double)> on_progress;  // the fraction of zones done, at most once per percent
  const core::CancelToken* cancel = nullptr;  // null: the process's Ctrl-C flag only
  // The processes the sweep is split across (sco under mpirun): the ranks take ranges of row bands,
  // balanced by cells; a zone small beside a range is swept whole by the range it starts in, larger
  // ones are cut and their accumulators merged on rank 0 in range order; every rank returns the same
  // results. Null: this process alone.
  core::RankLink* ranks = core::process_ranks();
};

std::vector<ZoneResult> compute_zonal(const std::vector<Zone>& zones, const core::Grid& grid,
                                      const CellAreaModel& area_model, const std::vector<StatSpec>& stats,
                                      const BandReaderFactory& make_reader, const ZonalOptions& options);

}  // namespace sco::zonal
