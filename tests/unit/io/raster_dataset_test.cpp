#include <gtest/gtest.h>

#include <gdal_priv.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

#include "core/error.hpp"
#include "io/gdal_session.hpp"
#include "io/raster_dataset.hpp"
#include "io/time_axis.hpp"

#include <ogr_spatialref.h>
#include "support/temp_dir.hpp"

using namespace sco;

namespace {
core::ErrorCode code_of(const std::function<void()>& f, std::string* msg = nullptr) {
  try {
    f();
  } catch (const core::Error& e) {
    if (msg) *msg = e.what();
    return e.code();
  }
  ADD_FAILURE() << "no error";
  return core::ErrorCode::kInternal;
}
const std::string kScene = std::string(SCO_SAMPLE_DIR) + "/L7_ETMs.tif";
}  // namespace

TEST(BandRef, ParsesTrailingBandNumber) {
  EXPECT_EQ(io::parse_band_ref("a.tif").band, 1);
  EXPECT_EQ(io::parse_band_ref("a.tif:4").band, 4);
  EXPECT_EQ(io::parse_band_ref("a.tif:4").path, "a.tif");
  EXPECT_EQ(io::parse_band_ref("dir/x:y.tif").path, "dir/x:y.tif");
  // GDAL subdataset names keep their colons.
  EXPECT_EQ(io::parse_band_ref("NETCDF:\"f.nc\":tas").path, "NETCDF:\"f.nc\":tas");
  EXPECT_EQ(io::parse_band_ref("NETCDF:\"f.nc\":tas:3").band, 3);
  EXPECT_THROW(io::parse_band_ref("a.tif:0"), core::Error);
}

TEST(RasterDataset, RealLandsatScene) {
  const auto ds = io::RasterDataset::open(kScene);
  const core::Grid g = ds.grid();
  EXPECT_EQ(g.width, 349);
  EXPECT_EQ(g.height, 352);
  EXPECT_DOUBLE_EQ(g.transform[0], 288776.250000803149305);
  EXPECT_NEAR(g.transform[1], 28.5, 1e-6);
  EXPECT_EQ(io::crs_label(g.crs_wkt), "EPSG:31985");
  EXPECT_EQ(ds.band_count(), 6);
  const io::BandInfo b = ds.band(4);
  EXPECT_EQ(b.type, core::DataType::kByte);
  EXPECT_EQ(b.block_width, 349);
  EXPECT_EQ(b.block_height, 3);
  EXPECT_FALSE(b.nodata.has_value());
  std::string msg;
  EXPECT_EQ(code_of([&] { ds.band(7); }, &msg), core::ErrorCode::kNotFound);
  EXPECT_NE(msg.find("has 6 bands; band 7 does not exist"), std::string::npos) << msg;
}

TEST(RasterDataset, ClearErrorsForBadFiles) {
  test::TempDir dir;
  std::string msg;
  EXPECT_EQ(code_of([&] { io::RasterDataset::open(dir.file("nope.tif")); }, &msg), core::ErrorCode::kNotFound);
  EXPECT_NE(msg.find("file not found: " + dir.file("nope.tif")), std::string::npos) << msg;
  std::ofstream(dir.file("text.tif")) << "this is not a raster\n";
  EXPECT_EQ(code_of([&] { io::RasterDataset::open(dir.file("text.tif")); }, &msg), core::ErrorCode::kInvalidInput);
  EXPECT_NE(msg.find("cannot open '" + dir.file("text.tif") + "' as a raster"), std::string::npos) << msg;
  // The NetCDF sample holds two variables: the error lists them.
  EXPECT_EQ(code_of([&] { io::RasterDataset::open(std::string(SCO_SAMPLE_DIR) + "/bcsd_obs_1999.nc"); }, &msg),
            core::ErrorCode::kInvalidInput);
  EXPECT_NE(msg.find(":pr"), std::string::npos) << msg;
  EXPECT_NE(msg.find(":tas"), std::string::npos) << msg;
}

TEST(RasterDataset, SameCrsIgnoresDefinitionStyle) {
  const auto ds = io::RasterDataset::open(kScene);
  const std::string wkt = ds.grid().crs_wkt;
  OGRSpatialReference srs;
  srs.importFromEPSG(31985);
  char* other = nullptr;
  srs.exportToWkt(&other);  // WKT1, a different text for the same CRS
  EXPECT_TRUE(io::same_crs(wkt, other));
  CPLFree(other);
  srs.importFromEPSG(31984);
  srs.exportToWkt(&other);
  EXPECT_FALSE(io::same_crs(wkt, other));
  CPLFree(other);
}

