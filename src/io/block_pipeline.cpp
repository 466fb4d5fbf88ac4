#include "io/block_pipeline.hpp"

#include <gdal_priv.h>

#include <atomic>
#include <cstring>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "core/cancel.hpp"
#include "core/error.hpp"
#include "core/fault.hpp"
#include "core/progress.hpp"
#include "io/gdal_session.hpp"
#include "io/window_sink.hpp"

namespace sco::io {

using core::ErrorCode;

namespace {

// Opens each distinct input file once, checks its band and that all share one grid; returns the
// grid and each input's band.
core::Grid inspect_inputs(const std::vector<PipelineInput>& inputs, std::vector<BandInfo>* bands) {
  if (inputs.empty()) core::fail(ErrorCode::kInvalidInput, "no input rasters");
  DatasetSet datasets;
  core::Grid first;
  std::vector<char> checked;  // per dataset: its grid compared (once, however many bands are read)
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::size_t k = datasets.open(inputs[i].path);
    const RasterDataset& ds = datasets[k];
    const BandInfo b = ds.band(inputs[i].band);  // throws naming the file and its band count
    if (bands) bands->push_back(b);
    if (k < checked.size() && checked[k]) continue;
    checked.resize(std::max(checked.size(), k + 1), 0);
    checked[k] = 1;
    core::Grid g = ds.grid();
    if (i == 0) {
      first = std::move(g);
      continue;
    }
    if (!first.same_geometry(g) || !same_crs(first.crs_wkt, g.crs_wkt)) {
      core::fail(ErrorCode::kInvalidInput, "inputs are on different grids: '{}' is {} in {}, '{}' is {} in {}",
                 inputs[0].path, first.describe(), crs_label(first.crs_wkt), inputs[i].path, g.describe(),
                 crs_label(g.crs_wkt));
    }
  }
  return first;
}

}  // namespace

core::Grid check_inputs(const std::vector<PipelineInput>& inputs) { return inspect_inputs(inputs, nullptr); }

namespace {

// Per-thread view of the inputs: its own dataset handles and read buffers.
struct InputReader {
  DatasetSet datasets;
  struct Slot {
    std::size_t dataset = 0;
    // Another band of this pixel-interleaved file is read first in each window: GDAL's read of that
    // band decodes the whole tile and leaves this band's block in its cache.
    bool from_shared_tile = false;
    GDALRasterBand* band = nullptr;
    GDALRasterBand* mask = nullptr;
    BandInfo info;
    double scale = 1.0, offset = 0.0;
    std::vector<std::byte> buffer;
    std::vector<std::uint8_t> mask_buffer;
  };
  std::vector<Slot> slots;

  explicit InputReader(const std::vector<PipelineInput>& inputs) {
    std::vector<int> pixel_interleaved;  // per dataset: -1 not seen yet, else 0 / 1
    for (const auto& in : inputs) {
      const std::size_t k = datasets.open(in.path);
      Slot s;
      s.dataset = k;
      if (k >= pixel_interleaved.size()) pixel_interleaved.resize(k + 1, -1);
      if (pixel_interleaved[k] < 0) {
        pixel_interleaved[k] = 0;
        if (datasets[k].band_count() > 1) {
          for (const auto& [key, value] : datasets[k].metadata("IMAGE_STRUCTURE")) {
            if (key == "INTERLEAVE" && value == "PIXEL") pixel_interleaved[k] = 1;
          }
        }
      } else {
        s.from_shared_tile = pixel_interleaved[k] == 1;  // an earlier slot reads this dataset first
      }
      s.band = datasets[k].band_handle(in.band);
      s.info = datasets[k].band(in.band);
      if (s.info.has_mask) s.mask = s.band->GetMaskBand();
      const double base_scale = in.ignore_band_scaling ? 1.0 : s.info.scale;
      const double base_offset = in.ignore_band_scaling ? 0.0 : s.info.offset;
      s.scale = base_scale * in.scale;
      s.offset = base_offset * in.scale + in.offset;
      slots.push_back(std::move(s));
    }
  }

