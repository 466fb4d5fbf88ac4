#pragma once
// sco's own cloud-optimised GeoTIFF writer, fed by the block pipeline as tiles are computed.
//
// Full-resolution tiles are encoded by the worker threads (codec/tile_codec) and appended in tile
// order to a spill file; the overviews are computed from them as they stream (codec/overview_pyramid)
// and their tiles encoded by whichever worker is free. `commit` lays the file out in COG order: the
// header, GDAL's structural metadata ("ghost area": IFDs before data, row-major blocks, each block
// preceded by its size and followed by its last 4 bytes), every IFD (full resolution first), the
// overviews' tiles from the smallest up, then the full resolution; under a temporary name, renamed
// when complete. The georeferencing tags (GeoKeys, pixel scale and tie point, GDAL's metadata and
// nodata) are those GDAL writes for the same grid, copied from a one-pixel GeoTIFF it makes in memory.
// Classic TIFF unless the file needs more than 4 GiB (BigTIFF), or BIGTIFF=YES.
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "codec/overview_pyramid.hpp"
#include "codec/tile_codec.hpp"
#include "core/cancel.hpp"
#include "core/grid.hpp"
#include "io/raster_output.hpp"

namespace sco::io {

enum class BigTiff { kNo, kYes, kIfNeeded };

struct CogOptions {
  codec::TileEncoding encoding;
  codec::Resampling resampling = codec::Resampling::kAverage;
  bool overviews = true;
  BigTiff bigtiff = BigTiff::kIfNeeded;
};

// sco's COG options for `spec` (its type and --co list). Unknown keys and values fail with one line
// naming them (kInvalidInput). Returns false when a codec or resampling only GDAL's COG driver has
// is asked for (LZW, JPEG, WEBP, LERC, MODE, CUBIC...): the caller writes through GDAL then.
bool native_cog_options(const OutputSpec& spec, CogOptions* out);

class CogWriter {
 public:
  CogWriter(OutputSpec spec, const core::Grid& grid, const CogOptions& options);
  ~CogWriter();
  CogWriter(const CogWriter&) = delete;
  CogWriter& operator=(const CogWriter&) = delete;

  int tile() const { return options_.encoding.tile_width; }
  const codec::TileEncoding& encoding() const { return options_.encoding; }

  // The full-resolution tile `index` (row-major), encoded by the caller, with its pixels (a whole
  // padded tile): in index order, one caller at a time.
  void put_full(std::int64_t index, const std::vector<std::uint8_t>& encoded, const std::byte* pixels);
  // Encodes one overview tile waiting for it, if any, with the caller's encoder (any thread).
  bool encode_waiting(codec::TileEncoder& encoder, std::vector<std::uint8_t>& scratch);
  // Encodes what waits with `threads` threads, lays the file out and renames it to its path.
  void commit(int threads, const core::CancelToken* cancel);

 private:
  struct Stored {
    std::uint64_t offset = 0;  // in its spill file, of the data (after the leader)
    std::uint32_t size = 0;
  };
  struct Waiting {
    int level;
    std::int64_t index;
    std::vector<std::byte> pixels;
  };
  void write_layout();
  void append_overviews(std::vector<std::uint8_t>& head, std::size_t head_size, int fd);

  OutputSpec spec_;
  core::Grid grid_;
  CogOptions options_;
  std::unique_ptr<codec::OverviewPyramid> pyramid_;
  std::vector<std::vector<Stored>> stored_;  // [level][tile]
  std::string full_path_, overview_path_, final_tmp_path_;
  int full_fd_ = -1, overview_fd_ = -1;
  std::uint64_t full_end_ = 0;
  std::atomic<std::uint64_t> overview_end_{0};
  std::mutex waiting_mutex_;
  std::deque<Waiting> waiting_;
  bool committed_ = false;
};

}  // namespace sco::io
