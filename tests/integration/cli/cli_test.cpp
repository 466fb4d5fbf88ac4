// The real `sco` binary on the real Landsat-7 sample (see data/manifest.tsv).
#include <gtest/gtest.h>

#include <gdal_priv.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "catalog/store.hpp"
#include "io/gdal_session.hpp"
#include "run_command.hpp"
#include "support/temp_dir.hpp"

using sco::test::run_sco;
using sco::test::TempDir;

namespace {

const std::string kScene = std::string(SCO_SAMPLE_DIR) + "/L7_ETMs.tif";

double pixel(const std::string& path, int x, int y) {
  sco::io::init_gdal();
  GDALDataset* ds = static_cast<GDALDataset*>(GDALOpen(path.c_str(), GA_ReadOnly));
  EXPECT_NE(ds, nullptr) << path;
  double v = std::nan("");
  if (ds) {
    EXPECT_EQ(ds->GetRasterBand(1)->RasterIO(GF_Read, x, y, 1, 1, &v, 1, 1, GDT_Float64, 0, 0), CE_None);
    GDALClose(ds);
  }
  return v;
}

// One line on standard error, starting "sco: error:", containing `fragment`, and a non-zero exit.
void expect_one_line_error(const sco::test::CommandResult& r, const std::string& fragment, int code) {
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_EQ(r.err.rfind("sco: error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
}

}  // namespace

// Pixel values of the scene (bands 1-6: blue, green, red, nir, swir1, swir2), read with
// `gdallocationinfo L7_ETMs.tif X Y`:
//   (100, 100): 61 47 37 67 71 35
//   (348, 351): 100 91 64 13 14 12   (the last row and column: an edge strip)
//   (200, 50):  73 63 58 86 100 57
struct IndexCase {
  const char* index;
  int x, y;
  double expected;
  const char* arithmetic;
  // Evaluation is in float32: 1e-6 absolute, except where a small denominator amplifies round-off.
  double tolerance = 1e-6;
};
void PrintTo(const IndexCase& c, std::ostream* os) { *os << c.index << " at (" << c.x << ", " << c.y << ")"; }

class IndexOnLandsat : public ::testing::TestWithParam<IndexCase> {};

TEST_P(IndexOnLandsat, MatchesHandComputedValue) {
  const IndexCase& c = GetParam();
  TempDir dir;
  const std::string out = dir.file(std::string(c.index) + ".tif");
  std::vector<std::string> args = {"-q", "index", c.index, "--input", kScene, "--sensor", "landsat7", "-o", out};
  if (std::string(c.index) == "evi" || std::string(c.index) == "savi") {
    args.insert(args.end(), {"--scale", "0.01"});  // DN/100 as reflectance, for the arithmetic
  }
  const auto r = run_sco(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(pixel(out, c.x, c.y), c.expected, c.tolerance) << c.arithmetic;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, IndexOnLandsat,
    ::testing::Values(
        IndexCase{"ndvi", 100, 100, 30.0 / 104.0, "(67-37)/(67+37) = 30/104"},
        IndexCase{"ndvi", 348, 351, -51.0 / 77.0, "(13-64)/(13+64) = -51/77"},
        IndexCase{"ndvi", 200, 50, 28.0 / 144.0, "(86-58)/(86+58) = 28/144"},
        IndexCase{"ndwi", 100, 100, -20.0 / 114.0, "(47-67)/(47+67)"},
        IndexCase{"mndwi", 100, 100, -24.0 / 118.0, "(47-71)/(47+71)"},
        IndexCase{"mndwi", 348, 351, 77.0 / 105.0, "(91-14)/(91+14): water"},
        IndexCase{"ndbi", 100, 100, 4.0 / 138.0, "(71-67)/(71+67)"},
        IndexCase{"nbr", 100, 100, 32.0 / 102.0, "(67-35)/(67+35): SWIR2 is band 6 of the 6-band stack"},
        IndexCase{"ndmi", 200, 50, -14.0 / 186.0, "(86-100)/(86+100)"},
        IndexCase{"savi", 100, 100, 1.5 * 0.30 / 1.54, "1.5*(0.67-0.37)/(0.67+0.37+0.5)"},
        IndexCase{"evi", 200, 50, 2.5 * 0.28 / (0.86 + 6 * 0.58 - 7.5 * 0.73 + 1),
                  "2.5*(0.86-0.58)/(0.86+6*0.58-7.5*0.73+1) = 0.7/-0.135: float32 terms near 3.5 carry ~4e-7 "
                  "of round-off, amplified 38x by the denominator",
                  5e-5}),
    [](const auto& param_info) { return std::string(param_info.param.index) + "_" + std::to_string(param_info.index); });

TEST(Calc, ExpressionOverNamedBands) {
  TempDir dir;
  const std::string out = dir.file("ratio.tif");
  const auto r = run_sco({"calc", "-i", "nir=" + kScene + ":4", "-i", "swir=" + kScene + ":5", "-e",
                          "where(nir > swir, nir / swir, 0)", "-o", out, "--type", "float64", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["width"], 349);
  EXPECT_EQ(j["type"], "float64");
  EXPECT_EQ(j["statistics"]["valid_fraction"], 1.0);
  EXPECT_NEAR(pixel(out, 100, 100), 0.0, 1e-12);          // 67 > 71 is false
  EXPECT_NEAR(pixel(out, 0, 0), 0.0, 1e-12);              // 79 > 86 is false
  EXPECT_NEAR(pixel(out, 348, 351), 0.0, 1e-12);          // 13 > 14 is false
}

TEST(Calc, ByteOutputWithNodataAndGTiff) {
  TempDir dir;
  const std::string out = dir.file("classes.tif");
  // Water where MNDWI > 0 (class 1), else 0; GTiff output keeps the input's 349 x 352 grid.
  const auto r = run_sco({"-q", "calc", "-i", "g=" + kScene + ":2", "-i", "s=" + kScene + ":5", "-e",
                          "(g - s) / (g + s) > 0", "-o", out, "--type", "byte", "--nodata", "255", "--format", "GTiff"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(pixel(out, 348, 351), 1.0);  // 91 vs 14: water
  EXPECT_EQ(pixel(out, 100, 100), 0.0);  // 47 vs 71: land
}

TEST(Info, JsonDescribesTheScene) {
  const auto r = run_sco({"info", kScene, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["width"], 349);
  EXPECT_EQ(j["height"], 352);
  EXPECT_EQ(j["band_count"], 6);
  EXPECT_EQ(j["crs"]["label"], "EPSG:31985");
  EXPECT_EQ(j["bands"][0]["type"], "byte");
  EXPECT_EQ(j["compression"], "DEFLATE");
  // Olinda, Brazil: about 34.9 W, 8.0 S.
  EXPECT_NEAR(j["bounds_wgs84"][0].get<double>(), -34.9166, 1e-3);
  EXPECT_NEAR(j["bounds_wgs84"][1].get<double>(), -8.0409, 1e-3);
}

TEST(Info, StatsMatchNumpy) {
  // Band 4 (NIR) statistics, computed independently with numpy:
  //   /usr/bin/python3 -c "from osgeo import gdal; a=gdal.Open('L7_ETMs.tif').GetRasterBand(4).ReadAsArray();
  //   print(a.min(), a.max(), a.mean())"  ->  9 255 59.23541286793436
  const auto r = run_sco({"info", kScene, "--stats", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto st = nlohmann::json::parse(r.out)["bands"][3]["statistics"];
  EXPECT_EQ(st["min"], 9.0);
  EXPECT_EQ(st["max"], 255.0);
  EXPECT_NEAR(st["mean"].get<double>(), 59.23541286793436, 1e-9);
}

TEST(Errors, OneClearLineAndNoOutputLeft) {
  TempDir dir;
  std::ofstream(dir.file("notes.tif")) << "not a raster";
  const std::string out = dir.file("o.tif");
  struct Case {
    std::vector<std::string> args;
    const char* fragment;
    int code;
  };
  const std::vector<Case> cases = {
      {{"calc", "-i", "a=" + dir.file("missing.tif"), "-e", "a", "-o", out}, "file not found", 3},
      {{"calc", "-i", "a=" + dir.file("notes.tif"), "-e", "a", "-o", out}, "cannot open", 2},
      {{"calc", "-i", "a=" + kScene + ":9", "-e", "a", "-o", out}, "has 6 bands; band 9 does not exist", 3},
      {{"calc", "-i", "a=" + kScene, "-e", "(a + ", "-o", out}, "invalid expression at column 6", 2},
      {{"calc", "-i", "a=" + kScene, "-e", "a + b", "-o", out}, "column 5: unknown input 'b'", 2},
      {{"calc", "-i", "a=" + kScene, "-i", "e=" + std::string(SCO_SAMPLE_DIR) + "/elev.tif", "-e", "a + e", "-o", out},
       "different grids", 2},
      {{"index", "ndsi", "--input", kScene, "--sensor", "landsat7", "-o", out}, "unknown index 'ndsi'", 2},
      {{"index", "ndvi", "--input", kScene, "--sensor", "spot5", "-o", out}, "unknown sensor 'spot5'", 2},
      {{"index", "ndvi", "--input", kScene, "--sensor", "sentinel2", "-o", out}, "has 6 bands; no sentinel2", 2},
      {{"index", "nbr", "--band", "nir=" + kScene + ":4", "-o", out}, "nbr needs the swir2 band", 2},
      {{"calc", "-i", "a=" + kScene, "-e", "a", "-o", dir.file("no/such/dir/o.tif")}, "does not exist", 4},
      {{"calc", "-i", "a=" + kScene, "-e", "a", "-o", "/proc/o.tif"}, "cannot", 4},
      {{"calc", "-i", "a=" + kScene, "-e", "a", "-o", out, "--type", "complex"}, "unknown data type", 2},
      {{"calc", "-i", "a=" + kScene, "-e", "a", "-o", out, "--type", "byte", "--nodata", "300"}, "does not fit", 2},
      {{"calc", "-e", "a", "-o", out}, "--input is required", 2},
  };
  for (const auto& c : cases) {
    const auto r = run_sco(c.args);
    SCOPED_TRACE(c.args[0] + " ... " + c.fragment);
    expect_one_line_error(r, c.fragment, c.code);
    EXPECT_EQ(dir.files(), (std::vector<std::string>{"notes.tif"})) << "a partial output was left behind";
  }
}

TEST(Index, ListFeedsDocsAndJson) {
  const auto r = run_sco({"index", "--list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 8u);
  EXPECT_EQ(j[0]["id"], "ndvi");
  const auto help = run_sco({"index", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("mndwi"), std::string::npos);
}

TEST(Index, WarnsWhenEviGetsDigitalNumbers) {
  TempDir dir;
  const auto r = run_sco({"index", "evi", "--input", kScene, "--sensor", "landsat7", "-o", dir.file("evi.tif")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: evi assumes surface reflectance"), std::string::npos) << r.err;
}

TEST(Demo, ComputesEveryIndexOfTheSample) {
  TempDir dir;
  const auto r = run_sco({"--catalog", dir.file("catalog"), "demo", "--data", SCO_SAMPLE_DIR, "--out", dir.path(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto all = nlohmann::json::parse(r.out);
  const auto& j = all["indices"];
  ASSERT_EQ(j.size(), 7u);  // EVI is skipped on uncalibrated digital numbers
  for (const auto& row : j) {
    EXPECT_TRUE(std::filesystem::exists(row["output"].get<std::string>()));
    // Every index of the demo lies in its documented range on this scene.
    EXPECT_GE(row["statistics"]["min"].get<double>(), -1.0);
    EXPECT_LE(row["statistics"]["max"].get<double>(), 1.0);
  }
  // NDVI mean over the scene, computed independently with numpy (float64):
  //   ((b4 - b3) / (b4 + b3)).mean() = -0.06432...
  EXPECT_EQ(j[0]["index"], "ndvi");
  EXPECT_NEAR(j[0]["statistics"]["mean"].get<double>(), -0.0643246, 2e-6);
  // Figures per local entity: the 470 Olinda tracts, then the indicators per county and per tract.
  EXPECT_EQ(all["olinda_tracts"]["zones"], 470);
  EXPECT_TRUE(std::filesystem::exists(all["olinda_tracts"]["output"].get<std::string>()));
  const auto& inds = all["indicators"];
  ASSERT_EQ(inds.size(), 5u);
  for (const auto& ind : inds) {
    const std::string out = ind["out"].get<std::string>();
    EXPECT_TRUE(std::filesystem::exists(out + "/report.html")) << out;
    EXPECT_TRUE(std::filesystem::exists(out + "/provenance.json")) << out;
  }
  // Hot months of 1999 (monthly mean above 25 C) per county: at most 3 months anywhere in North
  // Carolina that year (checked against numpy in indicators_reference_test.py).
  EXPECT_EQ(inds[0]["indicator"], "heat.hot_months");
  EXPECT_EQ(inds[0]["tables"]["hot_steps_by_district"]["districts"], 100);
  EXPECT_LE(inds[0]["tables"]["hot_steps_by_district"]["columns"]["max"]["max"].get<double>(), 3.0);
  EXPECT_EQ(inds[3]["tables"]["built_up_by_district"]["districts"], 470);
  // The Sentinel-2 series carried beside the sample (data/sentinel2-l2a-bolzano-2022-06): 12 items of
  // 5 bands in the catalog, and the cloud-masked NDVI composite over its window from them (its
  // values are checked against numpy in sentinel2_composite_test.py).
  EXPECT_EQ(inds[4]["indicator"], "vegetation.ndvi_composite");
  EXPECT_EQ(inds[4]["tables"]["ndvi_by_district"]["districts"], 1);
  // The scene is in the catalog with the interval it is known to lie in (no invented date): from the
  // launch of Landsat 7 to the file's timestamp in its Debian package.
  const auto store = sco::catalog::open_sqlite_store(dir.file("catalog"));
  EXPECT_EQ(store->item_checksums("s2-bolzano").size(), 12u);
  const auto s2 = store->item("s2-bolzano", "20220617");
  ASSERT_TRUE(s2.has_value());
  EXPECT_EQ((*s2)["assets"].size(), 5u);
  const auto scene = store->item("landsat7-olinda", "L7_ETMs");
  ASSERT_TRUE(scene.has_value());
  const auto& p = (*scene)["properties"];
  EXPECT_TRUE(p["datetime"].is_null());
  EXPECT_EQ(p["start_datetime"], "1999-04-15T00:00:00Z");
  EXPECT_LT(p["end_datetime"].get<std::string>(), "2100");
  EXPECT_GT(p["end_datetime"].get<std::string>(), "2016");  // the stars package, whose scene it is, is younger
  EXPECT_NE(p["description"].get<std::string>().find("Landsat 7"), std::string::npos);
  const auto& eo = (*scene)["assets"]["data"]["eo:bands"];
  ASSERT_EQ(eo.size(), 6u);
  EXPECT_EQ(eo[2]["common_name"], "red");
  EXPECT_NEAR(eo[2]["center_wavelength"].get<double>(), 0.66, 1e-9);  // B3: 0.63-0.69 um
}

namespace {
// The 12 monthly values of a NetCDF variable at one cell, read with GDAL directly.
std::vector<double> series_at(const std::string& var, int x, int y, std::optional<double>* nodata = nullptr) {
  sco::io::init_gdal();
  const std::string name = "NETCDF:\"" + std::string(SCO_SAMPLE_DIR) + "/bcsd_obs_1999.nc\":" + var;
  GDALDataset* ds = static_cast<GDALDataset*>(GDALOpen(name.c_str(), GA_ReadOnly));
  std::vector<double> v;
  for (int b = 1; b <= ds->GetRasterCount(); ++b) {
    double px = 0;
    EXPECT_EQ(ds->GetRasterBand(b)->RasterIO(GF_Read, x, y, 1, 1, &px, 1, 1, GDT_Float64, 0, 0), CE_None);
    int has = 0;
    const double nd = ds->GetRasterBand(b)->GetNoDataValue(&has);
    if (nodata && has) *nodata = nd;
    v.push_back(px);
  }
  GDALClose(ds);
  return v;
}
}  // namespace

TEST(Cube, MeanSlopeAndDrySpellOnTheRealClimateGrid) {
  TempDir dir;
  const std::string nc = std::string(SCO_SAMPLE_DIR) + "/bcsd_obs_1999.nc";
  for (const char* op : {"mean", "sen_slope", "run_below:50", "count_above:25"}) {
    const auto r = run_sco({"-q", "cube", "--input", nc + (std::string(op).rfind("run", 0) == 0 ? ":pr" : ":tas"), "--op", op,
                            "-o", dir.file(std::string(op).substr(0, 5) + ".tif")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // Cell (40, 16): independent arithmetic over the 12 values read with GDAL.
  const auto tas = series_at("tas", 40, 16);
  ASSERT_EQ(tas.size(), 12u);
  double sum = 0;
  for (double v : tas) sum += v;
  EXPECT_NEAR(pixel(dir.file("mean.tif"), 40, 16), sum / 12.0, 1e-4);
  // Sen's slope of 12 months of one year would be the seasonal cycle, not a trend: the monthly series
  // is tested season by season (one value per month: no pair), and one year is fewer than the 10 a
  // trend needs: every pixel is nodata, the file says why, and so does a warning. (The seasonal test
  // itself is checked against pyMannKendall in tests/integration/indicators/trend_reference_test.py.)
  EXPECT_TRUE(std::isnan(pixel(dir.file("sen_s.tif"), 40, 16)));
  const auto sen_info = run_sco({"--json", "info", dir.file("sen_s.tif")});
  EXPECT_NE(sen_info.out.find("record too short (1 year < 10)"), std::string::npos) << sen_info.out;
  const auto warned = run_sco({"cube", "--input", nc + ":tas", "--op", "sen_slope", "-o", dir.file("again.tif")});
  EXPECT_EQ(warned.exit_code, 0);
  EXPECT_NE(warned.err.find("warning: record too short (1 year < 10): every pixel is nodata"), std::string::npos) << warned.err;
  // Months above 25 degrees and the longest run of months below 50 (precipitation), by hand.
  int hot = 0;
  for (double v : tas) hot += v > 25;
  EXPECT_EQ(pixel(dir.file("count.tif"), 40, 16), hot);
  const auto pr = series_at("pr", 40, 16);
  int best = 0, run = 0;
  for (double v : pr) {
    run = v < 50 ? run + 1 : 0;
    best = std::max(best, run);
  }
  EXPECT_EQ(pixel(dir.file("run_b.tif"), 40, 16), best);
  // The CF grid has latitude/longitude axes and no grid mapping: outputs are in WGS 84.
  const auto info = run_sco({"info", dir.file("mean.tif"), "--json"});
  EXPECT_EQ(nlohmann::json::parse(info.out)["crs"]["label"], "EPSG:4326");
}

TEST(Cube, BadInputNamesTheVariableAndOperation) {
  TempDir dir;
  const std::string nc = std::string(SCO_SAMPLE_DIR) + "/bcsd_obs_1999.nc";
  expect_one_line_error(run_sco({"cube", "--input", nc + ":rain", "--op", "mean", "-o", dir.file("o.tif")}),
                        "has no variable 'rain' (variables: pr, tas)", 3);
  expect_one_line_error(run_sco({"cube", "--input", nc + ":tas", "--op", "average", "-o", dir.file("o.tif")}),
                        "unknown operation 'average'", 2);
  expect_one_line_error(run_sco({"cube", "--input", nc + ":tas", "--op", "count_above", "-o", dir.file("o.tif")}),
                        "needs a threshold", 2);
  EXPECT_TRUE(dir.files().empty());
}

// A NetCDF file of a single variable (no subdatasets) accepts its own variable by name, as files of
// several variables do; another name is an error listing the one it has.
TEST(Cube, SingleVariableNetcdfByName) {
  TempDir dir;
  sco::io::init_gdal();
  const std::string nc = dir.file("single.nc");
  const std::string src = "NETCDF:\"" + std::string(SCO_SAMPLE_DIR) + "/bcsd_obs_1999.nc\":tas";
  GDALDataset* in = static_cast<GDALDataset*>(GDALOpen(src.c_str(), GA_ReadOnly));
  ASSERT_NE(in, nullptr);
  GDALDataset* out = GetGDALDriverManager()->GetDriverByName("netCDF")->CreateCopy(nc.c_str(), in, FALSE, nullptr, nullptr, nullptr);
  ASSERT_NE(out, nullptr);
  GDALClose(out);
  GDALClose(in);
  const auto by_name = run_sco({"-q", "cube", "--input", nc + ":tas", "--op", "mean", "-o", dir.file("a.tif")});
  ASSERT_EQ(by_name.exit_code, 0) << by_name.err;
  const auto whole = run_sco({"-q", "cube", "--input", nc, "--op", "mean", "-o", dir.file("b.tif")});
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  EXPECT_EQ(pixel(dir.file("a.tif"), 40, 16), pixel(dir.file("b.tif"), 40, 16));
  const auto run = run_sco({"-q", "--catalog", dir.file("cat"), "run", "heat.trend", "--input", "tas=" + nc + ":tas", "--aoi",
                            std::string(SCO_SAMPLE_DIR) + "/nc.gpkg", "--id", "NAME", "--out", dir.file("trend")});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  expect_one_line_error(run_sco({"cube", "--input", nc + ":pr", "--op", "mean", "-o", dir.file("c.tif")}), "has no variable 'pr' (variables: tas)", 3);
}

// sco run --dry-run: the plan (grid, steps, outputs) and its estimate, no output folder, no catalog.
TEST(Run, DryRunPrintsThePlanAndWritesNothing) {
  TempDir dir;
  const std::string nc = std::string(SCO_SAMPLE_DIR) + "/bcsd_obs_1999.nc";
  const std::string counties = std::string(SCO_SAMPLE_DIR) + "/nc.gpkg";
  const auto r = run_sco({"--json", "--catalog", dir.file("catalog"), "run", "heat.trend", "--input", "tas=" + nc + ":tas", "--aoi", counties, "--id",
                          "NAME", "--out", dir.file("trend"), "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto plan = nlohmann::json::parse(r.out);
  EXPECT_EQ(plan["recipe"]["id"], "heat.trend");
  EXPECT_EQ(plan["area_of_interest"]["zones"], 100);
  ASSERT_EQ(plan["steps"].size(), 3u);
  EXPECT_EQ(plan["steps"][0]["op"], "cube.trend");
  // 12 monthly float32 steps of the working grid read by each cube step.
  const auto cells = plan["grid"]["width"].get<std::uint64_t>() * plan["grid"]["height"].get<std::uint64_t>();
  EXPECT_EQ(plan["steps"][0]["bytes_read"], cells * 12 * 4);
  EXPECT_GT(plan["estimate"]["peak_memory_bytes"].get<std::uint64_t>(), 60u << 20);
  EXPECT_FALSE(std::filesystem::exists(dir.file("trend")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("catalog")));
  // A bad parameter fails the plan as it would fail the run.
  const auto bad = run_sco({"run", "heat.trend", "--input", "tas=" + nc + ":tas", "--aoi", counties, "--out", dir.file("t2"), "--param", "alpha=2",
                            "--dry-run"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("parameter alpha=2 is outside"), std::string::npos) << bad.err;
}