  core::BlockView read(std::size_t i, const core::Window& w, const std::string& path) {
    Slot& s = slots[i];
    const std::size_t elem = core::size_of(s.info.type);
    core::BlockView v;
    v.type = s.info.type;
    v.width = w.width;
    v.height = w.height;
    v.nodata = s.info.nodata;
    v.scale = s.scale;
    v.offset = s.offset;
    const int bw = s.info.block_width, bh = s.info.block_height;
    const bool one_block = w.x % bw == 0 && w.y % bh == 0 && w.width == std::min(bw, s.band->GetXSize() - w.x) &&
                           w.height == std::min(bh, s.band->GetYSize() - w.y);
    clear_gdal_error();
    if (one_block) {
      // A whole block: ReadBlock decodes straight into our buffer, bypassing the block cache.
      s.buffer.resize(static_cast<std::size_t>(bw) * bh * elem);
      if (s.from_shared_tile) {
        if (GDALRasterBlock* cached = s.band->TryGetLockedBlockRef(w.x / bw, w.y / bh)) {
          std::memcpy(s.buffer.data(), cached->GetDataRef(), s.buffer.size());
          cached->DropLock();
          v.pitch = bw;
          v.data = s.buffer.data();
          return finish_mask(s, v, w, path);
        }
      }
      if (s.band->ReadBlock(w.x / bw, w.y / bh, s.buffer.data()) != CE_None) {
        core::fail(ErrorCode::kIo, "reading '{}' block at ({}, {}) failed: {}", path, w.x, w.y, take_gdal_error());
      }
      v.pitch = bw;
    } else {
      s.buffer.resize(static_cast<std::size_t>(w.pixels()) * elem);
      if (s.band->RasterIO(GF_Read, w.x, w.y, w.width, w.height, s.buffer.data(), w.width, w.height,
                           static_cast<GDALDataType>(to_gdal_type(s.info.type)), 0, 0, nullptr) != CE_None) {
        core::fail(ErrorCode::kIo, "reading '{}' window at ({}, {}) failed: {}", path, w.x, w.y, take_gdal_error());
      }
      v.pitch = w.width;
    }
    v.data = s.buffer.data();
    return finish_mask(s, v, w, path);
  }

  core::BlockView finish_mask(Slot& s, core::BlockView v, const core::Window& w, const std::string& path) {
    if (s.mask) {
      s.mask_buffer.resize(static_cast<std::size_t>(w.pixels()));
      if (s.mask->RasterIO(GF_Read, w.x, w.y, w.width, w.height, s.mask_buffer.data(), w.width, w.height, GDT_Byte,
                           0, 0, nullptr) != CE_None) {
        core::fail(ErrorCode::kIo, "reading the mask of '{}' failed: {}", path, take_gdal_error());
      }
      v.mask = s.mask_buffer.data();
      v.mask_pitch = w.width;
    }
    return v;
  }
};

}  // namespace

