#include "io/block_pipeline.hpp"

#include <gdal_priv.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <chrono>
#include <cmath>
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
    int x0 = 0, y0 = 0;  // where the pipeline's grid starts in the dataset read
    std::vector<std::byte> buffer;
    std::vector<std::uint8_t> mask_buffer;
  };
  std::vector<Slot> slots;

  explicit InputReader(const std::vector<PipelineInput>& inputs) {
    std::vector<int> pixel_interleaved;  // per dataset: -1 not seen yet, else 0 / 1
    for (const auto& in : inputs) {
      const std::size_t k = datasets.open(in.source.empty() ? in.path : in.source);
      Slot s;
      s.dataset = k;
      if (!in.source.empty()) {
        s.x0 = in.source_x;
        s.y0 = in.source_y;
      }
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

  std::vector<std::byte> shared;  // the buffer of reads handed over at once (BlockWorker::folds_inputs)

  // Input i's pixels in `window`, in its slot's own buffer (valid until its next read) or, with
  // `transient`, in the shared one (valid until any next transient read).
  core::BlockView read(std::size_t i, const core::Window& window, const std::string& path, bool transient = false) {
    Slot& s = slots[i];
    std::vector<std::byte>& buffer = transient ? shared : s.buffer;
    const core::Window w{window.x + s.x0, window.y + s.y0, window.width, window.height};  // in the dataset read
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
      buffer.resize(static_cast<std::size_t>(bw) * bh * elem);
      if (s.from_shared_tile) {
        if (GDALRasterBlock* cached = s.band->TryGetLockedBlockRef(w.x / bw, w.y / bh)) {
          std::memcpy(buffer.data(), cached->GetDataRef(), buffer.size());
          cached->DropLock();
          v.pitch = bw;
          v.data = buffer.data();
          return finish_mask(s, v, w, path);
        }
      }
      if (s.band->ReadBlock(w.x / bw, w.y / bh, buffer.data()) != CE_None) {
        core::fail(ErrorCode::kIo, "reading '{}' block at ({}, {}) failed: {}", path, w.x, w.y, take_gdal_error());
      }
      v.pitch = bw;
    } else {
      buffer.resize(static_cast<std::size_t>(w.pixels()) * elem);
      if (s.band->RasterIO(GF_Read, w.x, w.y, w.width, w.height, buffer.data(), w.width, w.height,
                           static_cast<GDALDataType>(to_gdal_type(s.info.type)), 0, 0, nullptr) != CE_None) {
        core::fail(ErrorCode::kIo, "reading '{}' window at ({}, {}) failed: {}", path, w.x, w.y, take_gdal_error());
      }
      v.pitch = w.width;
    }
    v.data = buffer.data();
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
// window in order; into a file written in place (io/in_place_tiff) a rank that sees the file writes
// its windows itself and sends their numbers. A window is handed to another rank only with a buffer
// set aside for it on rank 0, so the lowest unwritten window always has a place and memory stays
// bounded.
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

// A window computed by another rank travels as a small header (its index, place, and how many encoded
// and cut tiles each output has) followed by each output's pixels, encoded tiles and cut tiles in
// messages of their own, sent from the worker's buffers and received into the buffers set aside for
// the window on rank 0 (no copy into or out of a packed message on either side). A rank's threads
// send one window's messages at a time: rank 0 takes a header from any rank, then that rank's next
// messages.
void send_parts(core::RankLink& link, const FinishedWindow& w) {
  link.send(0, core::kTagWindowData, w.data);
  for (const auto& e : w.encoded) link.send(0, core::kTagWindowData, std::as_bytes(std::span(e)));
  for (const auto& t : w.tiles) link.send(0, core::kTagWindowData, t);
}

void receive_parts(core::RankLink& link, int from, core::ByteReader& in, FinishedWindow& w) {
  w.encoded.resize(in.get<std::uint32_t>());
  w.tiles.resize(in.get<std::uint32_t>());
  link.receive_into(from, core::kTagWindowData, w.data);
  for (auto& e : w.encoded) link.receive_into(from, core::kTagWindowData, e);
  for (auto& t : w.tiles) link.receive_into(from, core::kTagWindowData, t);
}

void send_window(core::RankLink& link, const FinishedWindow& w) {
  core::ByteWriter head;
  head.put(w.index);
  head.put(w.window);
  head.put<std::uint32_t>(static_cast<std::uint32_t>(w.more.size()));
  auto counts = [&head](const FinishedWindow& p) {
    head.put<std::uint32_t>(static_cast<std::uint32_t>(p.encoded.size()));
    head.put<std::uint32_t>(static_cast<std::uint32_t>(p.tiles.size()));
  };
  counts(w);
  for (const auto& m : w.more) counts(m);
  link.send(0, core::kTagWindow, head.bytes());
  send_parts(link, w);
  for (const auto& m : w.more) send_parts(link, m);
}

// The header `bytes` from rank `from` into `w`, then the messages that follow it.
void receive_window(core::RankLink& link, int from, std::span<const std::byte> bytes, FinishedWindow& w) {
  core::ByteReader in(bytes);
  w.index = in.get<std::int64_t>();
  w.window = in.get<core::Window>();
  w.more.resize(in.get<std::uint32_t>());
  receive_parts(link, from, in, w);
  for (auto& m : w.more) {
    m.window = w.window;
    m.index = w.index;
    receive_parts(link, from, in, m);
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


// One pipeline's windows from reading to the ordered writer: worker threads take a free output buffer,
// then a window index (from a shared counter, or from rank 0 under mpirun), read, compute and encode;
// finished windows are written in index order (or, on other ranks, sent to rank 0; in place, by the
// thread that computed them, the order kept for the buffers' bookkeeping). Memory is bounded
// by the buffers: 2 per thread, plus on rank 0 of a split run one per window handed to another rank.
class PipelineRun {
 public:
  PipelineRun(const std::vector<PipelineInput>& inputs, const OutputSpec& spec, const WorkerFactory& make_worker, const PipelineOptions& options,
              const RankShare& share, const std::vector<WindowSink*>& sinks, const core::BlockLayout& layout, int win_w, int win_h, int threads)
      : inputs_(inputs), spec_(spec), make_worker_(make_worker), options_(options), share_(share), sinks_(sinks), layout_(layout), win_w_(win_w), win_h_(win_h), threads_(threads),
        buffer_bytes_(static_cast<std::size_t>(win_w) * win_h * core::size_of(spec.type) * static_cast<std::size_t>(std::max(1, spec.bands)) *
                      sinks.size()),
        progress_(options.progress_label, layout.count(), options.progress) {
    if (options.on_progress) progress_.set_listener(options.on_progress);
    for (int i = 0; i < 2 * threads; ++i) pool_.push_back(std::make_unique<FinishedWindow>());
    if (share.split() && share.writes()) {
      // Enough that the other ranks keep working while rank 0 writes (about 48 MiB of windows per rank).
      const int per_rank = std::max<int>(3 * threads, static_cast<int>((48u << 20) / std::max<std::size_t>(1, buffer_bytes_)));
      for (int i = 0; i < per_rank * (share.size - 1); ++i) remote_pool_.push_back(std::make_unique<FinishedWindow>());
    }
    if (share.split() && !share.writes()) fetcher_ = std::make_unique<core::IndexFetcher>(*share.link, 4 * threads);
    in_place_ = std::all_of(sinks.begin(), sinks.end(), [](const WindowSink* s) { return s->writes_in_place(); });
  }

  // Runs the workers (and rank 0's coordinator) to the end; rethrows the first error, or the
  // cancellation.
  void run() {
    std::vector<std::thread> threads;
    if (share_.split() && share_.writes()) threads.emplace_back([this] { guarded([this] { coordinate(); }); });
    for (int t = 1; t < threads_; ++t) threads.emplace_back([this] { guarded([this] { work(); }); });
    guarded([this] { work(); });
    for (auto& t : threads) t.join();
    if (first_error_) std::rethrow_exception(first_error_);
    core::throw_if_cancelled(options_.cancel);
    progress_.finish();
  }

 private:
  void guarded(const std::function<void()>& f) {
    try {
      f();
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!first_error_) first_error_ = std::current_exception();
      stop_ = true;
      cv_.notify_all();
    }
  }

  // Writes every consecutive ready window, in index order. Called with the mutex held.
  void drain() {
    for (auto it = ready_.find(next_to_write_); it != ready_.end(); it = ready_.find(next_to_write_)) {
      if (!it->second->written) {
        for (std::size_t k = 0; k < sinks_.size(); ++k) sinks_[k]->write(part(*it->second, k));
      }
      it->second->written = false;
      (it->second->remote ? remote_pool_ : pool_).push_back(std::move(it->second));
      ready_.erase(it);
      ++next_to_write_;
    }
    cv_.notify_all();
  }

  void work() {
    InputReader reader(inputs_);
    std::unique_ptr<BlockWorker> worker = make_worker_();
    std::vector<std::unique_ptr<codec::TileEncoder>> encoders;
    for (WindowSink* s : sinks_) encoders.push_back(s->make_encoder());
    std::vector<std::uint8_t> scratch;
    std::vector<core::BlockView> views(inputs_.size());
    for (;;) {
      if (stop_.load() || core::cancelled(options_.cancel)) return;
      for (std::size_t k = 0; k < sinks_.size(); ++k) sinks_[k]->help(encoders[k].get(), scratch);
      std::unique_ptr<FinishedWindow> buf = take_window();
      if (!buf) return;
      compute(*buf, reader, *worker, views);
      core::crash_point("pipeline.window");
      for (std::size_t k = 0; k < sinks_.size(); ++k) sinks_[k]->encode(part(*buf, k), encoders[k].get());
      if (in_place_) {
        for (std::size_t k = 0; k < sinks_.size(); ++k) sinks_[k]->write(part(*buf, k));
        buf->written = true;
      }
      std::unique_lock lock(mutex_);
      if (!share_.writes()) {
        lock.unlock();
        if (buf->written) {
          core::ByteWriter note;
          note.put(buf->index);
          share_.link->send(0, core::kTagWindowWritten, note.bytes());
        } else {
          std::lock_guard sending(send_mutex_);  // a window's header and pixels go out together
          send_window(*share_.link, *buf);
        }
        lock.lock();
        pool_.push_back(std::move(buf));
        cv_.notify_all();
        continue;
      }
      const std::int64_t i = buf->index;
      ready_.emplace(i, std::move(buf));
      drain();
      lock.unlock();
      progress_.advance();
    }
  }

  // A free buffer first, then a window index: the lowest unwritten window then always owns a buffer
  // and the ordered writer cannot starve. Empty when no window is left or the run stops.
  std::unique_ptr<FinishedWindow> take_window() {
    std::unique_ptr<FinishedWindow> buf;
    std::int64_t i = -1;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return !pool_.empty() || stop_.load(); });
      if (stop_.load()) return nullptr;
      if (!fetcher_) {
        i = next_.fetch_add(1);
        if (i >= layout_.count()) return nullptr;
      }
      buf = std::move(pool_.back());
      pool_.pop_back();
    }
    if (fetcher_) {
      const auto given = fetcher_->next();
      if (!given) {
        std::lock_guard lock(mutex_);
        pool_.push_back(std::move(buf));
        return nullptr;
      }
      i = *given;
    }
    buf->index = i;
    return buf;
  }

  // The window's inputs read and the worker's output in `buf` (edge windows padded with nodata, so
  // that the file's bytes are deterministic).
  void compute(FinishedWindow& buf, InputReader& reader, BlockWorker& worker, std::vector<core::BlockView>& views) {
    const core::Window w = layout_.window(buf.index);
    const bool folds = worker.folds_inputs();
    if (!folds) {
      for (std::size_t k = 0; k < inputs_.size(); ++k) views[k] = reader.read(k, w, inputs_[k].path);
    }
    buf.data.resize(buffer_bytes_);
    buf.window = w;
    const int obw = sinks_.front()->tile_width(), obh = sinks_.front()->tile_height();
    core::MutableBlockView out;
    out.type = spec_.type;
    out.data = buf.data.data();
    out.pitch = (win_w_ == obw && win_h_ == obh) ? obw : w.width;
    out.width = w.width;
    out.height = w.height;
    out.nodata = spec_.nodata;
    out.bands = std::max(1, spec_.bands) * static_cast<int>(sinks_.size());
    out.band_stride = static_cast<std::ptrdiff_t>(out.pitch) * win_h_;  // planes of the buffer's full window
    if (out.pitch != w.width || w.height != win_h_) {
      core::fill(buf.data.data(), static_cast<std::size_t>(out.band_stride) * out.bands, spec_.type, spec_.nodata);
    }
    if (folds) {
      worker.begin(out);
      for (std::size_t k = 0; k < inputs_.size(); ++k) worker.fold(k, reader.read(k, w, inputs_[k].path, true));
      worker.finish(out);
    } else {
      worker.process(views, out);
    }
    if (sinks_.size() > 1) split_outputs(buf);
  }

  // Output k's part of a window: the window itself for the first output.
  static FinishedWindow& part(FinishedWindow& w, std::size_t k) { return k == 0 ? w : w.more[k - 1]; }

  // Several outputs: the planes after the first moved into their own windows.
  void split_outputs(FinishedWindow& buf) const {
    const std::size_t part = buffer_bytes_ / sinks_.size();
    buf.more.resize(sinks_.size() - 1);
    for (std::size_t k = 1; k < sinks_.size(); ++k) {
      FinishedWindow& m = buf.more[k - 1];
      m.window = buf.window;
      m.index = buf.index;
      m.data.assign(buf.data.begin() + static_cast<std::ptrdiff_t>(k * part), buf.data.begin() + static_cast<std::ptrdiff_t>((k + 1) * part));
    }
    buf.data.resize(part);
  }

  // Rank 0 of a split pipeline: answers the other ranks' requests for windows (each with a buffer set
  // aside) and takes their computed windows into the ordered writer, until every rank has been told
  // that none is left and every window handed out has come back.
  void coordinate() {
    std::deque<core::IndexRequest> waiting;
    int ranks_done = 0;
    core::PollBackoff backoff;
    while (ranks_done < share_.size - 1 || !handed_out_.empty()) {
      if (stop_.load()) return;
      bool busy = false;
      while (auto req = core::try_take_request(*share_.link)) {
        waiting.push_back(*req);
        busy = true;
      }
      while (auto msg = share_.link->try_receive_any(core::kTagWindow)) {
        take_remote_window(msg->first, msg->second, false);
        busy = true;
      }
      while (auto msg = share_.link->try_receive_any(core::kTagWindowWritten)) {
        take_remote_window(msg->first, msg->second, true);
        busy = true;
      }
      while (!waiting.empty() && answer(waiting.front(), ranks_done)) {
        waiting.pop_front();
        busy = true;
      }
      busy ? backoff.reset() : backoff.pause();
    }
  }

  // A window another rank computed: its header and pixels, or (`written`) its index alone, the rank
  // having written it into the file itself.
  void take_remote_window(int rank, std::span<const std::byte> bytes, bool written) {
    const auto index = core::ByteReader(bytes).get<std::int64_t>();
    auto it = handed_out_.find(index);
    if (it == handed_out_.end()) core::fail(ErrorCode::kInternal, "rank {} sent window {}, which it was not given", rank, index);
    if (!written) receive_window(*share_.link, rank, bytes, *it->second);
    it->second->index = index;
    it->second->remote = true;
    it->second->written = written;
    {
      std::unique_lock lock(mutex_);
      ready_.emplace(index, std::move(it->second));
      drain();
    }
    handed_out_.erase(it);
    progress_.advance();
  }

  // Answers a request with the next window and a buffer set aside for it, or -1 when none is left;
  // false when no buffer is free yet (answered once a window is written).
  bool answer(const core::IndexRequest& req, int& ranks_done) {
    std::unique_ptr<FinishedWindow> buf;
    std::int64_t index = -1;
    {
      std::unique_lock lock(mutex_);
      if (next_.load() < layout_.count()) {
        if (remote_pool_.empty()) return false;
        index = next_.fetch_add(1);
        if (index < layout_.count()) {
          buf = std::move(remote_pool_.back());
          remote_pool_.pop_back();
        } else {
          index = -1;
        }
      }
    }
    if (buf) handed_out_.emplace(index, std::move(buf));
    core::answer_request(*share_.link, req.source, index);
    if (index < 0 && ++told_done_[req.source] == req.depth) ++ranks_done;
    return true;
  }

  const std::vector<PipelineInput>& inputs_;
  const OutputSpec& spec_;
  const WorkerFactory& make_worker_;
  const PipelineOptions& options_;
  const RankShare& share_;
  const std::vector<WindowSink*> sinks_;
  const core::BlockLayout& layout_;
  const int win_w_, win_h_, threads_;
  const std::size_t buffer_bytes_;
  core::Progress progress_;
  std::atomic<std::int64_t> next_{0};
  std::atomic<bool> stop_{false};
  std::exception_ptr first_error_;
  std::mutex mutex_;
  std::mutex send_mutex_;  // other ranks: one window's messages at a time, so that rank 0 pairs them
  std::condition_variable cv_;
  std::vector<std::unique_ptr<FinishedWindow>> pool_, remote_pool_;  // free buffers: this rank's, other ranks' (rank 0)
  std::unique_ptr<core::IndexFetcher> fetcher_;  // the other ranks' source of window indices
  std::map<std::int64_t, std::unique_ptr<FinishedWindow>> ready_;  // computed, waiting for their turn
  std::int64_t next_to_write_ = 0;
  bool in_place_ = false;  // every sink writes windows at their place: the thread that computed one writes it
  std::map<std::int64_t, std::unique_ptr<FinishedWindow>> handed_out_;  // rank 0: windows another rank computes
  std::map<int, int> told_done_;  // rank -> answers of -1 sent (one per request it keeps in flight)
};

}  // namespace

