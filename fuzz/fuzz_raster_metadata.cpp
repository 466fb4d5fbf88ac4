// What sco reads from a raster at ingest, on arbitrary files. By the first byte:
//   even: the bytes are a GeoTIFF file;
//   odd:  they are the metadata GDAL's netCDF driver gives a variable (a time axis's values, units
//         and calendar, three lines), set on a small valid GeoTIFF: sco's reading of NetCDF metadata
//         without libnetcdf's own header parser (which crashes on some hostile files: a SEGV in
//         NC_hashmapadd and 13 GB allocations sized from the header, libnetcdf 4.9.0 of Debian 12,
//         outside sco).
// Each file goes through the ingest's readers: the readability check of every block, then the STAC
// item (grid, footprint reprojected to WGS 84, bands, nodata, scale, the date from TIFF tags or the
// CF time axis).
// Properties: no crash, no hang, no sanitizer report in sco's code, only sco errors thrown; an item
// that is built has a bbox of four finite numbers within WGS 84's range (longitudes up to 360 for
// grids in 0..360).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gdal.h>
#include <gdal_priv.h>
#include <ogr_spatialref.h>

#include "catalog/ingest.hpp"
#include "core/error.hpp"
#include "fuzz_support.hpp"
#include "io/gdal_session.hpp"
#include "io/raster_dataset.hpp"

namespace {

// A 4 x 3 GeoTIFF near Olinda with the fuzzed lines as the metadata of a NetCDF variable's time axis.
void write_netcdf_like(const std::string& path, const std::string& text) {
  std::string lines[3];
  std::size_t at = 0;
  for (auto& line : lines) {
    const std::size_t nl = text.find('\n', at);
    line = text.substr(std::min(at, text.size()), nl == std::string::npos ? std::string::npos : nl - at);
    at = nl == std::string::npos ? text.size() : nl + 1;
  }
  GDALDataset* ds = GetGDALDriverManager()->GetDriverByName("GTiff")->Create(path.c_str(), 4, 3, 2, GDT_Float32, nullptr);
  double gt[6] = {-35.0, 0.01, 0, -7.9, 0, -0.01};
  ds->SetGeoTransform(gt);
  OGRSpatialReference srs;
  srs.importFromEPSG(4326);
  ds->SetSpatialRef(&srs);
  ds->SetMetadataItem("NETCDF_DIM_EXTRA", "{time}");
  ds->SetMetadataItem("NETCDF_DIM_time_VALUES", lines[0].c_str());
  ds->SetMetadataItem("time#units", lines[1].c_str());
  ds->SetMetadataItem("time#calendar", lines[2].c_str());
  GDALClose(ds);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string dir = sco::fuzz::scratch_dir("raster");
  if (size < 1) return 0;
  const std::string path = dir + "/f_2021-01-01.tif";
  if (data[0] & 1) {
    write_netcdf_like(path, std::string(reinterpret_cast<const char*>(data + 1), size - 1));
  } else {
    sco::fuzz::write_file(path, data + 1, size - 1);
  }
  // A few hundred bytes can declare a raster of billions of (sparse) cells, which a full read decodes
  // at memory speed: reading such sizes is not what this target is about. Above 2^18 cells the
  // buffers' page faults and zeroing took a third of a run's time (perf), for no new paths.
  if (GDALDatasetH h = GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr)) {
    const double cells = 1.0 * GDALGetRasterXSize(h) * GDALGetRasterYSize(h) * std::max(1, GDALGetRasterCount(h));
    GDALClose(h);
    if (cells > double(1 << 18)) {
      std::filesystem::remove(path);
      return 0;
    }
  }
  sco::io::clear_gdal_error();
  try {
    sco::io::check_raster_readable(path);
    const auto built = sco::catalog::raster_item(path, "c", {.datetime = "2021-01-01"}, "00");
    const auto& b = built.item.at("bbox");
    for (int k = 0; k < 4; ++k) {
      const double v = b.at(k).get<double>();
      if (!std::isfinite(v) || (k % 2 ? std::fabs(v) > 90.0 : v < -180.0 || v > 360.0)) std::abort();
    }
  } catch (const sco::core::Error&) {
  }
  std::filesystem::remove(path);
  return 0;
}
