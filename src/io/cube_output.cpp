#include "io/cube_output.hpp"

#include <gdal_priv.h>
#include <gdal_utils.h>
#include <ogr_spatialref.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "core/error.hpp"
#include "cube/cf_time.hpp"
#include "io/gdal_session.hpp"
#include "io/raster_dataset.hpp"
#include "io/raster_output.hpp"

namespace sco::io {

using core::ErrorCode;
namespace fs = std::filesystem;

namespace {

void commit(const std::string& tmp, const std::string& path) {
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    core::fail(ErrorCode::kIo, "cannot rename the finished output to '{}'", path);
  }
}

// A VRT of the bands stacked (each a VRTSourcedRasterBand reading one band of its file), float32.
std::string stack_vrt(const std::vector<CubeBand>& bands, const std::string& vrt_path) {
  const RasterDataset first = RasterDataset::open(bands.at(0).path);
  const core::Grid& g = first.grid();
  char* srs = CPLEscapeString(g.crs_wkt.c_str(), -1, CPLES_XML);
  std::string xml = fmt::format("<VRTDataset rasterXSize=\"{}\" rasterYSize=\"{}\">\n<SRS>{}</SRS>\n<GeoTransform>{:.17g}, {:.17g}, {:.17g}, {:.17g}, {:.17g}, {:.17g}</GeoTransform>\n",
                                g.width, g.height, srs, g.transform[0], g.transform[1], g.transform[2], g.transform[3], g.transform[4], g.transform[5]);
  CPLFree(srs);
  for (std::size_t k = 0; k < bands.size(); ++k) {
    const std::string file = fs::absolute(bands[k].path).string();
    char* escaped = CPLEscapeString(file.c_str(), -1, CPLES_XML);
    char* name = CPLEscapeString(bands[k].name.c_str(), -1, CPLES_XML);
    xml += fmt::format("<VRTRasterBand dataType=\"Float32\" band=\"{}\"><Description>{}</Description><NoDataValue>nan</NoDataValue>"
                       "<SimpleSource><SourceFilename relativeToVRT=\"0\">{}</SourceFilename><SourceBand>{}</SourceBand></SimpleSource></VRTRasterBand>\n",
                       k + 1, name, escaped, bands[k].band);
    CPLFree(escaped);
    CPLFree(name);
  }
  xml += "</VRTDataset>\n";
  FILE* f = std::fopen(vrt_path.c_str(), "w");
  if (!f || std::fputs(xml.c_str(), f) < 0 || std::fclose(f) != 0) core::fail(ErrorCode::kIo, "cannot write '{}'", vrt_path);
  return vrt_path;
}

std::shared_ptr<GDALAttribute> text_attribute(const std::shared_ptr<GDALMDArray>& a, const char* key, const std::string& value) {
  auto attr = a->CreateAttribute(key, {}, GDALExtendedDataType::CreateString());
  if (attr) attr->Write(value.c_str());
  return attr;
}

// One coordinate variable of cell centres: start + (i + 0.5) * step.
void coordinate(GDALGroup& root, const std::shared_ptr<GDALDimension>& dim, double start, double step, const char* standard_name,
                const std::string& units) {
  auto v = root.CreateMDArray(dim->GetName(), {dim}, GDALExtendedDataType::Create(GDT_Float64));
  if (!v) core::fail(ErrorCode::kIo, "netCDF: cannot create the '{}' coordinate: {}", dim->GetName(), take_gdal_error());
  std::vector<double> values(static_cast<std::size_t>(dim->GetSize()));
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = start + (static_cast<double>(i) + 0.5) * step;
  const GUInt64 zero = 0;
  const size_t count = values.size();
  v->Write(&zero, &count, nullptr, nullptr, GDALExtendedDataType::Create(GDT_Float64), values.data());
  text_attribute(v, "standard_name", standard_name);
  text_attribute(v, "units", units);
  // netCDF: a variable named as its dimension is that dimension's coordinate (no SetIndexingVariable)
}

// Copies one band file into variable `v` at time step t, in strips of rows.
void copy_slice(const CubeBand& band, const core::Grid& grid, GDALMDArray& v, std::optional<std::size_t> t) {
  GDALDatasetH src = GDALOpen(band.path.c_str(), GA_ReadOnly);
  if (!src) core::fail(ErrorCode::kIo, "cannot read '{}': {}", band.path, take_gdal_error());
  const int strip = 256;
  std::vector<float> buf(static_cast<std::size_t>(grid.width) * strip);
  for (int row = 0; row < grid.height; row += strip) {
    const int rows = std::min(strip, grid.height - row);
    if (GDALRasterIO(GDALGetRasterBand(src, band.band), GF_Read, 0, row, grid.width, rows, buf.data(), grid.width, rows, GDT_Float32, 0, 0) != CE_None) {
      GDALClose(src);
      core::fail(ErrorCode::kIo, "cannot read '{}': {}", band.path, take_gdal_error());
    }
    const GUInt64 start[3] = {t.value_or(0), static_cast<GUInt64>(row), 0};
    const size_t count[3] = {1, static_cast<size_t>(rows), static_cast<size_t>(grid.width)};
    const int skip = t ? 0 : 1;  // without a time axis: (y, x)
    if (!v.Write(start + skip, count + skip, nullptr, nullptr, GDALExtendedDataType::Create(GDT_Float32), buf.data())) {
      GDALClose(src);
      core::fail(ErrorCode::kIo, "netCDF: cannot write '{}': {}", v.GetName(), take_gdal_error());
    }
  }
  GDALClose(src);
}

double days_since_1970(const std::string& date) {
  cube::DateTime d;
  if (std::sscanf(date.c_str(), "%d-%d-%dT%d:%d:%lf", &d.year, &d.month, &d.day, &d.hour, &d.minute, &d.second) < 3) {
    core::fail(ErrorCode::kInvalidInput, "netCDF: the time step '{}' is not an RFC 3339 date", date);
  }
  const double days = cube::days_from_epoch(d, cube::Calendar::kStandard) - cube::days_from_epoch(cube::DateTime{}, cube::Calendar::kStandard);
  return days + (d.hour * 3600 + d.minute * 60 + d.second) / 86400.0;
}

bool is_rfc3339_date(const std::string& s) {
  int y = 0, m = 0, d = 0;
  return s.size() >= 10 && std::sscanf(s.c_str(), "%4d-%2d-%2d", &y, &m, &d) == 3 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

// The t coordinate: days since 1970 (CF) when every label is an RFC 3339 date, else the labels as
// text (an openEO cube whose t labels were renamed).
void time_coordinate(GDALGroup& root, const std::shared_ptr<GDALDimension>& t, const std::vector<std::string>& dates) {
  const GUInt64 zero = 0;
  const size_t n = dates.size();
  if (!std::all_of(dates.begin(), dates.end(), is_rfc3339_date)) {
    auto tv = root.CreateMDArray("t", {t}, GDALExtendedDataType::CreateString());
    if (!tv) core::fail(ErrorCode::kIo, "netCDF: cannot create the 't' coordinate: {}", take_gdal_error());
    std::vector<const char*> labels;
    for (const auto& d : dates) labels.push_back(d.c_str());
    tv->Write(&zero, &n, nullptr, nullptr, GDALExtendedDataType::CreateString(), labels.data());
    return;
  }
  auto tv = root.CreateMDArray("t", {t}, GDALExtendedDataType::Create(GDT_Float64));
  if (!tv) core::fail(ErrorCode::kIo, "netCDF: cannot create the 't' coordinate: {}", take_gdal_error());
  std::vector<double> days;
  for (const auto& d : dates) days.push_back(days_since_1970(d));
  tv->Write(&zero, &n, nullptr, nullptr, GDALExtendedDataType::Create(GDT_Float64), days.data());
  text_attribute(tv, "standard_name", "time");
  text_attribute(tv, "units", "days since 1970-01-01 00:00:00");
  text_attribute(tv, "calendar", "standard");
}

}  // namespace

int CPL_STDCALL keep_going(double, const char*, void* token) { return core::cancelled(static_cast<const core::CancelToken*>(token)) ? FALSE : TRUE; }

void write_band_stack(const std::vector<CubeBand>& bands, const std::string& path, int threads, const core::CancelToken* cancel,
                      const std::vector<std::string>& creation_options) {
  if (bands.empty()) core::fail(ErrorCode::kInvalidInput, "'{}': a cube without bands", path);
  const std::string tmp = temp_name(path, "stack");
  const std::string vrt = stack_vrt(bands, tmp + ".vrt");
  GDALDriver* cog = GetGDALDriverManager()->GetDriverByName("COG");
  if (!cog) core::fail(ErrorCode::kInternal, "GDAL has no COG driver");
  GDALDataset* src = static_cast<GDALDataset*>(GDALOpen(vrt.c_str(), GA_ReadOnly));
  if (!src) core::fail(ErrorCode::kIo, "cannot stack the bands of '{}': {}", path, take_gdal_error());
  std::vector<std::string> opts = cog_options(true, threads);
  for (const auto& o : creation_options) {  // KEY=VALUE replaces sco's KEY
    const std::string key = o.substr(0, o.find('='));
    std::erase_if(opts, [&](const std::string& x) { return x.rfind(key + "=", 0) == 0; });
    opts.push_back(o);
  }
  std::vector<char*> list;
  for (auto& o : opts) list.push_back(o.data());
  list.push_back(nullptr);
  GDALDataset* out = cog->CreateCopy(tmp.c_str(), src, FALSE, list.data(), keep_going, const_cast<core::CancelToken*>(cancel));
  GDALClose(src);
  std::remove(vrt.c_str());
  if (!out) {
    std::remove(tmp.c_str());
    core::throw_if_cancelled(cancel);
    core::fail(ErrorCode::kIo, "cannot write '{}': {}", path, take_gdal_error());
  }
  GDALClose(out);
  commit(tmp, path);
}

void write_netcdf_cube(const core::Grid& grid, const std::vector<std::string>& band_names, const std::vector<std::string>& dates,
                       const std::vector<std::vector<CubeBand>>& slices, const std::string& path, const core::CancelToken* cancel) {
  clear_gdal_error();
  if (grid.transform[2] != 0 || grid.transform[4] != 0) core::fail(ErrorCode::kInvalidInput, "netCDF: '{}' has a rotated grid", path);
  GDALDriver* drv = GetGDALDriverManager()->GetDriverByName("netCDF");
  if (!drv) core::fail(ErrorCode::kInternal, "GDAL has no netCDF driver");
  const std::string tmp = temp_name(path, "nc");
  const char* create[] = {"FORMAT=NC4", nullptr};
  {
    std::unique_ptr<GDALDataset> ds(drv->CreateMultiDimensional(tmp.c_str(), nullptr, const_cast<char**>(create)));
    if (!ds) core::fail(ErrorCode::kIo, "cannot create '{}': {}", path, take_gdal_error());
    auto root = ds->GetRootGroup();
    auto conventions = root->CreateAttribute("Conventions", {}, GDALExtendedDataType::CreateString());
    if (conventions) conventions->Write("CF-1.8");
    const bool time_axis = !dates.empty();
    std::shared_ptr<GDALDimension> t;
    if (time_axis) t = root->CreateDimension("t", GDAL_DIM_TYPE_TEMPORAL, "", dates.size());
    auto y = root->CreateDimension("y", GDAL_DIM_TYPE_HORIZONTAL_Y, "", static_cast<GUInt64>(grid.height));
    auto x = root->CreateDimension("x", GDAL_DIM_TYPE_HORIZONTAL_X, "", static_cast<GUInt64>(grid.width));
    if ((time_axis && !t) || !y || !x) core::fail(ErrorCode::kIo, "netCDF: cannot create the dimensions of '{}': {}", path, take_gdal_error());
    OGRSpatialReference srs;
    srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    const bool has_crs = !grid.crs_wkt.empty() && srs.importFromWkt(grid.crs_wkt.c_str()) == OGRERR_NONE;
    const bool geographic = has_crs && srs.IsGeographic();
    coordinate(*root, x, grid.transform[0], grid.transform[1], geographic ? "longitude" : "projection_x_coordinate", geographic ? "degrees_east" : "m");
    coordinate(*root, y, grid.transform[3], grid.transform[5], geographic ? "latitude" : "projection_y_coordinate", geographic ? "degrees_north" : "m");
    if (time_axis) time_coordinate(*root, t, dates);
    if (slices.size() != std::max<std::size_t>(1, dates.size())) {
      core::fail(ErrorCode::kInternal, "netCDF '{}': {} slices for {} time steps", path, slices.size(), dates.size());
    }
    std::vector<std::shared_ptr<GDALDimension>> dims = {y, x};
    if (time_axis) dims.insert(dims.begin(), t);
    for (std::size_t b = 0; b < band_names.size(); ++b) {
      const char* array_opts[] = {"COMPRESS=DEFLATE", "ZLEVEL=1", nullptr};
      auto v = root->CreateMDArray(band_names[b], dims, GDALExtendedDataType::Create(GDT_Float32), const_cast<char**>(array_opts));
      if (!v) core::fail(ErrorCode::kIo, "netCDF: cannot create variable '{}': {}", band_names[b], take_gdal_error());
      const float nan = std::nanf("");
      v->SetNoDataValue(static_cast<double>(nan));
      if (has_crs) v->SetSpatialRef(&srs);
      text_attribute(v, "long_name", band_names[b]);
      for (std::size_t s = 0; s < slices.size(); ++s) {
        if (core::cancelled(cancel)) break;
        copy_slice(slices[s].at(b), grid, *v, time_axis ? std::optional<std::size_t>(s) : std::nullopt);
      }
    }
  }  // closed: the file is complete
  if (core::cancelled(cancel)) {
    std::remove(tmp.c_str());
    core::throw_if_cancelled(cancel);
  }
  if (const std::string why = take_gdal_error(); !why.empty()) {
    std::remove(tmp.c_str());
    core::fail(ErrorCode::kIo, "writing '{}' failed: {}", path, why);
  }
  commit(tmp, path);
}

}  // namespace sco::io
