#include <gtest/gtest.h>

#include <gdal_priv.h>
#include <ogr_spatialref.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/error.hpp"
#include "core/ranks.hpp"
#include "io/gdal_session.hpp"
#include "io/in_place_tiff.hpp"
#include "support/temp_dir.hpp"

using namespace sco;

namespace {

constexpr int kW = 1100, kH = 700, kTile = 256;  // 5 x 3 tiles, the last column and row padded
constexpr float kNodata = -9999.0f;

core::Grid grid() {
  core::Grid g;
  g.width = kW;
  g.height = kH;
  g.transform = {500000, 10, 0, 4600000, 0, -10};
  OGRSpatialReference srs;
  srs.importFromEPSG(32631);
  char* wkt = nullptr;
  srs.exportToWkt(&wkt);
  g.crs_wkt = wkt;
  CPLFree(wkt);
  return g;
}

float value(int x, int y) { return static_cast<float>(x) * 0.5f + static_cast<float>(y) * 1000.0f; }

io::OutputSpec spec(const std::string& path, std::vector<std::string> options = {}) {
  io::OutputSpec s;
  s.path = path;
  s.type = core::DataType::kFloat32;
  s.nodata = kNodata;
  s.format = io::OutputFormat::kGTiff;
  s.creation_options = std::move(options);
  s.metadata = {{"SCO_EXPRESSION", "a + b"}};
  return s;
}

// Tile `index` of the pattern, padded with nodata past the grid's edge.
std::vector<float> tile(std::int64_t index) {
  const int across = (kW + kTile - 1) / kTile;
  const int x0 = static_cast<int>(index % across) * kTile, y0 = static_cast<int>(index / across) * kTile;
  std::vector<float> t(static_cast<std::size_t>(kTile) * kTile, kNodata);
  for (int y = y0; y < std::min(kH, y0 + kTile); ++y) {
    for (int x = x0; x < std::min(kW, x0 + kTile); ++x) t[static_cast<std::size_t>(y - y0) * kTile + (x - x0)] = value(x, y);
  }
  return t;
}

// Writes every tile of the pattern in `order` from `threads` threads, then commits.
void write_file(io::InPlaceTiff& f, const std::vector<std::int64_t>& order, int threads) {
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (std::size_t k = static_cast<std::size_t>(t); k < order.size(); k += static_cast<std::size_t>(threads)) {
        f.put(order[k], reinterpret_cast<const std::byte*>(tile(order[k]).data()));
      }
    });
  }
  for (auto& p : pool) p.join();
  f.commit();
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::int64_t> tiles_in_order() {
  std::vector<std::int64_t> v(15);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::int64_t>(i);
  return v;
}

}  // namespace

TEST(InPlaceTiff, TilesPutInAnyOrderByAnyThreadMakeAGeoTiffGdalReads) {
  test::TempDir dir;
  auto reversed = tiles_in_order();
  std::reverse(reversed.begin(), reversed.end());
  {
    io::InPlaceTiff f(spec(dir.file("rev.tif")), grid(), kTile);
    EXPECT_EQ(f.tile_width(), kTile);
    write_file(f, reversed, 3);
  }
  {
    io::InPlaceTiff f(spec(dir.file("ord.tif")), grid(), kTile);
    write_file(f, tiles_in_order(), 1);
  }
  EXPECT_EQ(slurp(dir.file("rev.tif")), slurp(dir.file("ord.tif")));  // the tiles' places do not depend on the order

  io::init_gdal();
  auto* ds = static_cast<GDALDataset*>(GDALOpen(dir.file("rev.tif").c_str(), GA_ReadOnly));
  ASSERT_NE(ds, nullptr);
  GDALRasterBand* b = ds->GetRasterBand(1);
  int bw = 0, bh = 0;
  b->GetBlockSize(&bw, &bh);
  EXPECT_EQ(bw, kTile);
  EXPECT_EQ(bh, kTile);
  EXPECT_EQ(ds->GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE"), nullptr);
  EXPECT_STREQ(ds->GetMetadataItem("SCO_EXPRESSION"), "a + b");
  EXPECT_EQ(b->GetNoDataValue(), kNodata);
  double t[6];
  ds->GetGeoTransform(t);
  EXPECT_EQ(t[0], 500000);
  EXPECT_EQ(t[5], -10);
  EXPECT_STREQ(ds->GetSpatialRef()->GetAuthorityCode(nullptr), "32631");
  std::vector<float> v(static_cast<std::size_t>(kW) * kH);
  ASSERT_EQ(b->RasterIO(GF_Read, 0, 0, kW, kH, v.data(), kW, kH, GDT_Float32, 0, 0), CE_None);
  for (int y = 0; y < kH; ++y) {
    for (int x = 0; x < kW; ++x) ASSERT_EQ(v[static_cast<std::size_t>(y) * kW + x], value(x, y)) << x << "," << y;
  }
  // Tiles row-major from a 4 KiB boundary after GDAL's header and IFD, one whole tile each.
  const std::uint64_t tile_bytes = kTile * kTile * 4;
  const std::uint64_t base = std::stoull(b->GetMetadataItem("BLOCK_OFFSET_0_0", "TIFF"));
  EXPECT_EQ(base % 4096, 0u);
  EXPECT_LE(base, 8192u);
  EXPECT_EQ(std::stoull(b->GetMetadataItem("BLOCK_OFFSET_4_2", "TIFF")), base + 14 * tile_bytes);
  EXPECT_EQ(std::stoull(b->GetMetadataItem("BLOCK_SIZE_1_1", "TIFF")), tile_bytes);
  GDALClose(ds);
  EXPECT_EQ(std::filesystem::file_size(dir.file("rev.tif")), base + 15 * tile_bytes);
  auto files = dir.files();
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"ord.tif", "rev.tif"}));  // no staging file left
}

