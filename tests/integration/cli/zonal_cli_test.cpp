// `sco zonal` on the real sample data: outputs, warnings and bad input.
#include <gtest/gtest.h>

#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <cmath>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "io/gdal_session.hpp"
#include "run_command.hpp"
#include "support/temp_dir.hpp"

using sco::test::run_sco;
using sco::test::TempDir;

namespace {
const std::string kSample = SCO_SAMPLE_DIR;
const std::string kElev = kSample + "/elev.tif";
const std::string kLux = kSample + "/lux.shp";

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// A GeoJSON file of polygons in WGS 84 (each given as a ring of lon/lat pairs).
std::string geojson(const std::vector<std::pair<std::string, std::string>>& features) {
  std::string s = R"({"type":"FeatureCollection","features":[)";
  for (std::size_t i = 0; i < features.size(); ++i) {
    s += (i ? "," : "") + std::string(R"({"type":"Feature","properties":{"name":")") + features[i].first +
         R"("},"geometry":{"type":"Polygon","coordinates":[)" + features[i].second + "]}}";
  }
  return s + "]}";
}

void expect_error(const sco::test::CommandResult& r, const std::string& fragment, int code) {
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
}
}  // namespace

TEST(Zonal, CsvGeoJsonAndGpkgCarryTheSameNumbers) {
  TempDir dir;
  for (const char* ext : {"csv", "geojson", "gpkg"}) {
    const auto r = run_sco({"zonal", "--raster", kElev, "--zones", kLux, "--id", "NAME_2", "--stats", "mean,count",
                            "-o", dir.file(std::string("lux.") + ext)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::ifstream csv(dir.file("lux.csv"));
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header, "NAME_2,mean,count");
  std::map<std::string, double> means;
  for (std::string line; std::getline(csv, line);) {
    const auto c1 = line.find(','), c2 = line.find(',', c1 + 1);
    means[line.substr(0, c1)] = std::stod(line.substr(c1 + 1, c2 - c1 - 1));
  }
  EXPECT_EQ(means.size(), 12u);
  sco::io::init_gdal();
  for (const char* ext : {"geojson", "gpkg"}) {
    auto* ds = static_cast<GDALDataset*>(GDALOpenEx(dir.file(std::string("lux.") + ext).c_str(), GDAL_OF_VECTOR,
                                                    nullptr, nullptr, nullptr));
    ASSERT_NE(ds, nullptr) << ext;
    OGRLayer* layer = ds->GetLayer(0);
    EXPECT_EQ(layer->GetFeatureCount(), 12);
    for (auto& f : *layer) {
      ASSERT_NE(f->GetGeometryRef(), nullptr) << ext;
      EXPECT_NEAR(f->GetFieldAsDouble("mean"), means.at(f->GetFieldAsString("NAME_2")), 1e-6) << ext;
    }
    GDALClose(ds);
  }
  // Clervaux: the northern canton, about 467 m on average (see lux.csv for all of them).
  EXPECT_NEAR(means.at("Clervaux"), 467.379, 0.01);
}

TEST(Zonal, ManyBandsShareOneCoverageAndNameTheirColumns) {
  TempDir dir;
  const std::string scene = kSample + "/L7_ETMs.tif";
  const auto r = run_sco({"--json", "zonal", "--raster", scene, "--zones", kSample + "/olinda1.shp", "--id", "ID",
                          "--stats", "mean"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["columns"], (nlohmann::json{"L7_ETMs_b1_mean", "L7_ETMs_b2_mean", "L7_ETMs_b3_mean", "L7_ETMs_b4_mean",
                                          "L7_ETMs_b5_mean", "L7_ETMs_b6_mean"}));
  EXPECT_EQ(j["zones"].size(), 470u);
}

TEST(Zonal, OutsideZonesGetEmptyRowsAndInvalidOnesAreRepaired) {
  TempDir dir;
  // One square inside Luxembourg, one in the Atlantic, one self-intersecting bow tie inside.
  write_text(dir.file("z.geojson"),
             geojson({{"inside", "[[6.0,49.7],[6.1,49.7],[6.1,49.8],[6.0,49.8],[6.0,49.7]]"},
                      {"ocean", "[[-30,40],[-29,40],[-29,41],[-30,41],[-30,40]]"},
                      {"bowtie", "[[6.0,49.6],[6.1,49.7],[6.1,49.6],[6.0,49.7],[6.0,49.6]]"}}));
  const auto r = run_sco({"--json", "zonal", "--raster", kElev, "--zones", dir.file("z.geojson"), "--id", "name",
                          "--stats", "count,mean"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j["zones"][0]["count"].get<double>(), 10.0);
  EXPECT_EQ(j["zones"][1]["count"], 0.0);
  EXPECT_TRUE(j["zones"][1]["mean"].is_null());
  // The bow tie is repaired into its two triangles by GEOS, not dropped.
  EXPECT_GT(j["zones"][2]["count"].get<double>(), 0.0);
  const std::string warnings = j["warnings"].dump();
  EXPECT_NE(warnings.find("1 invalid geometry repaired with GEOS: bowtie"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("1 zone outside every raster (empty rows): ocean"), std::string::npos) << warnings;
}

TEST(Zonal, BadInputGetsOneClearLineAndNoFile) {
  TempDir dir;
  write_text(dir.file("empty.geojson"), R"({"type":"FeatureCollection","features":[]})");
  write_text(dir.file("odd.shp"), "");
  // A shapefile whose CRS is an engineering CRS that PROJ cannot relate to the raster's.
  {
    sco::io::init_gdal();
    GDALDriver* drv = GetGDALDriverManager()->GetDriverByName("ESRI Shapefile");
    GDALDataset* ds = drv->Create(dir.file("local.shp").c_str(), 0, 0, 0, GDT_Unknown, nullptr);
    OGRSpatialReference local;
    local.SetLocalCS("site grid");
    OGRLayer* l = ds->CreateLayer("local", &local, wkbPolygon, nullptr);
    OGRFeature f(l->GetLayerDefn());
    OGRPolygon poly;
    OGRLinearRing ring;
    ring.addPoint(0, 0);
    ring.addPoint(1, 0);
    ring.addPoint(1, 1);
    ring.addPoint(0, 0);
    poly.addRing(&ring);
    f.SetGeometry(&poly);
    ASSERT_EQ(l->CreateFeature(&f), OGRERR_NONE);
    GDALClose(ds);
  }
  const std::string out = dir.file("out.csv");
  struct Case {
    std::vector<std::string> args;
    const char* fragment;
    int code;
  };
  const std::vector<Case> cases = {
      {{"--raster", kElev, "--zones", kLux, "--id", "CANTON", "--stats", "mean", "-o", out},
       "has no field 'CANTON' (fields: ID_1, NAME_1, ID_2, NAME_2, AREA, POP)", 3},
      {{"--raster", kElev, "--zones", kLux, "--stats", "mean,average", "-o", out}, "unknown statistic 'average'", 2},
      {{"--raster", kElev, "--zones", dir.file("empty.geojson"), "--stats", "mean", "-o", out}, "has no features", 2},
      {{"--raster", kElev, "--zones", dir.file("nope.shp"), "--stats", "mean", "-o", out}, "file not found", 3},
      {{"--raster", kElev, "--zones", dir.file("local.shp"), "--stats", "mean", "-o", out}, "cannot transform the zones", 2},
      {{"--raster", kElev, "--zones", kLux, "--stats", "weighted_mean", "-o", out}, "need --weights", 2},
      {{"--raster", kElev, "--zones", kLux, "--stats", "mean", "-o", dir.file("out.xlsx")}, "use .csv, .geojson or .gpkg", 2},
      {{"--raster", kElev, "--zones", kLux, "--layer", "cantons", "--stats", "mean", "-o", out}, "has no layer 'cantons'", 3},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"zonal"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    SCOPED_TRACE(c.fragment);
    expect_error(run_sco(args), c.fragment, c.code);
    EXPECT_FALSE(std::filesystem::exists(out));
  }
}
