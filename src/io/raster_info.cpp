#include "io/raster_info.hpp"

#include <gdal_priv.h>
#include <ogr_spatialref.h>

#include <cmath>

#include <fmt/format.h>

#include "core/error.hpp"
#include "io/gdal_session.hpp"
#include "io/raster_dataset.hpp"

namespace sco::io {

namespace {
nlohmann::json number_or_null(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}
}  // namespace

nlohmann::json raster_info(const std::string& path, bool compute_stats) {
  using nlohmann::json;
  json j;
  GDALDataset* ds_handle = nullptr;
  // Containers of several rasters (NetCDF with many variables) are described by their subdatasets.
  init_gdal();
  refuse_special_file(path);
  clear_gdal_error();
  ds_handle = static_cast<GDALDataset*>(GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr));
  if (ds_handle && ds_handle->GetRasterCount() == 0) {
    j["path"] = path;
    j["driver"] = ds_handle->GetDriver()->GetDescription();
    json subs = json::array();
    char** md = ds_handle->GetMetadata("SUBDATASETS");
    for (char** p = md; p && *p; ++p) {
      char* key = nullptr;
      const char* value = CPLParseNameValue(*p, &key);
      if (key && std::string(key).find("_NAME") != std::string::npos) subs.push_back(value);
      CPLFree(key);
    }
    j["subdatasets"] = subs;
    GDALClose(ds_handle);
    return j;
  }
  if (ds_handle) GDALClose(ds_handle);

