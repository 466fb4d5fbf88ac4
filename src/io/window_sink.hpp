#pragma once
// Where the block pipeline's finished windows go: sco's own COG writer (io/cog_writer: the default),
// a plain uncompressed GeoTIFF written in place (io/in_place_tiff: any thread or rank of the host
// writes its own tiles), or GDAL (a compressed or many-band GeoTIFF, or a COG through GDAL's driver
// for the codecs only libtiff has).
// Windows are whole output tiles, or full-width rows of tiles (striped inputs). A window's tiles are
// encoded by the worker thread that computed it; the sink takes the windows in order.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "codec/tile_codec.hpp"
#include "core/cancel.hpp"
#include "core/grid.hpp"
#include "io/raster_output.hpp"

namespace sco::io {

class CogWriter;
class InPlaceTiff;

struct FinishedWindow {
  std::vector<std::byte> data;  // pitch: the tile width for a tile, the grid width for a row of tiles; bands one plane after another
  core::Window window;
  std::int64_t index = -1;
  bool remote = false;  // computed by another rank (its buffer is rank 0's set-aside one)
  bool written = false;  // already in the file (written in place, by the rank that computed it)
  std::vector<std::vector<std::uint8_t>> encoded;  // one per tile (sco's COG)
  std::vector<std::vector<std::byte>> tiles;       // padded tiles cut from a row of tiles (sco's COG)
  // A pipeline of several outputs: this window of the second, third... output (their own `data`,
  // `encoded`, `tiles`).
  std::vector<FinishedWindow> more;
};

class WindowSink {
 public:
  WindowSink(const OutputSpec& spec, const core::Grid& grid, int threads, int preferred_block);
  ~WindowSink();

  // Ranks other than 0 of a run split across processes: the tiling and encoding of rank 0's sink
  // (from its `layout_message()`), no file. Windows are encoded here and written by rank 0.
  static std::unique_ptr<WindowSink> remote(const OutputSpec& spec, const core::Grid& grid, std::span<const std::byte> layout_message);
  std::vector<std::byte> layout_message() const;

  int tile_width() const { return tile_w_; }
  int tile_height() const { return tile_h_; }
  bool writes_cog_itself() const { return cog_ != nullptr; }
  // Windows go into the file at their place, from any thread, in any order (on other ranks: when
  // they see rank 0's staging file).
  bool writes_in_place() const { return tiff_ != nullptr; }

  // Worker side: one encoder per thread (null when GDAL writes).
  std::unique_ptr<codec::TileEncoder> make_encoder() const;
  void encode(FinishedWindow& w, codec::TileEncoder* encoder) const;
  // Worker side, between windows: encodes waiting overview tiles.
  void help(codec::TileEncoder* encoder, std::vector<std::uint8_t>& scratch);
  // Ordered side: windows in index order, one caller at a time (in place: any thread, any order).
  void write(const FinishedWindow& w);
  // The file completed and renamed to its path.
  void commit(int threads, const core::CancelToken* cancel, bool progress);

 private:
  WindowSink(const OutputSpec& spec, const core::Grid& grid);
  const codec::TileEncoding* encoding() const;
  // The window's buffer is one output tile, laid out with the tile's pitch (edge tiles padded).
  bool is_one_tile(const FinishedWindow& w) const;
  // The row-major index of the file's tile at the window's top-left corner.
  std::int64_t first_tile(const core::Window& win) const;
  // Tile k of a window that is a row of tiles, cut out into `tile` with its nodata padding.
  void cut_tile(const FinishedWindow& w, int k, std::byte* tile) const;
  void write_in_place(const FinishedWindow& w) const;

  OutputSpec spec_;
  core::Grid grid_;
  int tile_w_ = 0, tile_h_ = 0;
  std::unique_ptr<CogWriter> cog_;
  std::unique_ptr<RasterOutput> gdal_;
  std::unique_ptr<InPlaceTiff> tiff_;
  std::optional<codec::TileEncoding> remote_encoding_;  // a remote sink of sco's COG
};

}  // namespace sco::io
