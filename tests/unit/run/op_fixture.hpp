#pragma once
// Small real rasters with values chosen by hand, two districts, and a recipe run on them through the
// run library, for the tests of each step op. The grid: 4 x 2 cells of 10 m in UTM 33N
// (x 500000..500040, y 4000000..4000020), row 0 at the top; district "west" covers columns 0-1,
// "east" columns 2-3 (4 whole cells each, 400 m2). Planar cells: every district mean is the plain
// mean of its cells.
#include <gdal_priv.h>
#include <ogr_spatialref.h>

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "indicators/recipe.hpp"
#include "io/gdal_session.hpp"
#include "run/run.hpp"
#include "support/temp_dir.hpp"

namespace sco::test {

inline const char* kDistricts = R"({"type": "FeatureCollection",
  "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32633"}},
  "features": [
    {"type": "Feature", "properties": {"name": "west", "pop": 1000},
     "geometry": {"type": "Polygon", "coordinates": [[[500000, 4000000], [500020, 4000000], [500020, 4000020], [500000, 4000020], [500000, 4000000]]]}},
    {"type": "Feature", "properties": {"name": "east", "pop": 200},
     "geometry": {"type": "Polygon", "coordinates": [[[500020, 4000000], [500040, 4000000], [500040, 4000020], [500020, 4000020], [500020, 4000000]]]}}]})";

class OpFixture {
 public:
  OpFixture() { io::init_gdal(); }

  // A Float32 (or `type`) GeoTIFF of `bands` bands, 4 x 2, values row by row per band; NaN is nodata.
  std::string raster(const std::string& name, const std::vector<std::vector<float>>& bands, GDALDataType type = GDT_Float32) {
    const std::string path = dir.file(name);
    GDALDataset* ds = GetGDALDriverManager()->GetDriverByName("GTiff")->Create(path.c_str(), 4, 2, static_cast<int>(bands.size()), type, nullptr);
    double gt[6] = {500000, 10, 0, 4000020, 0, -10};
    ds->SetGeoTransform(gt);
    OGRSpatialReference srs;
    srs.importFromEPSG(32633);
    ds->SetSpatialRef(&srs);
    for (std::size_t b = 0; b < bands.size(); ++b) {
      GDALRasterBand* band = ds->GetRasterBand(static_cast<int>(b) + 1);
      if (type == GDT_Float32 || type == GDT_Float64) band->SetNoDataValue(std::nan(""));
      std::vector<float> v = bands[b];
      if (band->RasterIO(GF_Write, 0, 0, 4, 2, v.data(), 4, 2, GDT_Float32, 0, 0) != CE_None) throw std::runtime_error("write " + path);
    }
    GDALClose(ds);
    return path;
  }

  // The recipe {inputs, steps} with the usual header.
  static indicators::Recipe recipe(const std::string& inputs, const std::string& steps, const std::string& parameters = "{}") {
    return indicators::parse_recipe(R"({"sco_recipe": 1, "id": "t.op", "version": "1", "title": "op test", "inputs": )" + inputs +
                                        R"(, "parameters": )" + parameters + R"(, "steps": )" + steps + "}",
                                    "op.json");
  }

  run::RunRequest request(const indicators::Recipe& r, std::vector<run::RunInput> inputs) {
    run::RunRequest req;
    req.recipe = r;
    req.inputs = std::move(inputs);
    req.aoi = run::AreaOfInterest::from_geojson(kDistricts, "name");
    req.out = dir.file("out" + std::to_string(runs_++));
    req.threads = 2;
    return req;
  }

  run::RunResult run(const indicators::Recipe& r, std::vector<run::RunInput> inputs) { return run::run_recipe(request(r, std::move(inputs))); }

  // The 8 values of a raster output (NaN for nodata).
  static std::vector<double> values(const std::string& path) {
    GDALDataset* ds = static_cast<GDALDataset*>(GDALOpen(path.c_str(), GA_ReadOnly));
    if (!ds) throw std::runtime_error("open " + path);
    std::vector<double> v(static_cast<std::size_t>(ds->GetRasterXSize()) * static_cast<std::size_t>(ds->GetRasterYSize()));
    const CPLErr e = ds->GetRasterBand(1)->RasterIO(GF_Read, 0, 0, ds->GetRasterXSize(), ds->GetRasterYSize(), v.data(), ds->GetRasterXSize(),
                                                    ds->GetRasterYSize(), GDT_Float64, 0, 0);
    GDALClose(ds);
    if (e != CE_None) throw std::runtime_error("read " + path);
    return v;
  }

  static std::string raster_output(const run::RunResult& r, const std::string& step) {
    for (const auto& o : r.outputs) {
      if (o.kind == "raster" && o.step == step) return o.path;
    }
    throw std::runtime_error("no raster output " + step);
  }

  // A column of a table step, by district name ("west", "east").
  static double cell(const run::RunResult& r, const std::string& step, const std::string& column, const std::string& district) {
    const io::ResultTable& t = r.tables.at(step);
    const auto c = std::find(t.columns.begin(), t.columns.end(), column);
    const auto z = std::find(t.ids.begin(), t.ids.end(), district);
    if (c == t.columns.end() || z == t.ids.end()) throw std::runtime_error("no " + column + " of " + district);
    return t.rows[static_cast<std::size_t>(z - t.ids.begin())][static_cast<std::size_t>(c - t.columns.begin())];
  }

  // A text column of a table step, by district name.
  static std::string text_cell(const run::RunResult& r, const std::string& step, const std::string& column, const std::string& district) {
    const io::ResultTable& t = r.tables.at(step);
    const auto c = std::find(t.text_columns.begin(), t.text_columns.end(), column);
    const auto z = std::find(t.ids.begin(), t.ids.end(), district);
    if (c == t.text_columns.end() || z == t.ids.end()) throw std::runtime_error("no " + column + " of " + district);
    return t.text_rows[static_cast<std::size_t>(z - t.ids.begin())][static_cast<std::size_t>(c - t.text_columns.begin())];
  }

  // The message of the error that `f` throws ("" when none).
  template <typename F>
  static std::string error_of(F&& f) {
    try {
      f();
    } catch (const core::Error& e) {
      return e.what();
    }
    return "";
  }

  // One dated source per file: a cube of yearly steps.
  static run::RunInput dated(const std::string& name, const std::vector<std::pair<std::string, int>>& files_years) {
    run::RunInput in{name, {}};
    for (const auto& [file, year] : files_years) in.sources.push_back(run::InputSource::raster(file, 0, cube::DateTime{year, 1, 1, 0, 0, 0}));
    return in;
  }

  TempDir dir;

 private:
  int runs_ = 0;
};

}  // namespace sco::test
