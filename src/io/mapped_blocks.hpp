#pragma once
// Zero-copy reads of the blocks of an uncompressed GeoTIFF band. The file is memory-mapped once per
// process (shared by every thread's reader) and a block is a pointer into the mapping: no copy out of
// the page cache, which on a large stack costs as much as the statistics themselves (a 5 GB,
// 12-date stack: 1.8 CPU-s of `read` copies, 0.3 s through the mapping).
//
// Only for blocks that are stored as they are used: the GTiff driver, no compression (hence no
// predictor), whole bytes per sample (no NBITS), one band per block (INTERLEAVE=BAND or a single
// band), a little-endian file on a little-endian host. Anything else, or a block the file does not
// store (sparse files) or stores short, returns nullptr and the caller reads through GDAL.
// Blocks start at the file's offsets, so their values may be unaligned: read them through
// core::Unaligned<T>. As with any memory-mapped reader, a file truncated by another process while it
// is being read ends this one (SIGBUS); files replaced by rename, as sco writes them, are safe.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/raster_dataset.hpp"

namespace sco::io {

class MappedFile;

// Whether this process reads uncompressed blocks through a memory map (MappedBand) or copies them
// out of the page cache through GDAL. Which is faster depends on the host, not on sco: what a page
// fault costs varies several-fold between virtual machines of one kind (measured on two: mapped
// 18 GB/s against 5.9 GB/s copied on one, 2.2 GB/s against 13 GB/s on another). So it is measured,
// once per process, on the first file of at least 1 MiB asked about: its first 4 MiB read both
// ways, best of three each (smaller files asked about before are mapped). SCO_MMAP=1 or 0 sets
// it instead (SCO_NO_MMAP=1 is SCO_MMAP=0). Either way the values read are the same; only the
// speed differs.
bool mapping_pays(const std::string& path);

class MappedBand {
 public:
  // nullptr when the band's blocks cannot be read straight from the file. `band` must stay open
  // while this object is used (block offsets are looked up through it, lazily), from one thread.
  static std::unique_ptr<MappedBand> open(const RasterDataset& dataset, int band);
  ~MappedBand();

  // The first byte of block (bx, by), laid out block_width values per row; nullptr when the file
  // does not hold the block whole.
  const std::byte* block(int bx, int by);
  // Unmaps from this process the pages of the blocks that lie wholly above row `y` (they stay in
  // the page cache; a later read maps them again): the mapping would otherwise count the whole
  // file in the resident memory of one pass over it. Affects every reader of the file.
  void release_above(int y);

 private:
  MappedBand() = default;
  std::int64_t offset_of(int bx, int by);  // the block's file offset, or -2 when not usable
  std::shared_ptr<const MappedFile> file_;
  GDALRasterBand* band_ = nullptr;
  int blocks_x_ = 0, blocks_y_ = 0, block_width_ = 0, block_height_ = 0, height_ = 0;
  std::size_t elem_ = 0;
  std::vector<std::int64_t> offsets_;  // per block: -1 not looked up yet, -2 not usable
  int released_rows_ = 0;              // block rows released so far
};

}  // namespace sco::io
