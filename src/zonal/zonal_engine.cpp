#include "zonal/zonal_engine.hpp"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <exception>
#include <map>
#include <mutex>
#include <numeric>
#include <thread>
#include <cstring>
#include <span>

#include "core/cancel.hpp"
#include "core/error.hpp"
#include "core/fault.hpp"
#include "zonal/accumulator.hpp"

namespace sco::zonal {

namespace {
// Asks for every cache line of a window (into the outer caches).
void prefetch(const core::BlockView& v) {
  const std::size_t bytes = static_cast<std::size_t>(v.width) * core::size_of(v.type);
  for (int y = 0; y < v.height; ++y) {
    const char* row = static_cast<const char*>(v.row(y));
    for (std::size_t off = 0; off < bytes + 63; off += 64) __builtin_prefetch(row + off, 0, 2);
  }
}
// Raster-sequential: the grid is walked in bands of block rows, and in each band every zone that
// reaches it processes its slice, left to right. Each file block is then read once, however many
// zones share it, and only the zones of the current band hold accumulators. A zone's slice of a band
// is one work item, or several when it is large (few big zones would otherwise leave threads idle);
// split slices accumulate per thread and merge.
struct Item {
  std::size_t zone;
  int y0, y1;
  bool split;
};

struct Schedule {
  int band_rows = 1, band_count = 1;
  std::vector<std::vector<Item>> band_items;
  // Work is handed out by column: the items of a band whose zones start in one column of
  // `locality_cols` cells (chunk k is items [chunks[k], chunks[k + 1])); a slice of a split zone is a
  // chunk of its own, so that a few large zones still keep every thread busy.
  std::vector<std::vector<std::size_t>> band_chunks;
  std::vector<int> first_band, last_band;  // per zone, -1 outside the grid
  std::vector<int> pending;    // per zone, the items of its last band
  // Split across ranks: a zone small beside a range is swept whole by the range it starts in, which
  // goes on past its last band for such zones; the others are cut at range boundaries.
  std::vector<char> whole;
};

Schedule make_schedule(const std::vector<ZoneEdges>& edges, const core::Grid& grid, const ZonalOptions& options) {
  Schedule p;
  const std::size_t n = edges.size();
  p.band_rows = std::max(1, options.locality_rows);
  p.band_count = std::max(1, (grid.height + p.band_rows - 1) / p.band_rows);
  p.band_items.resize(static_cast<std::size_t>(p.band_count));
  p.last_band.assign(n, -1);
  p.first_band.assign(n, -1);
  p.pending.assign(n, 0);
  for (std::size_t z = 0; z < n; ++z) {
    if (edges[z].empty()) continue;
    const core::Window w = edges[z].window();
    const int b0 = w.y / p.band_rows, b1 = (w.y + w.height - 1) / p.band_rows;
    const int strip_rows = static_cast<int>(std::clamp<std::int64_t>(options.strip_cells / std::max(1, w.width), 1, w.height));
    for (int b = b0; b <= b1; ++b) {
      const int y0 = std::max(w.y, b * p.band_rows);
      const int y1 = std::min(w.y + w.height, (b + 1) * p.band_rows);
      const bool split = y1 - y0 > strip_rows;
      for (int y = y0; y < y1; y += strip_rows) {
        p.band_items[static_cast<std::size_t>(b)].push_back({z, y, std::min(y1, y + strip_rows), split});
        if (b == b1) p.pending[z]++;
      }
    }
    p.first_band[z] = b0;
    p.last_band[z] = b1;
  }
  for (auto& items : p.band_items) {
    std::stable_sort(items.begin(), items.end(), [&](const Item& a, const Item& b) { return edges[a.zone].window().x < edges[b.zone].window().x; });
  }
  const int cols = std::max(1, options.locality_cols);
  p.band_chunks.resize(p.band_items.size());
  for (std::size_t b = 0; b < p.band_items.size(); ++b) {
    const auto& items = p.band_items[b];
    auto& chunks = p.band_chunks[b];
    for (std::size_t k = 0; k < items.size(); ++k) {
      if (k == 0 || items[k].split || items[k - 1].split || edges[items[k].zone].window().x / cols != edges[items[k - 1].zone].window().x / cols) {
        chunks.push_back(k);
      }
    }
    chunks.push_back(items.size());
  }
  return p;
}

// A zone's row: its statistics per band, or empty values (counts 0) when it never met the grid.
void finalize_zone(ZoneResult& out, std::vector<Accumulator>& acc, bool started, int bands, const std::vector<StatSpec>& stats, const Needs& needs) {
  out.bands.assign(static_cast<std::size_t>(bands), BandResult{});
  for (int b = 0; b < bands; ++b) {
    BandResult& br = out.bands[static_cast<std::size_t>(b)];
    if (!started) {
      br.values.assign(stats.size(), std::nan(""));
      for (std::size_t s = 0; s < stats.size(); ++s) {
        const StatKind kind = stats[s].kind;
        if (kind == StatKind::kCount || kind == StatKind::kCells || kind == StatKind::kArea || kind == StatKind::kVariety) br.values[s] = 0.0;
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
  std::vector<Accumulator>().swap(acc);  // free histograms as soon as a zone is done
}

// One slice of a zone: its coverage, then every band's values added, segment by segment of the
// file's block columns, into `target` (reset first when `fresh`).
void accumulate_slice(const ZoneEdges& ze, const Item& item, BandReader& reader, bool weights, std::vector<Accumulator>& target, bool fresh,
                      const std::vector<double>& row_area, const Needs& needs, std::vector<double>& coverage, ZoneEdges::Scratch& scratch) {
  const core::Window win = ze.window();
  const int bands = reader.band_count();
  const int rows = item.y1 - item.y0;
  ze.coverage(item.y0 - win.y, rows, coverage, scratch);
  const core::Window strip{win.x, item.y0, win.width, rows};
  const int seg = reader.segment_width();
  for (int sx = strip.x; sx < strip.x + strip.width;) {
    const int ex = seg > 0 ? std::min(strip.x + strip.width, (sx / seg + 1) * seg) : strip.x + strip.width;
    const core::Window part{sx, strip.y, ex - sx, strip.height};
    const double* cov = coverage.data() + (sx - strip.x);
    core::BlockView wv;
    if (weights) wv = reader.read_weights(part);
    core::BlockView next_view = reader.read(0, part);
    for (int b = 0; b < bands; ++b) {
      const core::BlockView v = next_view;
      if (b + 1 < bands) {
        // The next band's window is requested from memory while this one is summed: the rows of a
        // zone are a raster row apart, which the hardware prefetchers miss.
        next_view = reader.read(b + 1, part);
        prefetch(next_view);
      }
      Accumulator& a = target[static_cast<std::size_t>(b)];
      if (fresh) a.reset(needs, v.type, v.scale, v.offset);
      a.add(v, cov, strip.width, weights ? &wv : nullptr, row_area.data() + strip.y);
    }
    fresh = false;
    sx = ex;
  }
}

// The grid's row bands cut into `parts` contiguous ranges of about equal cost (the cells read across
// the grid's width, plus the cells of the zones' windows): range k is [bounds[k], bounds[k + 1]).
// Zones of at most a quarter of a range's cost are marked whole (`p.whole`) and count in the band they
// start in; a zone cut in two leaves its accumulators (histograms: a pair per cell of a float raster)
// to be sent to rank 0 and merged there after the sweep while the other ranks wait, so each cut is
// placed, within a third of a range's cost of its even place, where the fewest cells of cut zones span
// it.
std::vector<int> sweep_ranges(Schedule& p, const std::vector<ZoneEdges>& edges, const core::Grid& grid, int parts) {
  const auto cells = [&](std::size_t z) { return static_cast<double>(edges[z].window().width) * edges[z].window().height; };
  std::vector<double> cost(static_cast<std::size_t>(p.band_count), static_cast<double>(grid.width) * p.band_rows);
  double total = static_cast<double>(grid.width) * grid.height;
  for (std::size_t z = 0; z < edges.size(); ++z) total += p.first_band[z] >= 0 ? cells(z) : 0.0;
  const double share = total / parts, slack = share / 3;
  p.whole.assign(edges.size(), 0);
  std::vector<double> spanning(static_cast<std::size_t>(p.band_count) + 1, 0.0);  // at the top of band b
  for (std::size_t z = 0; z < edges.size(); ++z) {
    if (p.first_band[z] < 0) continue;
    p.whole[z] = cells(z) <= share / 4;
    if (p.whole[z]) {
      cost[static_cast<std::size_t>(p.first_band[z])] += cells(z);
      continue;
    }
    const core::Window w = edges[z].window();
    for (int b = p.first_band[z]; b <= p.last_band[z]; ++b) {
      const int rows = std::min(w.y + w.height, (b + 1) * p.band_rows) - std::max(w.y, b * p.band_rows);
      cost[static_cast<std::size_t>(b)] += static_cast<double>(w.width) * rows;
      if (b > p.first_band[z]) spanning[static_cast<std::size_t>(b)] += cells(z);
    }
  }
  std::vector<double> cum(static_cast<std::size_t>(p.band_count) + 1, 0.0);
  for (int b = 0; b < p.band_count; ++b) cum[static_cast<std::size_t>(b) + 1] = cum[static_cast<std::size_t>(b)] + cost[static_cast<std::size_t>(b)];
  auto near = [&](int b, double target) { return std::abs(cum[static_cast<std::size_t>(b)] - target) <= slack; };
  std::vector<int> bounds = {0};
  for (int k = 1; k < parts; ++k) {
    const double target = cum.back() / parts * k;
    int at = static_cast<int>(std::lower_bound(cum.begin(), cum.end(), target) - cum.begin());
    for (int b = bounds.back() + 1; b < p.band_count; ++b) {
      if (near(b, target) && (!near(at, target) || spanning[static_cast<std::size_t>(b)] < spanning[static_cast<std::size_t>(at)])) at = b;
    }
    if (at > bounds.back() && at < p.band_count) bounds.push_back(at);
  }
  bounds.push_back(p.band_count);
  return bounds;
}

void save_result(core::ByteWriter& out, const ZoneResult& r) {
  out.put<std::uint8_t>(r.overlaps ? 1 : 0);
  out.put<std::uint32_t>(static_cast<std::uint32_t>(r.bands.size()));
  for (const auto& b : r.bands) {
    out.put_bytes(std::as_bytes(std::span(b.values)));
    out.put_bytes(std::as_bytes(std::span(b.fractions)));
  }
}

ZoneResult load_result(core::ByteReader& in) {
  ZoneResult r;
  r.overlaps = in.get<std::uint8_t>() != 0;
  r.bands.resize(in.get<std::uint32_t>());
  for (auto& b : r.bands) {
    const auto v = in.get_bytes();
    b.values.resize(v.size() / sizeof(double));
    if (!b.values.empty()) std::memcpy(b.values.data(), v.data(), b.values.size() * sizeof(double));
    const auto f = in.get_bytes();
    b.fractions.resize(f.size() / sizeof(std::pair<double, double>));
    if (!b.fractions.empty()) std::memcpy(static_cast<void*>(b.fractions.data()), f.data(), b.fractions.size() * sizeof(std::pair<double, double>));
  }
  return r;
}

// A sweep split across ranks (sco under mpirun): the row bands in ranges handed out by rank 0 one at a
// time, when a rank asks for one (about eight per rank, so that a faster rank takes more and the last
// ones end together). A range sweeps its whole zones to their end, past its last band, so that each of
// them is finished, with its statistics, by one rank, in the order one process adds its rows. At the
// end of each range, the zones it cut (those too large to go whole) leave their accumulators, tagged
// with the range, in this rank's part; rank 0 merges every part's accumulators in range order and
// finishes those zones. Alone, one range.
class RankSweep {
 public:
  RankSweep(core::RankLink* ranks, std::vector<int> bounds) : ranks_(ranks), bounds_(std::move(bounds)) {
    if (!ranks_) return;
    if (ranks_->rank() == 0) {
      dispatcher_ = std::thread([this] { dispatch(); });
    } else {
      fetcher_ = std::make_unique<core::IndexFetcher>(*ranks_, 1, false);
    }
  }
  ~RankSweep() {
    stopping_ = true;  // an error ended the sweep early
    if (dispatcher_.joinable()) dispatcher_.join();
  }
  RankSweep(const RankSweep&) = delete;
  RankSweep& operator=(const RankSweep&) = delete;

  int ranges() const { return static_cast<int>(bounds_.size()) - 1; }
  int first_band(int range) const { return bounds_[static_cast<std::size_t>(range)]; }
  int range_of(int band) const { return static_cast<int>(std::upper_bound(bounds_.begin(), bounds_.end(), band) - bounds_.begin()) - 1; }
  int end_band(int range) const { return bounds_[static_cast<std::size_t>(range) + 1]; }
  // The next range for this rank, or -1.
  int take() {
    if (fetcher_) {
      const auto k = fetcher_->next();
      return k ? static_cast<int>(*k) : -1;
    }
    const int k = next_.fetch_add(1);
    return k < ranges() ? k : -1;
  }
  // After range `k`: the unfinished zones it met leave their accumulators in this rank's part.
  void leave_partials(int k, const Schedule& p, std::vector<std::vector<Accumulator>>& acc, std::vector<char>& started, const std::vector<char>& finished) {
    if (!ranks_) return;
    for (int b = first_band(k); b < end_band(k); ++b) {
      for (const Item& it : p.band_items[static_cast<std::size_t>(b)]) {
        const std::size_t z = it.zone;
        if (!started[z] || finished[z]) continue;
        partials_.put<std::int32_t>(k);
        partials_.put<std::uint64_t>(z);
        partials_.put<std::uint32_t>(static_cast<std::uint32_t>(acc[z].size()));
        for (const auto& a : acc[z]) a.save(partials_);
        std::vector<Accumulator>().swap(acc[z]);
        started[z] = 0;
      }
    }
  }
  // Every rank's finished rows and partial accumulators to rank 0, which merges them (ranges in order)
  // and returns true; the other ranks return false.
  bool gather(std::vector<ZoneResult>& results, std::vector<std::vector<Accumulator>>& acc, std::vector<char>& started, std::vector<char>& finished);

  // Rank 0: once every rank has been told that no range is left.
  void finish() {
    if (dispatcher_.joinable()) dispatcher_.join();
    if (dispatch_error_) std::rethrow_exception(std::exchange(dispatch_error_, nullptr));
  }

 private:
  // Rank 0: each request answered with the next range, or -1 (as many times as the requester's depth).
  void dispatch() {
    try {
      int done = 0;
      std::map<int, int> told;
      core::PollBackoff backoff(2000);  // a range takes far longer than the 2 ms a request may wait
      while (done < ranks_->size() - 1 && !stopping_) {
        if (auto req = core::try_take_request(*ranks_)) {
          const int k = take();
          core::answer_request(*ranks_, req->source, k);
          if (k < 0 && ++told[req->source] == req->depth) ++done;
          backoff.reset();
        } else {
          backoff.pause();
        }
      }
    } catch (...) {
      dispatch_error_ = std::current_exception();
    }
  }

  core::RankLink* ranks_;
  std::vector<int> bounds_;
  std::atomic<int> next_{0};
  std::thread dispatcher_;
  std::atomic<bool> stopping_{false};
  std::exception_ptr dispatch_error_;
  std::unique_ptr<core::IndexFetcher> fetcher_;
  core::ByteWriter partials_;
};

bool RankSweep::gather(std::vector<ZoneResult>& results, std::vector<std::vector<Accumulator>>& acc, std::vector<char>& started,
                       std::vector<char>& finished) {
  core::ByteWriter mine;
  std::uint64_t count = 0;
  for (char f : finished) count += f ? 1 : 0;
  mine.put(count);
  for (std::size_t z = 0; z < results.size(); ++z) {
    if (!finished[z]) continue;
    mine.put<std::uint64_t>(z);
    save_result(mine, results[z]);
  }
  mine.put_bytes(partials_.bytes());
  const auto parts = ranks_->gather(mine.bytes());
  if (ranks_->rank() != 0) return false;
  struct Partial {
    int range;
    std::size_t zone;
    std::vector<Accumulator> accs;
  };
  std::vector<Partial> partials;
  for (std::size_t r = 0; r < parts.size(); ++r) {
    core::ByteReader in(parts[r]);
    auto check_zone = [&](std::size_t z) {
      if (z >= results.size()) core::fail(core::ErrorCode::kInternal, "rank {} sent zone {} of {}", r, z, results.size());
      return z;
    };
    for (auto k = in.get<std::uint64_t>(); k > 0; --k) {
      const std::size_t z = check_zone(static_cast<std::size_t>(in.get<std::uint64_t>()));
      results[z] = load_result(in);
      finished[z] = 1;
    }
    core::ByteReader p(in.get_bytes());
    while (!p.done()) {
      Partial part;
      part.range = p.get<std::int32_t>();
      part.zone = check_zone(static_cast<std::size_t>(p.get<std::uint64_t>()));
      part.accs.resize(p.get<std::uint32_t>());
      for (auto& a : part.accs) a.load(p);
      partials.push_back(std::move(part));
    }
  }
  // In range order, as one process would have met them.
  std::stable_sort(partials.begin(), partials.end(), [](const Partial& a, const Partial& b) { return a.range < b.range; });
  for (auto& part : partials) {
    auto& mine_acc = acc[part.zone];
    if (!started[part.zone]) {
      mine_acc = std::move(part.accs);
      started[part.zone] = 1;
      continue;
    }
    for (std::size_t b = 0; b < part.accs.size() && b < mine_acc.size(); ++b) mine_acc[b].merge(part.accs[b]);
  }
  return true;
}

std::vector<std::byte> pack_results(const std::vector<ZoneResult>& results) {
  core::ByteWriter out;
  for (const auto& r : results) save_result(out, r);
  return std::move(out.bytes());
}

}  // namespace

std::vector<ZoneResult> compute_zonal(const std::vector<Zone>& zones, const core::Grid& grid,
                                      const CellAreaModel& area_model, const std::vector<StatSpec>& stats,
                                      const BandReaderFactory& make_reader, const ZonalOptions& options) {
  const Needs needs = needs_of(stats);
  const std::size_t n = zones.size();
  std::vector<ZoneResult> results(n);
  std::vector<ZoneEdges> edges;
  edges.reserve(n);
  for (const auto& z : zones) edges.emplace_back(z, grid);
  std::vector<double> row_area(static_cast<std::size_t>(grid.height));
  for (int r = 0; r < grid.height; ++r) row_area[static_cast<std::size_t>(r)] = cell_area(grid, area_model, r);

  Schedule plan = make_schedule(edges, grid, options);
  const int band_rows = plan.band_rows;
  core::RankLink* const ranks = options.ranks && options.ranks->size() > 1 ? options.ranks : nullptr;
  RankSweep sweep(ranks, ranks ? sweep_ranges(plan, edges, grid, 8 * ranks->size()) : std::vector<int>{0, plan.band_count});
  // Where each range's sweep ends: past its last band for the whole zones that start in it.
  std::vector<int> reach(static_cast<std::size_t>(sweep.ranges()));
  for (int k = 0; k < sweep.ranges(); ++k) reach[static_cast<std::size_t>(k)] = sweep.end_band(k);
  for (std::size_t z = 0; z < n && ranks; ++z) {
    if (!plan.whole[z]) continue;
    const int k = sweep.range_of(plan.first_band[z]);
    reach[static_cast<std::size_t>(k)] = std::max(reach[static_cast<std::size_t>(k)], plan.last_band[z] + 1);
  }
  // Whether this rank's current range [first, end) sweeps zone z: a whole zone when it starts in the
  // range (past its end too), a cut zone in the range's bands. Alone, every zone.
  const auto sweeps = [&](std::size_t z, int band, int first, int end) {
    return plan.whole.empty() || !plan.whole[z] ? band < end : plan.first_band[z] >= first && plan.first_band[z] < end;
  };
  int range = -1, range_first = 0;  // this rank's current range of bands, set by thread 0
  const auto& band_items = plan.band_items;
  const auto& band_chunks = plan.band_chunks;
  const auto& last_band = plan.last_band;
  std::vector<int> pending = plan.pending;  // items left in the zone's last band

  core::Progress progress("zonal", static_cast<std::int64_t>(n), options.progress);
  if (options.on_progress) progress.set_listener(options.on_progress);
  std::vector<std::vector<Accumulator>> acc(n);  // per zone and band of the raster, while active
  std::vector<char> started(n, 0), finished(n, 0);
  std::mutex merge_mutex;  // guards accumulators of split slices, `started` and `pending`
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto record = [&](std::exception_ptr e) {
    std::lock_guard lock(error_mutex);
    if (!error) error = e;
    stop = true;
  };

  auto finalize = [&](std::size_t zi, int bands) {
    finalize_zone(results[zi], acc[zi], started[zi] != 0, bands, stats, needs);
    finished[zi] = 1;
    progress.advance();
  };

  const int threads = std::max(1, options.threads);
  std::barrier sync(threads);
  // The sweep's trailing edge in the current band: chunks finished (by any thread), the lowest
  // chunk not yet finished, and the column left of which nothing is needed any more.
  std::vector<char> chunk_done;
  std::size_t low_chunk = 0;
  std::mutex sweep_mutex;
  int reader_bands = 0;
  std::mutex bands_mutex;

  // Marks chunk `c` of `band` finished and tells the reader when the trailing edge moves on.
  auto finish_chunk = [&](std::size_t c, int band, BandReader& reader) {
    const auto& items = band_items[static_cast<std::size_t>(band)];
    const auto& chunks = band_chunks[static_cast<std::size_t>(band)];
    std::lock_guard lock(sweep_mutex);
    chunk_done[c] = 1;
    const std::size_t before = low_chunk;
    while (low_chunk + 1 < chunks.size() && chunk_done[low_chunk]) ++low_chunk;
    if (low_chunk == before) return;
    const int x = low_chunk + 1 < chunks.size() ? edges[items[chunks[low_chunk]].zone].window().x : grid.width;
    reader.done_left_of(x, band * band_rows, std::min(grid.height, (band + 1) * band_rows));
  };

  // One range of bands, by every thread of this rank.
  auto sweep_range = [&](int tid, BandReader* reader, std::vector<double>& coverage, ZoneEdges::Scratch& scratch, std::vector<Accumulator>& local) {
    const int first = range_first, end = sweep.end_band(range), last = reach[static_cast<std::size_t>(range)];  // before thread 0 moves on
    for (int band = first; band < last; ++band) {
      if (tid == 0) {
        try {
          core::crash_point("zonal.band");
        } catch (...) {
          record(std::current_exception());
        }
        next = 0;
        if (band > 0 && reader) reader->done_above(band * band_rows);
        chunk_done.assign(band_chunks[static_cast<std::size_t>(band)].size(), 0);
        low_chunk = 0;
      }
      sync.arrive_and_wait();  // every thread sees next == 0 and the previous band finished
      const auto& items = band_items[static_cast<std::size_t>(band)];
      const auto& chunks = band_chunks[static_cast<std::size_t>(band)];
      std::size_t k = 0, chunk_end = 0, chunk = 0;
      for (;;) {
        if (stop.load() || core::cancelled(options.cancel) || !reader) break;
        if (k == chunk_end) {
          if (chunk_end > 0) finish_chunk(chunk, band, *reader);
          chunk = next.fetch_add(1);
          if (chunk + 1 >= chunks.size()) break;
          k = chunks[chunk];
          chunk_end = chunks[chunk + 1];
        }
        const Item& item = items[k++];
        const std::size_t zi = item.zone;
        if (!sweeps(zi, band, first, end)) continue;
        try {
          const int bands = reader->band_count();
          // Unsplit slices own their zone's accumulators for this band; split ones build a local
          // accumulator and merge it.
          std::vector<Accumulator>* target = &local;
          bool fresh = true;
          if (!item.split) {
            target = &acc[zi];
            fresh = !started[zi];
            if (fresh) target->resize(static_cast<std::size_t>(bands));
          } else {
            local.resize(static_cast<std::size_t>(bands));
          }
          accumulate_slice(edges[zi], item, *reader, needs.weights && reader->has_weights(), *target, fresh, row_area, needs, coverage, scratch);
          bool done = false;
          {
            std::lock_guard lock(merge_mutex);
            if (item.split) {
              if (!started[zi]) {
                acc[zi] = local;
              } else {
                for (int b = 0; b < bands; ++b) acc[zi][static_cast<std::size_t>(b)].merge(local[static_cast<std::size_t>(b)]);
              }
            }
            started[zi] = 1;
            // A zone that began in an earlier range is finished once every range is merged.
            if (last_band[zi] == band) done = --pending[zi] == 0 && plan.first_band[zi] >= first;
          }
          if (done) finalize(zi, bands);
        } catch (...) {
          record(std::current_exception());
        }
      }
      sync.arrive_and_wait();  // the band is finished before `next` is reset
    }
  };
  auto work = [&](int tid) {
    std::unique_ptr<BandReader> reader;
    try {
      reader = make_reader();
      std::lock_guard lock(bands_mutex);
      reader_bands = reader->band_count();
    } catch (...) {
      record(std::current_exception());
    }
    std::vector<double> coverage;
    ZoneEdges::Scratch scratch;
    std::vector<Accumulator> local;  // for split slices
    for (;;) {
      if (tid == 0) {
        try {
          range = stop.load() ? -1 : sweep.take();
        } catch (...) {
          record(std::current_exception());
          range = -1;
        }
        if (range >= 0) range_first = sweep.first_band(range);
      }
      sync.arrive_and_wait();  // every thread sees this rank's next range
      if (range < 0) break;
      sweep_range(tid, reader.get(), coverage, scratch, local);
      if (tid == 0) sweep.leave_partials(range, plan, acc, started, finished);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  core::throw_if_cancelled(options.cancel);
  sweep.finish();
  if (ranks && sweep.gather(results, acc, started, finished)) {
    // Rank 0 finishes the zones that crossed ranges; then every rank gets the same results.
    for (std::size_t z = 0; z < n; ++z) {
      if (last_band[z] >= 0 && !finished[z]) finalize(z, reader_bands);
    }
  }
  // Zones outside the grid get empty rows.
  for (std::size_t z = 0; z < n; ++z) {
    if (last_band[z] < 0) finalize(z, reader_bands);
  }
  if (ranks) {
    const auto all = ranks->broadcast(ranks->rank() == 0 ? pack_results(results) : std::vector<std::byte>{});
    if (ranks->rank() != 0) {
      core::ByteReader in(all);
      for (auto& r : results) r = load_result(in);
    }
  }
  progress.finish();
  return results;
}

}  // namespace sco::zonal