TEST(InPlaceTiff, BigTiffKeepsItsOffsetsInEightBytes) {
  test::TempDir dir;
  {
    io::InPlaceTiff f(spec(dir.file("big.tif"), {"BIGTIFF=YES"}), grid(), kTile);
    write_file(f, tiles_in_order(), 2);
  }
  const std::string bytes = slurp(dir.file("big.tif"));
  ASSERT_GE(bytes.size(), 4u);
  EXPECT_EQ(bytes.substr(0, 4), std::string("II+\0", 4));  // BigTIFF's magic number, 43
  auto* ds = static_cast<GDALDataset*>(GDALOpen(dir.file("big.tif").c_str(), GA_ReadOnly));
  ASSERT_NE(ds, nullptr);
  float px = 0;
  ASSERT_EQ(ds->GetRasterBand(1)->RasterIO(GF_Read, 1099, 699, 1, 1, &px, 1, 1, GDT_Float32, 0, 0), CE_None);
  EXPECT_EQ(px, value(1099, 699));
  GDALClose(ds);
}

TEST(InPlaceTiff, OtherRanksJoinOnlyTheVeryFileAndAnUncommittedFileIsRemoved) {
  test::TempDir dir;
  {
    io::InPlaceTiff f(spec(dir.file("o.tif")), grid(), kTile);
    const std::vector<std::byte> shared = f.share();
    auto joined = io::InPlaceTiff::join(spec(dir.file("o.tif")), shared);
    ASSERT_NE(joined, nullptr);
    EXPECT_EQ(joined->tile_height(), kTile);
    joined->put(3, reinterpret_cast<const std::byte*>(tile(3).data()));
    // Another file under that name (another host's folder of the same path): not joined.
    core::ByteReader r(shared);
    const std::string staging = r.get_string();
    std::vector<std::byte> other = shared;
    const std::size_t ino_at = 8 + staging.size() + 8;  // after the path (length and bytes) and the device
    other[ino_at] ^= std::byte{1};
    EXPECT_EQ(io::InPlaceTiff::join(spec(dir.file("o.tif")), other), nullptr);
    EXPECT_EQ(dir.files().size(), 1u);  // the staging file, hidden, until committed
  }
  EXPECT_TRUE(dir.files().empty());  // not committed: removed
}

TEST(InPlaceTiff, SuitsOnlyUncompressedOneBandGeoTiffs) {
  EXPECT_TRUE(io::InPlaceTiff::suits(spec("a.tif")));
  EXPECT_TRUE(io::InPlaceTiff::suits(spec("a.tif", {"compress=none", "BIGTIFF=YES"})));
  EXPECT_FALSE(io::InPlaceTiff::suits(spec("a.tif", {"COMPRESS=DEFLATE"})));
  EXPECT_FALSE(io::InPlaceTiff::suits(spec("a.tif", {"PHOTOMETRIC=MINISBLACK"})));
  io::OutputSpec two = spec("a.tif");
  two.bands = 2;
  EXPECT_FALSE(io::InPlaceTiff::suits(two));
  io::OutputSpec cog = spec("a.tif");
  cog.format = io::OutputFormat::kCog;
  EXPECT_FALSE(io::InPlaceTiff::suits(cog));
}

TEST(InPlaceTiff, AFileTooLargeForClassicTiffSaysSoAndLeavesNothing) {
  test::TempDir dir;
  core::Grid big = grid();
  big.width = 40000;
  big.height = 30000;  // 4.8 GB of Float32
  try {
    io::InPlaceTiff f(spec(dir.file("big.tif"), {"BIGTIFF=NO"}), big, kTile);
    FAIL() << "no error";
  } catch (const core::Error& e) {
    std::string why = e.what();  // GDAL's refusal, or sco's own check past GDAL's estimate: both name BigTIFF
    std::transform(why.begin(), why.end(), why.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    EXPECT_NE(why.find("bigtiff"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(dir.file("big.tif")), std::string::npos) << e.what();
  }
  EXPECT_TRUE(dir.files().empty());  // no staging file left
}