  // Statistics are computed here, not cached in a .aux.xml beside the user's file.
  // GDAL checks the option when the dataset closes, so it stays set for the whole function.
  struct PamOff {
    bool on;
    explicit PamOff(bool o) : on(o) { if (on) CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", "NO"); }
    ~PamOff() { if (on) CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", nullptr); }
  } pam_off(compute_stats);
  RasterDataset ds = RasterDataset::open(path);
  const core::Grid g = ds.grid();
  j["path"] = path;
  j["driver"] = ds.driver_name();
  j["width"] = g.width;
  j["height"] = g.height;
  j["band_count"] = ds.band_count();
  j["geotransform"] = g.transform;
  j["cell_size"] = {g.transform[1], std::abs(g.transform[5])};
  j["crs"] = {{"label", crs_label(g.crs_wkt)}, {"wkt", g.crs_wkt}};
  const double xs[4] = {g.transform[0], g.transform[0] + g.width * g.transform[1] + 0 * g.transform[2],
                        g.transform[0] + g.height * g.transform[2], g.transform[0] + g.width * g.transform[1] + g.height * g.transform[2]};
  const double ys[4] = {g.transform[3], g.transform[3] + g.width * g.transform[4],
                        g.transform[3] + g.height * g.transform[5], g.transform[3] + g.width * g.transform[4] + g.height * g.transform[5]};
  double minx = xs[0], maxx = xs[0], miny = ys[0], maxy = ys[0];
  for (int i = 1; i < 4; ++i) {
    minx = std::min(minx, xs[i]); maxx = std::max(maxx, xs[i]);
    miny = std::min(miny, ys[i]); maxy = std::max(maxy, ys[i]);
  }
  j["bounds"] = {minx, miny, maxx, maxy};
  if (!g.crs_wkt.empty()) {
    OGRSpatialReference src, wgs84;
    src.importFromWkt(g.crs_wkt.c_str());
    src.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    wgs84.importFromEPSG(4326);
    wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    if (auto* ct = OGRCreateCoordinateTransformation(&src, &wgs84)) {
      double a, b, c, d;
      if (ct->TransformBounds(minx, miny, maxx, maxy, &a, &b, &c, &d, 21)) j["bounds_wgs84"] = {a, b, c, d};
      OGRCoordinateTransformation::DestroyCT(ct);
    }
  }
  const auto structure = ds.metadata("IMAGE_STRUCTURE");
  std::string compression = "NONE", interleave;
  for (const auto& [k, v] : structure) {
    if (k == "COMPRESSION") compression = v;
    if (k == "INTERLEAVE") interleave = v;
    if (k == "LAYOUT" && v == "COG") j["cloud_optimized"] = true;
  }
  if (!j.contains("cloud_optimized")) j["cloud_optimized"] = false;
  j["compression"] = compression;
  if (!interleave.empty()) j["interleave"] = interleave;
  json md = json::object();
  for (const auto& [k, v] : ds.metadata()) md[k] = v;
  j["metadata"] = md;
  json bands = json::array();
  for (int b = 1; b <= ds.band_count(); ++b) {
    const BandInfo info = ds.band(b);
    json jb = {{"band", b},
               {"type", core::type_name(info.type)},
               {"block", {info.block_width, info.block_height}},
               {"description", info.description},
               {"color_interpretation", info.color_interpretation},
               {"overviews", info.overview_count},
               {"mask", info.has_mask}};
    jb["nodata"] = info.nodata ? number_or_null(*info.nodata) : json(nullptr);
    if (info.scale != 1.0 || info.offset != 0.0) {
      jb["scale"] = info.scale;
      jb["offset"] = info.offset;
    }
    if (compute_stats) {
      double mn, mx, mean, sd;
      clear_gdal_error();
      if (ds.band_handle(b)->ComputeStatistics(FALSE, &mn, &mx, &mean, &sd, nullptr, nullptr) == CE_None) {
        jb["statistics"] = {{"min", mn}, {"max", mx}, {"mean", mean}, {"stddev", sd}};
      } else {
        // GDAL fails alike when every pixel is nodata and when pixels cannot be read: a full read
        // tells them apart (and throws naming the band and rows of a truncated or corrupted file).
        ds.check_readable();
        jb["statistics"] = nullptr;  // every pixel is nodata
      }
    }
    bands.push_back(jb);
  }
  j["bands"] = bands;
  return j;
}

std::string raster_info_text(const nlohmann::json& j) {
  std::string s;
  s += fmt::format("{}\n  driver      {}\n", j["path"].get<std::string>(), j["driver"].get<std::string>());
  if (j.contains("subdatasets")) {
    s += "  subdatasets (open one of them):\n";
    for (const auto& sd : j["subdatasets"]) s += fmt::format("    {}\n", sd.get<std::string>());
    return s;
  }
  s += fmt::format("  size        {} x {} cells, {} band{}\n", j["width"].get<int>(), j["height"].get<int>(),
                   j["band_count"].get<int>(), j["band_count"].get<int>() == 1 ? "" : "s");
  s += fmt::format("  crs         {}\n", j["crs"]["label"].get<std::string>());
  s += fmt::format("  cell size   {:.10g} x {:.10g}\n", j["cell_size"][0].get<double>(), j["cell_size"][1].get<double>());
  const auto& b = j["bounds"];
  s += fmt::format("  bounds      {:.10g}, {:.10g}, {:.10g}, {:.10g}\n", b[0].get<double>(), b[1].get<double>(),
                   b[2].get<double>(), b[3].get<double>());
  if (j.contains("bounds_wgs84")) {
    const auto& w = j["bounds_wgs84"];
    s += fmt::format("  WGS 84      {:.6f}, {:.6f}, {:.6f}, {:.6f} (lon/lat)\n", w[0].get<double>(), w[1].get<double>(),
                     w[2].get<double>(), w[3].get<double>());
  }
  s += fmt::format("  compression {}{}\n", j["compression"].get<std::string>(),
                   j["cloud_optimized"].get<bool>() ? ", cloud-optimised GeoTIFF" : "");
  for (const auto& band : j["bands"]) {
    std::string nodata = band["nodata"].is_null() ? "none" : band["nodata"].dump();
    s += fmt::format("  band {:<3}    {:<8} block {}x{}  nodata {}{}{}{}\n", band["band"].get<int>(),
                     band["type"].get<std::string>(), band["block"][0].get<int>(), band["block"][1].get<int>(), nodata,
                     band["overviews"].get<int>() ? fmt::format("  {} overviews", band["overviews"].get<int>()) : "",
                     band["mask"].get<bool>() ? "  mask" : "",
                     band["description"].get<std::string>().empty() ? "" : "  \"" + band["description"].get<std::string>() + "\"");
    if (band.contains("statistics") && !band["statistics"].is_null()) {
      const auto& st = band["statistics"];
      s += fmt::format("              min {:.6g}  max {:.6g}  mean {:.6g}  stddev {:.6g}\n", st["min"].get<double>(),
                       st["max"].get<double>(), st["mean"].get<double>(), st["stddev"].get<double>());
    }
  }
  return s;
}

}  // namespace sco::io
