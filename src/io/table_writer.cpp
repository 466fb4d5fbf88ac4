#include "io/table_writer.hpp"

#include <gdal_priv.h>
#include <ogrsf_frmts.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "core/error.hpp"
#include "io/gdal_session.hpp"
#include "io/raster_output.hpp"
#include "io/vector_zones.hpp"

namespace sco::io {

using core::ErrorCode;
namespace fs = std::filesystem;

namespace {

std::string extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

std::string temp_path(const std::string& path) {
  const fs::path p(path);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  return (dir / fmt::format(".{}.sco-tmp-{}{}", p.stem().string(), ::getpid(), p.extension().string())).string();
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void write_csv(const ResultTable& t, const std::string& tmp) {
  std::ofstream f(tmp, std::ios::binary);
  if (!f) core::fail(ErrorCode::kIo, "cannot write '{}': {}", tmp, std::strerror(errno));
  f << csv_field(t.id_column);
  for (const auto& c : t.columns) f << ',' << csv_field(c);
  for (const auto& c : t.text_columns) f << ',' << csv_field(c);
  f << '\n';
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    f << csv_field(t.ids[i]);
    for (double v : t.rows[i]) {
      f << ',';
      if (std::isfinite(v)) f << fmt::format("{:.10g}", v);
    }
    if (i < t.text_rows.size()) {
      for (const auto& v : t.text_rows[i]) f << ',' << csv_field(v);
    }
    f << '\n';
  }
  f.close();
  if (!f) core::fail(ErrorCode::kIo, "writing '{}' failed: {}", tmp, std::strerror(errno));
}

void write_ogr(const ResultTable& t, const std::string& tmp, const VectorZones& zones, bool geojson) {
  GDALDriver* drv = GetGDALDriverManager()->GetDriverByName(geojson ? "GeoJSON" : "GPKG");
  if (!drv) core::fail(ErrorCode::kInternal, "GDAL has no {} driver", geojson ? "GeoJSON" : "GPKG");
  clear_gdal_error();
  GDALDataset* ds = drv->Create(tmp.c_str(), 0, 0, 0, GDT_Unknown, nullptr);
  if (!ds) core::fail(ErrorCode::kIo, "cannot create '{}': {}", tmp, take_gdal_error());
  std::unique_ptr<GDALDataset, void (*)(GDALDataset*)> guard(ds, [](GDALDataset* d) { GDALClose(d); });
  OGRSpatialReference srs;
  OGRSpatialReference* srs_ptr = nullptr;
  if (!zones.crs_wkt.empty() && srs.importFromWkt(zones.crs_wkt.c_str()) == OGRERR_NONE) {
    srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    srs_ptr = &srs;
  }
  const char* geojson_opts[] = {"RFC7946=YES", "COORDINATE_PRECISION=7", nullptr};
  OGRLayer* layer = ds->CreateLayer(zones.layer.empty() ? "zones" : zones.layer.c_str(), srs_ptr, wkbUnknown,
                                    geojson ? const_cast<char**>(geojson_opts) : nullptr);
  if (!layer) core::fail(ErrorCode::kIo, "cannot create a layer in '{}': {}", tmp, take_gdal_error());
  OGRFieldDefn id_def(t.id_column.c_str(), OFTString);
  layer->CreateField(&id_def);
  for (const auto& c : t.columns) {
    OGRFieldDefn def(c.c_str(), OFTReal);
    if (layer->CreateField(&def) != OGRERR_NONE) {
      core::fail(ErrorCode::kIo, "cannot create field '{}' in '{}': {}", c, tmp, take_gdal_error());
    }
  }
  for (const auto& c : t.text_columns) {
    OGRFieldDefn def(c.c_str(), OFTString);
    if (layer->CreateField(&def) != OGRERR_NONE) {
      core::fail(ErrorCode::kIo, "cannot create field '{}' in '{}': {}", c, tmp, take_gdal_error());
    }
  }
  const bool transaction = layer->StartTransaction() == OGRERR_NONE;
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    OGRFeature f(layer->GetLayerDefn());
    f.SetField(0, t.ids[i].c_str());
    for (std::size_t j = 0; j < t.rows[i].size(); ++j) {
      const double v = t.rows[i][j];
      if (std::isfinite(v)) f.SetField(static_cast<int>(j + 1), v);
      else f.SetFieldNull(static_cast<int>(j + 1));
    }
    if (i < t.text_rows.size()) {
      for (std::size_t j = 0; j < t.text_rows[i].size(); ++j) {
        const int field = static_cast<int>(t.columns.size() + 1 + j);
        if (t.text_rows[i][j].empty()) f.SetFieldNull(field);
        else f.SetField(field, t.text_rows[i][j].c_str());
      }
    }
    if (zones.geometries[i]) f.SetGeometry(zones.geometries[i].get());
    if (layer->CreateFeature(&f) != OGRERR_NONE) {
      core::fail(ErrorCode::kIo, "cannot write zone {} to '{}': {}", t.ids[i], tmp, take_gdal_error());
    }
  }
  if (transaction && layer->CommitTransaction() != OGRERR_NONE) {
    core::fail(ErrorCode::kIo, "cannot commit '{}': {}", tmp, take_gdal_error());
  }
}

}  // namespace

void check_table_path(const std::string& path) {
  const std::string ext = extension(path);
  if (ext != ".csv" && ext != ".geojson" && ext != ".json" && ext != ".gpkg") {
    core::fail(ErrorCode::kInvalidInput, "output '{}': use .csv, .geojson or .gpkg", path);
  }
  const fs::path p(path);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    core::fail(ErrorCode::kIo, "cannot write output '{}': folder '{}' does not exist", path, dir.string());
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    core::fail(ErrorCode::kIo, "cannot write output '{}': folder '{}' is not writable", path, dir.string());
  }
}

void write_table(const ResultTable& t, const std::string& path, const VectorZones& zones) {
  init_gdal();
  check_table_path(path);
  const std::string ext = extension(path);
  const std::string tmp = temp_path(path);
  try {
    if (ext == ".csv") write_csv(t, tmp);
    else write_ogr(t, tmp, zones, ext != ".gpkg");
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    core::fail(ErrorCode::kIo, "cannot rename the finished table to '{}': {}", path, std::strerror(errno));
  }
}

}  // namespace sco::io