namespace {

// The windows of a pipeline split across ranks: rank 0 hands out window indices one at a time (its own
// workers take them from the same counter), so that every rank computes as many as its speed allows;
// the other ranks send each computed window (pixels and encoded tiles) back, and rank 0 writes every
// window in order. A window is handed to another rank only with a buffer set aside for it on rank 0,
// so the lowest unwritten window always has a place and memory stays bounded.
struct RankShare {
  core::RankLink* link = nullptr;
  int rank = 0, size = 1;
  explicit RankShare(core::RankLink* l) : link(l && l->size() > 1 ? l : nullptr) {
    if (link) {
      rank = link->rank();
      size = link->size();
    }
  }
  bool split() const { return link != nullptr; }
  bool writes() const { return rank == 0; }
};

std::vector<std::byte> pack_window(const FinishedWindow& w) {
  core::ByteWriter out;
  out.put(w.index);
  out.put(w.window);
  out.put_bytes(w.data);
  out.put<std::uint32_t>(static_cast<std::uint32_t>(w.encoded.size()));
  for (const auto& e : w.encoded) out.put_bytes(std::as_bytes(std::span(e)));
  out.put<std::uint32_t>(static_cast<std::uint32_t>(w.tiles.size()));
  for (const auto& t : w.tiles) out.put_bytes(t);
  return std::move(out.bytes());
}

void unpack_window(std::span<const std::byte> bytes, FinishedWindow& w) {
  core::ByteReader in(bytes);
  w.index = in.get<std::int64_t>();
  w.window = in.get<core::Window>();
  auto data = in.get_bytes();
  w.data.assign(data.begin(), data.end());
  w.encoded.resize(in.get<std::uint32_t>());
  for (auto& e : w.encoded) {
    auto b = in.get_bytes();
    e.assign(reinterpret_cast<const std::uint8_t*>(b.data()), reinterpret_cast<const std::uint8_t*>(b.data()) + b.size());
  }
  w.tiles.resize(in.get<std::uint32_t>());
  for (auto& t : w.tiles) {
    auto b = in.get_bytes();
    t.assign(b.begin(), b.end());
  }
}

// Rank 0 makes the file and tells the other ranks its tiling and encoding; they encode for it.
std::unique_ptr<WindowSink> open_sink(const RankShare& share, const OutputSpec& spec, const core::Grid& grid, int threads, int preferred) {
  if (!share.split()) return std::make_unique<WindowSink>(spec, grid, threads, preferred);
  if (share.writes()) {
    auto sink = std::make_unique<WindowSink>(spec, grid, threads, preferred);
    share.link->broadcast(sink->layout_message());
    return sink;
  }
  const auto layout = share.link->broadcast({});
  return WindowSink::remote(spec, grid, layout);
}

}  // namespace

int series_tile(std::size_t inputs) {
  constexpr std::uint64_t kBudget = 64ull << 20;
  int tile = 512;
  while (tile > 16 && static_cast<std::uint64_t>(tile) * static_cast<std::uint64_t>(tile) * inputs * 4 > kBudget) tile /= 2;
  return tile == 512 ? 0 : tile;
}