namespace {
constexpr std::uint64_t kSeriesBudget = 64ull << 20;

int tile_within_budget(std::uint64_t bytes_per_pixel) {
  int tile = 512;
  while (tile > 16 && static_cast<std::uint64_t>(tile) * static_cast<std::uint64_t>(tile) * bytes_per_pixel > kSeriesBudget) tile /= 2;
  return tile == 512 ? 0 : tile;
}
}  // namespace

int series_tile(std::size_t inputs) { return tile_within_budget(static_cast<std::uint64_t>(inputs) * 4); }

SeriesFootprint& SeriesFootprint::operator+=(const SeriesFootprint& o) {
  if (bytes_per_pixel == 0) block = o.block;
  else if (o.bytes_per_pixel != 0 && o.block != block) block = 0;
  bytes_per_pixel += o.bytes_per_pixel;
  return *this;
}

SeriesFootprint series_footprint(const std::vector<PipelineInput>& inputs, std::size_t worker_bytes) {
  init_gdal();
  DatasetSet datasets;
  SeriesFootprint f;
  for (const auto& in : inputs) {
    const BandInfo b = datasets[datasets.open(in.path)].band(in.band);
    const int block = b.block_width == b.block_height && b.block_width >= 128 && b.block_width <= 512 ? b.block_width : 0;
    f += SeriesFootprint{core::size_of(b.type) + worker_bytes + (b.has_mask ? 1 : 0), block};
  }
  return f;
}

