#pragma once
// A plain tiled GeoTIFF, uncompressed, whose tiles are written in place: every tile's offset is fixed
// when the file is made, so that any thread, and any rank of a split run on the same host (it opens
// the same staging file), writes its tiles where they belong, in any order, straight into the page
// cache: no copy through GDAL's block cache, and under mpirun no pixels sent to rank 0 to write.
//
// GDAL makes the header, the georeferencing tags and the IFD of a sparse file (SPARSE_OK: no tile
// written); the tiles follow GDAL's bytes from the next 4 KiB boundary, row-major, each a whole
// tile (edge tiles padded, as GDAL writes them); `commit` fills the tile offset and byte count
// arrays GDAL left at zero and renames the file. Under its temporary name until then, removed if the
// run fails.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/grid.hpp"
#include "io/raster_output.hpp"

namespace sco::io {

class InPlaceTiff {
 public:
  // The outputs it writes: GTiff, one band, no creation option besides COMPRESS=NONE, TILED=YES and
  // BIGTIFF (compression and band interleaving are GDAL's to do).
  static bool suits(const OutputSpec& spec);
  // Makes the staging file. `block`: the tile size (GDAL's block size is read back).
  InPlaceTiff(const OutputSpec& spec, const core::Grid& grid, int block);
  ~InPlaceTiff();
  InPlaceTiff(const InPlaceTiff&) = delete;
  InPlaceTiff& operator=(const InPlaceTiff&) = delete;

  // What another rank needs to write into this file (for `join`).
  std::vector<std::byte> share() const;
  // Another rank's writer into the file `shared` describes; null when this rank does not see that
  // very file (another host, or a file system that is not shared): it sends its windows to rank 0.
  static std::unique_ptr<InPlaceTiff> join(const OutputSpec& spec, std::span<const std::byte> shared);

  int tile_width() const { return tile_w_; }
  int tile_height() const { return tile_h_; }
  // Tile `index` (row-major): a whole tile of pixels, edge tiles padded. Any thread, any order.
  void put(std::int64_t index, const std::byte* pixels);
  // The file's creator, every tile written: the tile arrays filled in, the file renamed to its path.
  void commit();

  // Where one of the IFD's arrays keeps its values (TIFF type 3, 4 or 16: SHORT, LONG, LONG8).
  struct Array {
    std::uint64_t at = 0;
    int type = 0;
    std::uint64_t count = 0;
  };

 private:
  InPlaceTiff(const OutputSpec& spec) : spec_(spec) {}
  // After GDAL made the staging file: finds its tile arrays, places the tiles, sizes the file.
  void lay_out(const core::Grid& grid);
  void fill_array(const Array& a, std::uint64_t first, std::uint64_t step);

  OutputSpec spec_;
  std::string staging_path_;
  int fd_ = -1;
  bool owner_ = false, committed_ = false;
  int tile_w_ = 0, tile_h_ = 0;
  std::int64_t tiles_ = 0;
  std::uint64_t tile_bytes_ = 0, base_ = 0;
  Array offsets_, counts_;
};

}  // namespace sco::io