TEST(TimeAxis, RealClimateGridIsTwelveMonthEnds1999) {
  // bcsd_obs_1999.nc: "days since 1950-01-01 00:00:00", standard calendar. 1950-01-01 to
  // 1999-01-01 is 49 * 365 + 12 leap days = 17897 days, so 17927 is 1999-01-31 and 18261 is
  // 1999-12-31.
  const auto ds = io::RasterDataset::open("NETCDF:\"" + std::string(SCO_SAMPLE_DIR) + "/bcsd_obs_1999.nc\":tas");
  const io::TimeAxis axis = io::read_time_axis(ds);
  ASSERT_EQ(axis.values.size(), 12u);
  EXPECT_EQ(ds.band_count(), 12);
  EXPECT_EQ(axis.units, "days since 1950-01-01 00:00:00");
  EXPECT_EQ(axis.dates.front().iso(), "1999-01-31T00:00:00Z");
  EXPECT_EQ(axis.dates[1].iso(), "1999-02-28T00:00:00Z");
  EXPECT_EQ(axis.dates.back().iso(), "1999-12-31T00:00:00Z");
  // A GeoTIFF has no time axis.
  EXPECT_THROW(io::read_time_axis(io::RasterDataset::open(kScene)), core::Error);
}

// A GeoTIFF whose geographic CRS key holds the EPSG code of a geocentric CRS (4342, EST97) made PROJ
// 9.1 crash building the transformation to WGS 84 (found by fuzz_raster_metadata): refused on opening.
namespace {
// A 4 x 3 Byte GeoTIFF in `wkt` (whose geographic key may hold another kind's EPSG code).
void write_tiny_geotiff(const std::string& path, const char* wkt) {
  sco::io::init_gdal();
  GDALDataset* ds = GetGDALDriverManager()->GetDriverByName("GTiff")->Create(path.c_str(), 4, 3, 1, GDT_Byte, nullptr);
  double gt[6] = {24.0, 0.01, 0, 59.0, 0, -0.01};
  ds->SetGeoTransform(gt);
  OGRSpatialReference srs;
  srs.importFromWkt(wkt);
  ds->SetSpatialRef(&srs);
  GDALClose(ds);
}
const char* kEst97Geocentric =
    R"wkt(GEOGCS["EST97 (geocentric)",DATUM["Estonia_1997",SPHEROID["GRS 1980",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4342"]])wkt";
}  // namespace

TEST(RasterDataset, RefusesACrsNamingAnotherKindsEpsgCode) {
  sco::test::TempDir dir;
  const std::string path = dir.file("est97.tif");
  write_tiny_geotiff(path, kEst97Geocentric);
  try {
    sco::io::RasterDataset::open(path);
    FAIL() << "the file must be refused";
  } catch (const sco::core::Error& e) {
    EXPECT_EQ(e.code(), sco::core::ErrorCode::kInvalidInput);
    EXPECT_NE(std::string(e.what()).find("names EPSG:4342, a geocentric CRS, for a geographic one"), std::string::npos) << e.what();
  }
}

// The check is made once per settled file and process; a file rewritten in place (same path, maybe the
// same size and inode) is checked again, however soon.
TEST(RasterDataset, AFileRewrittenAfterItsCheckIsCheckedAgain) {
  sco::test::TempDir dir;
  const std::string path = dir.file("f.tif");
  write_tiny_geotiff(path, SRS_WKT_WGS84_LAT_LONG);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));  // settled: its check is kept
  EXPECT_NO_THROW(sco::io::RasterDataset::open(path));
  EXPECT_NO_THROW(sco::io::RasterDataset::open(path));
  {
    write_tiny_geotiff(dir.file("bad.tif"), kEst97Geocentric);
    std::ifstream bad(dir.file("bad.tif"), std::ios::binary);
    const std::string bad_bytes((std::istreambuf_iterator<char>(bad)), std::istreambuf_iterator<char>());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bad_bytes;  // in place: the same inode
  }
  EXPECT_THROW(sco::io::RasterDataset::open(path), sco::core::Error);
}