int series_tile(const SeriesFootprint& f) {
  const int tile = tile_within_budget(f.bytes_per_pixel);
  const int fits = tile == 0 ? 512 : tile;
  const auto b = static_cast<std::uint64_t>(f.block);
  if (f.block > fits && (f.block & (f.block - 1)) == 0 && b * b * f.bytes_per_pixel <= 2 * kSeriesBudget) return f.block == 512 ? 0 : f.block;
  return tile;
}

PipelineResult run_block_pipeline(const std::vector<PipelineInput>& inputs, const OutputSpec& output_spec,
                                  const WorkerFactory& make_worker, const PipelineOptions& options) {
  return run_block_pipeline(inputs, std::vector<OutputSpec>{output_spec}, make_worker, options);
}

namespace {
bool same_value(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

// Every output writable, none of them an input; several outputs share type, nodata and one band each.
void check_outputs(const std::vector<PipelineInput>& inputs, const std::vector<OutputSpec>& outputs) {
  if (outputs.empty()) core::fail(ErrorCode::kInternal, "a pipeline without outputs");
  std::error_code ec;
  for (const auto& spec : outputs) {
    check_output_path(spec.path);
    const auto out_abs = std::filesystem::weakly_canonical(spec.path, ec);
    for (const auto& in : inputs) {
      if (std::filesystem::weakly_canonical(in.path, ec) == out_abs) {
        core::fail(ErrorCode::kInvalidInput, "the output '{}' is also an input; write to another file", spec.path);
      }
    }
    const OutputSpec& first = outputs.front();
    if (outputs.size() > 1 && (spec.type != first.type || spec.bands > 1 || !same_value(spec.nodata, first.nodata))) {
      core::fail(ErrorCode::kInternal, "the outputs of one pipeline differ in type, nodata or bands ('{}', '{}')", first.path, spec.path);
    }
  }
}
}  // namespace

PipelineResult run_block_pipeline(const std::vector<PipelineInput>& inputs, const std::vector<OutputSpec>& outputs,
                                  const WorkerFactory& make_worker, const PipelineOptions& options) {
  init_gdal();
  const auto t0 = std::chrono::steady_clock::now();
  PipelineResult result;
  std::vector<BandInfo> input_bands;
  result.grid = inspect_inputs(inputs, &input_bands);
  check_outputs(inputs, outputs);
  const OutputSpec& output_spec = outputs.front();
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
  std::vector<std::unique_ptr<WindowSink>> owned;
  std::vector<WindowSink*> sinks;
  for (const auto& spec : outputs) {
    owned.push_back(open_sink(share, spec, grid, options.threads, preferred));
    sinks.push_back(owned.back().get());
    if (sinks.back()->tile_width() != sinks.front()->tile_width() || sinks.back()->tile_height() != sinks.front()->tile_height()) {
      core::fail(ErrorCode::kInternal, "the outputs of one pipeline are tiled differently ('{}', '{}')", output_spec.path, spec.path);
    }
  }
  const int obw = sinks.front()->tile_width(), obh = sinks.front()->tile_height();
  // Striped inputs are read in full-width rows of output tiles (one decode of each strip), as long
  // as such a row stays small; tiled inputs in single output tiles.
  int win_w = obw, win_h = obh;
  if (!inputs_tiled && static_cast<std::int64_t>(grid.width) * obh <= 16LL * 1024 * 1024) win_w = grid.width;
  const core::BlockLayout layout(grid.width, grid.height, win_w, win_h);
  result.windows = layout.count();

  const int threads = std::max(1, std::min<int>(options.threads, static_cast<int>(layout.count())));
  PipelineRun run{inputs, output_spec, make_worker, options, share, sinks, layout, win_w, win_h, threads};
  run.run();
  const auto t1 = std::chrono::steady_clock::now();
  result.compute_seconds = std::chrono::duration<double>(t1 - t0).count();

  if (share.writes()) {
    for (WindowSink* s : sinks) s->commit(threads, options.cancel, options.progress);
  }
  // Every rank returns once the file is complete (a later step of the run may read it).
  if (share.split()) share.link->broadcast({});
  result.finalize_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  return result;
}

}  // namespace sco::io
