#pragma once
// Reads of the blocks of an uncompressed GeoTIFF band straight from the file, shared by every
// thread's reader of the process, in one of two ways:
//   - mapped: the file is memory-mapped once and a block is a pointer into the mapping (no copy out
//     of the page cache);
//   - copied: a block is read by `pread` into a buffer the first time any reader asks for it and
//     handed to every later asker, until released. Each block of the file is then read once per
//     pass however many threads' zones share it (through GDAL, each thread's handle kept its own
//     copy: a 5 GB, 12-date stack was read as 7.1 GB), into recycled buffers (no page faults for
//     fresh memory on every block).
// Which of the two is faster depends on the host (see mapping_pays).
//
// Only for blocks that are stored as they are used: the GTiff driver, no compression (hence no
// predictor), whole bytes per sample (no NBITS), one band per block (INTERLEAVE=BAND or a single
// band), a little-endian file on a little-endian host. Anything else, or a block the file does not
// store (sparse files) or stores short, returns nullptr and the caller reads through GDAL.
// Mapped blocks start at the file's offsets, so their values may be unaligned: read them through
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
class CopiedFile;

// How MappedBand gets a block's bytes: a pointer into a shared mapping, or a shared copy.
enum class BlockAccess { kMap, kCopy };

// Whether this process reads uncompressed blocks through a memory map (BlockAccess::kMap) or copies
// them out of the page cache (BlockAccess::kCopy). Which is faster depends on the host, not on sco: what a page
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
  // while this object is used (block offsets are looked up through it, lazily), from one thread;
  // several objects (one per thread) may read one file at once and share its blocks.
  static std::unique_ptr<MappedBand> open(const RasterDataset& dataset, int band, BlockAccess access = BlockAccess::kMap);
  ~MappedBand();

  // The first byte of block (bx, by), laid out block_width values per row; nullptr when the file
  // does not hold the block whole (or, copied, cannot be read).
  const std::byte* block(int bx, int by);
  // Lets go of the blocks of this band that lie wholly above row `y`: mapped, their pages are
  // unmapped from this process (they stay in the page cache; a later read maps them again), since
  // the mapping would otherwise count the whole file in the resident memory of one pass over it;
  // copied, their buffers go back to the pool (a later read copies them again). Affects every reader
  // of the file: call it only while no reader of the file uses a block of the band above `y`.
  // A `y` above the rows already let go of starts a new pass from there: the blocks read again below
  // it are let go of as the new pass moves on (blocks not held are skipped).
  void release_above(int y);
  // Copied: lets go of the blocks of this band wholly left of column `x` in the block rows that
  // meet rows [y0, y1) (mapped, nothing: their pages go with release_above). Same rule as
  // release_above.
  void release_left_of(int x, int y0, int y1);

 private:
  MappedBand() = default;
  std::int64_t offset_of(int bx, int by);  // the block's file offset, or -2 when not usable
  std::shared_ptr<const MappedFile> file_;  // mapped
  std::shared_ptr<CopiedFile> copies_;       // copied
  std::size_t file_size_ = 0;
  GDALRasterBand* band_ = nullptr;
  int blocks_x_ = 0, blocks_y_ = 0, block_width_ = 0, block_height_ = 0, height_ = 0;
  std::size_t elem_ = 0;
  std::vector<std::int64_t> offsets_;  // per block: -1 not looked up yet, -2 not usable
  int released_rows_ = 0;              // block rows released so far
  std::vector<int> released_cols_;     // copied: per block row, block columns released so far
};

}  // namespace sco::io
