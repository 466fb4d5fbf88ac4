#include "io/mapped_blocks.hpp"

#include <gdal_priv.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/block.hpp"
#include "io/gdal_band_reader.hpp"
#include "io/gdal_session.hpp"
#include "io/raster_dataset.hpp"
#include "support/temp_dir.hpp"

using namespace sco;

namespace {

constexpr int kW = 150, kH = 130, kBlock = 64;

// Element i of a block or view, which may sit at any byte of the file (read as the kernels do).
float at(const void* p, std::size_t i) { return static_cast<const core::Unaligned<float>*>(p)[i]; }

// The value written at (x, y) of band b: distinct everywhere, so a wrong offset shows.
float value_at(int b, int x, int y) { return static_cast<float>(b * 100000 + y * 1000 + x) + 0.25f; }

// A Float32 GeoTIFF with 64 x 64 tiles (or strips of 7 rows when `tiled` is false) and the given
// creation options; with `skip_block`, the tile (1, 1) of band 1 is never written (sparse files).
void write_tiff(const std::string& path, int bands, std::vector<std::string> options, bool tiled = true, bool skip_block = false) {
  io::init_gdal();
  if (tiled) {
    options.push_back("TILED=YES");
    options.push_back("BLOCKXSIZE=64");
    options.push_back("BLOCKYSIZE=64");
  } else {
    options.push_back("BLOCKYSIZE=7");
  }
  std::vector<const char*> argv;
  for (const auto& o : options) argv.push_back(o.c_str());
  argv.push_back(nullptr);
  GDALDriver* drv = GetGDALDriverManager()->GetDriverByName("GTiff");
  GDALDataset* ds = drv->Create(path.c_str(), kW, kH, bands, GDT_Float32, const_cast<char**>(argv.data()));
  ASSERT_NE(ds, nullptr);
  for (int b = 1; b <= bands; ++b) {
    GDALRasterBand* band = ds->GetRasterBand(b);
    if (skip_block) {
      // Only the blocks other than (1, 1): the file then stores no data for that tile.
      for (int by = 0; by * kBlock < kH; ++by) {
        for (int bx = 0; bx * kBlock < kW; ++bx) {
          if (b == 1 && bx == 1 && by == 1) continue;
          std::vector<float> block(static_cast<std::size_t>(kBlock) * kBlock, 0.0f);
          for (int y = 0; y < kBlock; ++y) {
            for (int x = 0; x < kBlock; ++x) {
              block[static_cast<std::size_t>(y) * kBlock + x] = value_at(b, bx * kBlock + x, by * kBlock + y);
            }
          }
          ASSERT_EQ(band->WriteBlock(bx, by, block.data()), CE_None);
        }
      }
      continue;
    }
    std::vector<float> data(static_cast<std::size_t>(kW) * kH);
    for (int y = 0; y < kH; ++y) {
      for (int x = 0; x < kW; ++x) data[static_cast<std::size_t>(y) * kW + x] = value_at(b, x, y);
    }
    ASSERT_EQ(band->RasterIO(GF_Write, 0, 0, kW, kH, data.data(), kW, kH, GDT_Float32, 0, 0, nullptr), CE_None);
  }
  GDALClose(ds);
}

// Sets an environment variable for the scope of a test, then restores it.
class EnvSetting {
 public:
  EnvSetting(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~EnvSetting() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  EnvSetting(const EnvSetting&) = delete;
  EnvSetting& operator=(const EnvSetting&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST(MappedBand, BlocksOfAnUncompressedBandInterleavedTiffAreTheFileBytes) {
  test::TempDir dir;
  const std::string path = dir.file("plain.tif");
  write_tiff(path, 2, {"INTERLEAVE=BAND"});
  const auto ds = io::RasterDataset::open(path);
  for (int b = 1; b <= 4; ++b) {
    const int band = (b + 1) / 2;  // each band mapped, then copied
    const auto access = b % 2 == 1 ? io::BlockAccess::kMap : io::BlockAccess::kCopy;
    auto m = io::MappedBand::open(ds, band, access);
    ASSERT_NE(m, nullptr);
    for (int by = 0; by < 3; ++by) {
      for (int bx = 0; bx < 3; ++bx) {
        const std::byte* block = m->block(bx, by);
        ASSERT_NE(block, nullptr);
        // Every cell inside the raster, at its place in the 64-wide block.
        for (int y = 0; y < kBlock && by * kBlock + y < kH; ++y) {
          for (int x = 0; x < kBlock && bx * kBlock + x < kW; ++x) {
            ASSERT_EQ(at(block, static_cast<std::size_t>(y) * kBlock + x), value_at(band, bx * kBlock + x, by * kBlock + y)) << bx << "," << by;
          }
        }
      }
    }
    EXPECT_EQ(m->block(3, 0), nullptr);  // past the last block column
    // Released pages are mapped (or copied) again on the next read.
    m->release_above(kH);
    EXPECT_EQ(at(m->block(2, 2), 0), value_at(band, 128, 128));
  }
}

TEST(MappedBand, StripsIncludingAShortLastOne) {
  test::TempDir dir;
  const std::string path = dir.file("strips.tif");
  write_tiff(path, 1, {}, false);
  const auto ds = io::RasterDataset::open(path);
  for (const auto access : {io::BlockAccess::kMap, io::BlockAccess::kCopy}) {
    auto m = io::MappedBand::open(ds, 1, access);
    ASSERT_NE(m, nullptr);
    // 130 rows in strips of 7: the 19th strip (index 18) holds rows 126..129 only.
    const std::byte* last = m->block(0, 18);
    ASSERT_NE(last, nullptr);
    EXPECT_EQ(at(last, 3 * kW + 149), value_at(1, 149, 129));
    EXPECT_EQ(at(m->block(0, 17), 6 * kW), value_at(1, 0, 125));
  }
}

TEST(MappedBand, CopiedBlocksAreReadOnceSharedByThreadsAndReleasedFromTheLeft) {
  test::TempDir dir;
  const std::string path = dir.file("shared.tif");
  write_tiff(path, 2, {"INTERLEAVE=BAND"});
  // Two readers of the file, each with its own GDAL handle, as two threads of `sco zonal` have.
  const auto ds1 = io::RasterDataset::open(path), ds2 = io::RasterDataset::open(path);
  auto a = io::MappedBand::open(ds1, 2, io::BlockAccess::kCopy);
  auto b = io::MappedBand::open(ds2, 2, io::BlockAccess::kCopy);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  // One copy of a block, whoever asks first.
  const std::byte* first = a->block(1, 0);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(b->block(1, 0), first);
  // Many times over every block from two threads at once: always the file's values.
  auto sweep = [&](io::MappedBand* m, int* wrong) {
    for (int round = 0; round < 50; ++round) {
      for (int by = 0; by < 3; ++by) {
        for (int bx = 0; bx < 3; ++bx) {
          const std::byte* block = m->block(bx, by);
          if (block == nullptr || at(block, 1 * kBlock + 7) != value_at(2, bx * kBlock + 7, by * kBlock + 1)) ++*wrong;
        }
      }
    }
  };
  int wrong_a = 0, wrong_b = 0;
  std::thread t(sweep, a.get(), &wrong_a);
  sweep(b.get(), &wrong_b);
  t.join();
  EXPECT_EQ(wrong_a + wrong_b, 0);
  // Columns left of x = 128 in block row 0 are let go: blocks (0, 0) and (1, 0), not (2, 0) nor row 1.
  const std::byte* kept = a->block(2, 0);
  const std::byte* kept_below = a->block(0, 1);
  a->release_left_of(128, 0, 64);
  EXPECT_EQ(b->block(2, 0), kept);
  EXPECT_EQ(b->block(0, 1), kept_below);
  // A released block is copied again on request, with the right values (into a recycled buffer).
  const std::byte* again = b->block(0, 0);
  ASSERT_NE(again, nullptr);
  EXPECT_NE(again, kept);
  EXPECT_EQ(at(again, 63 * kBlock + 63), value_at(2, 63, 63));
}

TEST(MappedBand, ASecondPassOverReleasedRowsReleasesWhatItReadsAgain) {
  // Under mpirun a rank may sweep bands twice (the whole zones of one range past its end, then the
  // next range): release_above with a smaller row starts a new pass, whose blocks are let go again.
  test::TempDir dir;
  const std::string path = dir.file("passes.tif");
  write_tiff(path, 1, {});
  const auto ds1 = io::RasterDataset::open(path), ds2 = io::RasterDataset::open(path);
  auto a = io::MappedBand::open(ds1, 1, io::BlockAccess::kCopy);
  auto b = io::MappedBand::open(ds2, 1, io::BlockAccess::kCopy);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_NE(a->block(0, 0), nullptr);
  ASSERT_NE(a->block(0, 1), nullptr);
  a->release_above(128);                 // first pass: block rows 0 and 1 let go (two buffers pooled)
  const std::byte* again = a->block(0, 1);  // the second pass reads row 1 again
  ASSERT_NE(again, nullptr);
  a->release_above(64);                  // ... from row 64
  a->release_above(128);                 // and is done with it: its copy goes back to the pool
  ASSERT_NE(a->block(2, 2), nullptr);    // takes that buffer
  const std::byte* fresh = b->block(0, 1);
  ASSERT_NE(fresh, nullptr);
  EXPECT_NE(fresh, again);  // copied anew: the second pass's copy was let go
  EXPECT_EQ(at(fresh, 5 * kBlock + 9), value_at(1, 9, 69));
}

TEST(MappedBand, FilesThatDoNotStoreValuesAsUsedAreLeftToGdal) {
  test::TempDir dir;
  const std::string deflate = dir.file("deflate.tif"), pixel = dir.file("pixel.tif"), big = dir.file("big.tif");
  write_tiff(deflate, 1, {"COMPRESS=DEFLATE"});
  write_tiff(pixel, 2, {"INTERLEAVE=PIXEL"});
  write_tiff(big, 1, {"ENDIANNESS=BIG"});
  EXPECT_EQ(io::MappedBand::open(io::RasterDataset::open(deflate), 1), nullptr);
  EXPECT_EQ(io::MappedBand::open(io::RasterDataset::open(pixel), 1), nullptr);
  EXPECT_EQ(io::MappedBand::open(io::RasterDataset::open(big), 1), nullptr);
}

TEST(MappedBand, ReaderGivesTheSameWindowsMappedOrThroughGdalIncludingAMissingBlock) {
  // A sparse file: tile (1, 1) of band 1 is not stored, so GDAL reads it as zeros (no nodata set);
  // the mapped reader must fall back to GDAL there and agree with RasterIO everywhere.
  test::TempDir dir;
  const std::string path = dir.file("sparse.tif");
  write_tiff(path, 2, {"INTERLEAVE=BAND", "SPARSE_OK=TRUE"}, true, true);
  const auto ds = io::RasterDataset::open(path);
  auto m = io::MappedBand::open(ds, 1);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->block(1, 1), nullptr);
  EXPECT_NE(m->block(0, 1), nullptr);
  // Both ways of reading, whichever this host's probe would pick.
  for (const char* mode : {"1", "0"}) {
    const EnvSetting force("SCO_MMAP", mode);
    ASSERT_EQ(io::mapping_pays(path), mode[0] == '1');
    auto reader = io::make_gdal_band_reader({{path, 1}, {path, 2}}, io::BandSpec{"", 1});
    for (const core::Window w :
         {core::Window{70, 70, 20, 30}, core::Window{3, 5, 40, 50}, core::Window{130, 120, 20, 10}, core::Window{60, 60, 10, 10}}) {
      for (int b = 0; b < 2; ++b) {
        const core::BlockView v = reader->read(b, w);
        std::vector<float> want(static_cast<std::size_t>(w.width) * w.height);
        ASSERT_EQ(ds.band_handle(b + 1)->RasterIO(GF_Read, w.x, w.y, w.width, w.height, want.data(), w.width, w.height, GDT_Float32, 0, 0, nullptr),
                  CE_None);
        for (int y = 0; y < w.height; ++y) {
          for (int x = 0; x < w.width; ++x) {
            ASSERT_EQ(at(v.row(y), static_cast<std::size_t>(x)), want[static_cast<std::size_t>(y) * w.width + x])
                << "band " << b + 1 << " window " << w.x << "," << w.y << " cell " << x << "," << y;
          }
        }
      }
    }
    // Cells of the missing tile read as GDAL gives them (zeros), not as the file's neighbouring bytes.
    const core::BlockView hole = reader->read(0, core::Window{70, 70, 20, 30});
    EXPECT_EQ(at(hole.row(0), 0), 0.0f);
  }
}

TEST(MappedBand, TheHostProbeAnswersAndTheEnvironmentOverridesIt) {
  // The probe's answer depends on the host (see mapped_blocks.hpp); it must give one, the same
  // every time in a process, and yield to SCO_MMAP and SCO_NO_MMAP.
  test::TempDir dir;
  const std::string path = dir.file("probe.bin");
  {
    std::ofstream out(path, std::ios::binary);
    const std::vector<char> bytes(std::size_t{6} << 20, 7);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  const EnvSetting no_force("SCO_MMAP", "");
  const EnvSetting no_off("SCO_NO_MMAP", "");
  const bool probed = io::mapping_pays(path);
  EXPECT_EQ(io::mapping_pays(path), probed);
  {
    const EnvSetting on("SCO_MMAP", "1");
    EXPECT_TRUE(io::mapping_pays(path));
    const EnvSetting off("SCO_NO_MMAP", "1");
    EXPECT_FALSE(io::mapping_pays(path));
  }
  const EnvSetting off("SCO_MMAP", "0");
  EXPECT_FALSE(io::mapping_pays(path));
}
