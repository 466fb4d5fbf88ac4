#include "zonal/zonal_engine.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>
#include <numeric>
#include <thread>

#include "core/cancel.hpp"
#include "core/error.hpp"
#include "zonal/accumulator.hpp"

namespace sco::zonal {

std::vector<ZoneResult> compute_zonal(const std::vector<Zone>& zones, const core::Grid& grid,
                                      const CellAreaModel& area_model, const std::vector<StatSpec>& stats,
                                      const BandReaderFactory& make_reader, const ZonalOptions& options) {
  const Needs needs = needs_of(stats);
  std::vector<ZoneResult> results(zones.size());
  // Geometry first (cheap): windows give the processing order.
  std::vector<ZoneEdges> edges;
  edges.reserve(zones.size());
  for (const auto& z : zones) edges.emplace_back(z, grid);
  std::vector<std::size_t> order(zones.size());
  std::iota(order.begin(), order.end(), 0);
  const int band_rows = std::max(1, options.locality_rows);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const auto wa = edges[a].window(), wb = edges[b].window();
    const int ba = wa.y / band_rows, bb = wb.y / band_rows;
    return ba != bb ? ba < bb : wa.x < wb.x;
  });
  std::vector<double> row_area(static_cast<std::size_t>(grid.height));
  for (int r = 0; r < grid.height; ++r) row_area[static_cast<std::size_t>(r)] = cell_area(grid, area_model, r);

  core::Progress progress("zonal", static_cast<std::int64_t>(zones.size()), options.progress);
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::exception_ptr error;
  std::mutex error_mutex;

  auto work = [&]() {
    try {
      std::unique_ptr<BandReader> reader = make_reader();
      const int bands = reader->band_count();
      const bool weights = needs.weights && reader->has_weights();
      std::vector<Accumulator> acc(static_cast<std::size_t>(bands));
      std::vector<double> coverage;
      ZoneEdges::Scratch scratch;
      for (;;) {
        if (stop.load() || core::cancel_requested()) return;
        const std::size_t k = next.fetch_add(1);
        if (k >= order.size()) return;
        const std::size_t zi = order[k];
        const ZoneEdges& ze = edges[zi];
        ZoneResult& out = results[zi];
        out.bands.assign(static_cast<std::size_t>(bands), BandResult{});
        const core::Window win = ze.window();
        bool started = false;
        if (!ze.empty()) {
          const int strip_rows =
              static_cast<int>(std::clamp<std::int64_t>(options.strip_cells / std::max(1, win.width), 1, win.height));
          for (int r0 = 0; r0 < win.height; r0 += strip_rows) {
            const int rows = std::min(strip_rows, win.height - r0);
            ze.coverage(r0, rows, coverage, scratch);
            const core::Window strip{win.x, win.y + r0, win.width, rows};
            core::BlockView wv;
            if (weights) wv = reader->read_weights(strip);
            for (int b = 0; b < bands; ++b) {
              const core::BlockView v = reader->read(b, strip);
              if (!started) acc[static_cast<std::size_t>(b)].reset(needs, v.type, v.scale, v.offset);
              acc[static_cast<std::size_t>(b)].add(v, coverage.data(), weights ? &wv : nullptr,
                                                   row_area.data() + strip.y);
            }
            started = true;
          }
        }
        for (int b = 0; b < bands; ++b) {
          BandResult& br = out.bands[static_cast<std::size_t>(b)];
          if (!started) {
            br.values.assign(stats.size(), std::nan(""));
            for (std::size_t s = 0; s < stats.size(); ++s) {
              const StatKind kind = stats[s].kind;
              if (kind == StatKind::kCount || kind == StatKind::kCells || kind == StatKind::kArea ||
                  kind == StatKind::kVariety) {
                br.values[s] = 0.0;
              }
            }
            continue;
          }
          const Accumulator& a = acc[static_cast<std::size_t>(b)];
          out.overlaps = out.overlaps || a.value(StatSpec{StatKind::kCells, 0.5, ""}) > 0;
          for (const auto& s : stats) br.values.push_back(a.value(s));
          if (needs.histogram) {
            for (const auto& s : stats) {
              if (s.kind == StatKind::kFrac) br.fractions = a.fractions();
            }
          }
        }
        progress.advance();
      }
    } catch (...) {
      std::lock_guard lock(error_mutex);
      if (!error) error = std::current_exception();
      stop = true;
    }
  };
  const int threads = std::max(1, std::min<int>(options.threads, static_cast<int>(std::max<std::size_t>(zones.size(), 1))));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  core::throw_if_cancelled();
  progress.finish();
  return results;
}

}  // namespace sco::zonal
