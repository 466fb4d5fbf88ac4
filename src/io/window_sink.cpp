#include "io/window_sink.hpp"

#include <gdal_priv.h>

#include <algorithm>
#include <cstring>

#include "core/error.hpp"
#include "core/progress.hpp"
#include "core/ranks.hpp"
#include "io/cog_writer.hpp"
#include "io/gdal_session.hpp"
#include "io/in_place_tiff.hpp"

namespace sco::io {

WindowSink::WindowSink(const OutputSpec& spec, const core::Grid& grid, int threads, int preferred_block) : spec_(spec), grid_(grid) {
  CogOptions cog;
  if (spec.format == OutputFormat::kCog && spec.bands <= 1 && spec.tile == 0 && native_cog_options(spec, &cog)) {
    cog_ = std::make_unique<CogWriter>(spec, grid, cog);
    tile_w_ = tile_h_ = cog_->tile();
  } else if (InPlaceTiff::suits(spec)) {
    tiff_ = std::make_unique<InPlaceTiff>(spec, grid, spec.tile > 0 ? spec.tile : preferred_block > 0 ? preferred_block : 512);
    tile_w_ = tiff_->tile_width();
    tile_h_ = tiff_->tile_height();
  } else {
    gdal_ = std::make_unique<RasterOutput>(spec, grid, threads, preferred_block);
    tile_w_ = gdal_->block_width();
    tile_h_ = gdal_->block_height();
  }
}

WindowSink::WindowSink(const OutputSpec& spec, const core::Grid& grid) : spec_(spec), grid_(grid) {}

WindowSink::~WindowSink() = default;

std::vector<std::byte> WindowSink::layout_message() const {
  core::ByteWriter w;
  w.put<std::int32_t>(tile_w_);
  w.put<std::int32_t>(tile_h_);
  w.put<std::uint8_t>(cog_ ? 1 : tiff_ ? 2 : 0);
  if (cog_) w.put(cog_->encoding());
  if (tiff_) w.put_bytes(tiff_->share());
  return std::move(w.bytes());
}

std::unique_ptr<WindowSink> WindowSink::remote(const OutputSpec& spec, const core::Grid& grid, std::span<const std::byte> layout_message) {
  std::unique_ptr<WindowSink> sink(new WindowSink(spec, grid));
  core::ByteReader r(layout_message);
  sink->tile_w_ = r.get<std::int32_t>();
  sink->tile_h_ = r.get<std::int32_t>();
  const auto kind = r.get<std::uint8_t>();
  if (kind == 1) sink->remote_encoding_ = r.get<codec::TileEncoding>();
  if (kind == 2) sink->tiff_ = InPlaceTiff::join(spec, r.get_bytes());
  return sink;
}

const codec::TileEncoding* WindowSink::encoding() const {
  if (cog_) return &cog_->encoding();
  return remote_encoding_ ? &*remote_encoding_ : nullptr;
}

std::unique_ptr<codec::TileEncoder> WindowSink::make_encoder() const {
  const codec::TileEncoding* e = encoding();
  return e ? std::make_unique<codec::TileEncoder>(*e) : nullptr;
}

bool WindowSink::is_one_tile(const FinishedWindow& w) const {
  return w.window.x % tile_w_ == 0 && w.window.width <= tile_w_ &&
         w.data.size() == static_cast<std::size_t>(tile_w_) * tile_h_ * core::size_of(spec_.type) * static_cast<std::size_t>(std::max(1, spec_.bands));
}

void WindowSink::encode(FinishedWindow& w, codec::TileEncoder* encoder) const {
  if (!encoder) return;
  const core::Window& win = w.window;
  const std::size_t elem = core::size_of(spec_.type);
  const std::size_t tile_bytes = static_cast<std::size_t>(tile_w_) * tile_h_ * elem;
  const bool one_tile = is_one_tile(w);
  const int count = one_tile ? 1 : (win.width + tile_w_ - 1) / tile_w_;
  w.encoded.resize(static_cast<std::size_t>(count));
  if (one_tile) {
    w.tiles.clear();
    encoder->encode(w.data.data(), w.encoded[0]);
    return;
  }
  // A row of tiles: each tile cut out with its padding (nodata, from a padded window of tile height).
  w.tiles.resize(static_cast<std::size_t>(count));
  for (int k = 0; k < count; ++k) {
    auto& t = w.tiles[static_cast<std::size_t>(k)];
    t.resize(tile_bytes);
    cut_tile(w, k, t.data());
    encoder->encode(t.data(), w.encoded[static_cast<std::size_t>(k)]);
  }
}

std::int64_t WindowSink::first_tile(const core::Window& win) const {
  return static_cast<std::int64_t>(win.y / tile_h_) * ((grid_.width + tile_w_ - 1) / tile_w_) + win.x / tile_w_;
}

void WindowSink::cut_tile(const FinishedWindow& w, int k, std::byte* tile) const {
  const core::Window& win = w.window;
  const std::size_t elem = core::size_of(spec_.type);
  const int cols = std::min(tile_w_, win.width - k * tile_w_);
  if (cols < tile_w_) core::fill(tile, static_cast<std::size_t>(tile_w_) * tile_h_, spec_.type, spec_.nodata);
  for (int r = 0; r < tile_h_; ++r) {
    std::byte* dst = tile + static_cast<std::size_t>(r) * tile_w_ * elem;
    const std::byte* src = w.data.data() + (static_cast<std::size_t>(r) * win.width + static_cast<std::size_t>(k) * tile_w_) * elem;
    std::memcpy(dst, src, static_cast<std::size_t>(cols) * elem);  // rows past the edge: the window's nodata padding
  }
}

void WindowSink::write_in_place(const FinishedWindow& w) const {
  const core::Window& win = w.window;
  const std::int64_t first = first_tile(win);
  if (is_one_tile(w)) {
    tiff_->put(first, w.data.data());
    return;
  }
  std::vector<std::byte> tile(static_cast<std::size_t>(tile_w_) * tile_h_ * core::size_of(spec_.type));
  for (int k = 0; k * tile_w_ < win.width; ++k) {
    cut_tile(w, k, tile.data());
    tiff_->put(first + k, tile.data());
  }
}

void WindowSink::help(codec::TileEncoder* encoder, std::vector<std::uint8_t>& scratch) {
  if (cog_) {
    while (cog_->encode_waiting(*encoder, scratch)) {
    }
  }
}

void WindowSink::write(const FinishedWindow& w) {
  const core::Window& win = w.window;
  if (tiff_) {
    write_in_place(w);
    return;
  }
  if (cog_) {
    const std::int64_t first = first_tile(win);
    for (std::size_t k = 0; k < w.encoded.size(); ++k) {
      cog_->put_full(first + static_cast<std::int64_t>(k), w.encoded[k], w.tiles.empty() ? w.data.data() : w.tiles[k].data());
    }
    return;
  }
  const int bands = std::max(1, spec_.bands);
  const std::size_t plane = w.data.size() / static_cast<std::size_t>(bands);
  const bool one_tile = is_one_tile(w);
  for (int k = 0; k < bands; ++k) {
    GDALRasterBand* band = gdal_->band(k + 1);
    std::byte* data = const_cast<std::byte*>(w.data.data()) + static_cast<std::size_t>(k) * plane;
    clear_gdal_error();
    CPLErr err;
    if (one_tile) {
      // One output tile (edge tiles too: their buffer has the full tile layout, padded with nodata).
      err = band->WriteBlock(win.x / tile_w_, win.y / tile_h_, data);
    } else {
      err = band->RasterIO(GF_Write, win.x, win.y, win.width, win.height, data, win.width, win.height,
                           static_cast<GDALDataType>(to_gdal_type(spec_.type)), 0, 0, nullptr);
    }
    if (err != CE_None) core::fail(core::ErrorCode::kIo, "writing '{}' failed: {}", spec_.path, take_gdal_error());
  }
}

void WindowSink::commit(int threads, const core::CancelToken* cancel, bool progress) {
  if (tiff_) {
    tiff_->commit();
    return;
  }
  if (cog_) {
    cog_->commit(threads, cancel);
    return;
  }
  if (spec_.format == OutputFormat::kCog) {
    core::Progress cog_progress("writing COG", 1, progress);
    gdal_->commit(&cog_progress);
    cog_progress.finish();
  } else {
    gdal_->commit(nullptr);
  }
}

}  // namespace sco::io