PipelineResult run_block_pipeline(const std::vector<PipelineInput>& inputs, const OutputSpec& output_spec,
                                  const WorkerFactory& make_worker, const PipelineOptions& options) {
  init_gdal();
  const auto t0 = std::chrono::steady_clock::now();
  PipelineResult result;
  std::vector<BandInfo> input_bands;
  result.grid = inspect_inputs(inputs, &input_bands);
  check_output_path(output_spec.path);
  {
    std::error_code ec;
    const auto out_abs = std::filesystem::weakly_canonical(output_spec.path, ec);
    for (const auto& in : inputs) {
      if (std::filesystem::weakly_canonical(in.path, ec) == out_abs) {
        core::fail(ErrorCode::kInvalidInput, "the output '{}' is also an input; write to another file",
                   output_spec.path);
      }
    }
  }
  const core::Grid& grid = result.grid;

  // Tile the output like the inputs when they are tiled in a usual square size.
  bool inputs_tiled = true;
  int preferred = 0;
  for (std::size_t i = 0; i < input_bands.size(); ++i) {
    const BandInfo& b = input_bands[i];
    const bool tiled = b.block_width < grid.width || (b.block_width == b.block_height && b.block_width >= 128);
    inputs_tiled = inputs_tiled && tiled;
    if (i == 0 && tiled && b.block_width == b.block_height && b.block_width >= 128 && b.block_width <= 2048 &&
        (b.block_width & (b.block_width - 1)) == 0) {
      preferred = b.block_width;
    }
  }
  const RankShare share(options.ranks);
  const std::unique_ptr<WindowSink> sink_ptr = open_sink(share, output_spec, grid, options.threads, preferred);
  WindowSink& sink = *sink_ptr;
  const int obw = sink.tile_width(), obh = sink.tile_height();
  // Striped inputs are read in full-width rows of output tiles (one decode of each strip), as long
  // as such a row stays small; tiled inputs in single output tiles.
  int win_w = obw, win_h = obh;
  if (!inputs_tiled && static_cast<std::int64_t>(grid.width) * obh <= 16LL * 1024 * 1024) win_w = grid.width;
  const core::BlockLayout layout(grid.width, grid.height, win_w, win_h);
  result.windows = layout.count();

  const int threads = std::max(1, std::min<int>(options.threads, static_cast<int>(layout.count())));
  const std::size_t out_elem = core::size_of(output_spec.type);
  const int out_bands = std::max(1, output_spec.bands);
  const std::size_t out_plane = static_cast<std::size_t>(win_w) * win_h;
  const std::size_t out_buffer_bytes = out_plane * out_elem * static_cast<std::size_t>(out_bands);

  core::Progress progress(options.progress_label, layout.count(), options.progress);
  if (options.on_progress) progress.set_listener(options.on_progress);
  std::atomic<std::int64_t> next{0};
  std::atomic<bool> stop{false};
  std::exception_ptr first_error;
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::unique_ptr<FinishedWindow>> pool;
  for (int i = 0; i < 2 * threads; ++i) pool.push_back(std::make_unique<FinishedWindow>());
  // Rank 0's buffers for the other ranks' windows: one per window handed out and not yet written.
  std::vector<std::unique_ptr<FinishedWindow>> remote_pool;
  if (share.split() && share.writes()) {
    // Enough that the other ranks keep working while rank 0 writes (about 48 MiB of windows per rank).
    const int per_rank = std::max<int>(3 * threads, static_cast<int>((48u << 20) / std::max<std::size_t>(1, out_buffer_bytes)));
    for (int i = 0; i < per_rank * (share.size - 1); ++i) remote_pool.push_back(std::make_unique<FinishedWindow>());
  }
  std::unique_ptr<core::IndexFetcher> fetcher;  // the other ranks' source of window indices
  if (share.split() && !share.writes()) fetcher = std::make_unique<core::IndexFetcher>(*share.link, 4 * threads);
  std::map<std::int64_t, std::unique_ptr<FinishedWindow>> ready;
  std::int64_t next_to_write = 0;

  auto record_error = [&](std::exception_ptr e) {
    std::lock_guard lock(mutex);
    if (!first_error) first_error = e;
    stop = true;
    cv.notify_all();
  };

  // Writes every consecutive ready window, in index order. Called with the mutex held.
  auto drain = [&](std::unique_lock<std::mutex>&) {
    for (auto it = ready.find(next_to_write); it != ready.end(); it = ready.find(next_to_write)) {
      sink.write(*it->second);
      (it->second->remote ? remote_pool : pool).push_back(std::move(it->second));
      ready.erase(it);
      ++next_to_write;
    }
    cv.notify_all();
  };

  auto work = [&]() {
    try {
      InputReader reader(inputs);
      std::unique_ptr<BlockWorker> worker = make_worker();
      std::unique_ptr<codec::TileEncoder> encoder = sink.make_encoder();
      std::vector<std::uint8_t> scratch;
      std::vector<core::BlockView> views(inputs.size());
      for (;;) {
        if (stop.load() || core::cancelled(options.cancel)) return;
        sink.help(encoder.get(), scratch);
        // Take a free buffer before a window index: then the lowest unwritten window always owns a
        // buffer and the ordered writer cannot starve. Memory stays bounded by the pool.
        std::unique_ptr<FinishedWindow> buf;
        std::int64_t i;
        {
          std::unique_lock lock(mutex);
          cv.wait(lock, [&] { return !pool.empty() || stop.load(); });
          if (stop.load()) return;
          if (!fetcher) {
            i = next.fetch_add(1);
            if (i >= layout.count()) return;
          }
          buf = std::move(pool.back());
          pool.pop_back();
        }
        if (fetcher) {
          const auto given = fetcher->next();
          if (!given) return;
          i = *given;
        }
        const core::Window w = layout.window(i);
        for (std::size_t k = 0; k < inputs.size(); ++k) views[k] = reader.read(k, w, inputs[k].path);
        buf->data.resize(out_buffer_bytes);
        buf->window = w;
        buf->index = i;
        core::MutableBlockView out;
        out.type = output_spec.type;
        out.data = buf->data.data();
        out.pitch = (win_w == obw && win_h == obh) ? obw : w.width;
        out.width = w.width;
        out.height = w.height;
        out.nodata = output_spec.nodata;
        out.bands = out_bands;
        out.band_stride = static_cast<std::ptrdiff_t>(out.pitch) * win_h;  // planes of the buffer's full window
        if (out.pitch != w.width || w.height != win_h) {
          // Edge tile: fill the padding with nodata so the file's bytes are deterministic.
          core::fill(buf->data.data(), static_cast<std::size_t>(out.band_stride) * out_bands, output_spec.type, output_spec.nodata);
        }
        worker->process(views, out);
        core::crash_point("pipeline.window");
        sink.encode(*buf, encoder.get());
        if (!share.writes()) {
          share.link->send(0, core::kTagWindow, pack_window(*buf));
          std::unique_lock lock(mutex);
          pool.push_back(std::move(buf));
          cv.notify_all();
          continue;
        }
        {
          std::unique_lock lock(mutex);
          ready.emplace(i, std::move(buf));
          drain(lock);
        }
        progress.advance();
      }
    } catch (...) {
      record_error(std::current_exception());
    }
  };

  // Rank 0 of a split pipeline: answers the other ranks' requests for windows (each with a buffer set
  // aside) and takes their computed windows into the ordered writer, until every rank has been told
  // that none is left and every window handed out has come back.
  auto coordinate = [&]() {
    try {
      std::deque<core::IndexRequest> waiting;
      std::map<std::int64_t, std::unique_ptr<FinishedWindow>> handed_out;
      std::map<int, int> told_done;  // rank -> answers of -1 sent (one per request it keeps in flight)
      int ranks_done = 0;
      core::PollBackoff backoff;
      while (ranks_done < share.size - 1 || !handed_out.empty()) {
        if (stop.load()) return;
        bool busy = false;
        while (auto req = core::try_take_request(*share.link)) {
          waiting.push_back(*req);
          busy = true;
        }
        while (auto msg = share.link->try_receive_any(core::kTagWindow)) {
          const auto index = core::ByteReader(msg->second).get<std::int64_t>();
          auto it = handed_out.find(index);
          if (it == handed_out.end()) core::fail(ErrorCode::kInternal, "rank {} sent window {}, which it was not given", msg->first, index);
          unpack_window(msg->second, *it->second);
          it->second->remote = true;
          std::unique_lock lock(mutex);
          ready.emplace(index, std::move(it->second));
          handed_out.erase(it);
          drain(lock);
          progress.advance();
          busy = true;
        }
        while (!waiting.empty()) {
          std::unique_ptr<FinishedWindow> buf;
          std::int64_t index = -1;
          {
            std::unique_lock lock(mutex);
            if (next.load() < layout.count()) {
              if (remote_pool.empty()) break;  // answered once a window is written
              index = next.fetch_add(1);
              if (index < layout.count()) {
                buf = std::move(remote_pool.back());
                remote_pool.pop_back();
              } else {
                index = -1;
              }
            }
          }
          const core::IndexRequest req = waiting.front();
          waiting.pop_front();
          if (buf) handed_out.emplace(index, std::move(buf));
          core::answer_request(*share.link, req.source, index);
          if (index < 0 && ++told_done[req.source] == req.depth) ++ranks_done;
          busy = true;
        }
        busy ? backoff.reset() : backoff.pause();
      }
    } catch (...) {
      record_error(std::current_exception());
    }
  };

  std::vector<std::thread> pool_threads;
  if (share.split() && share.writes()) pool_threads.emplace_back(coordinate);
  for (int t = 1; t < threads; ++t) pool_threads.emplace_back(work);
  work();
  for (auto& t : pool_threads) t.join();
  if (first_error) std::rethrow_exception(first_error);
  core::throw_if_cancelled(options.cancel);
  progress.finish();
  const auto t1 = std::chrono::steady_clock::now();
  result.compute_seconds = std::chrono::duration<double>(t1 - t0).count();

  if (share.writes()) sink.commit(threads, options.cancel, options.progress);
  // Every rank returns once the file is complete (a later step of the run may read it).
  if (share.split()) share.link->broadcast({});
  result.finalize_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  return result;
}

}  // namespace sco::io
