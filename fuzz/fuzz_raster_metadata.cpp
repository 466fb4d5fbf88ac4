// What sco reads from a raster at ingest, on arbitrary files: the bytes are written to a file named
// .tif or .nc (by the first byte) and given to the ingest's readers: the readability check of every
// block, then the STAC item (grid, footprint reprojected to WGS 84, bands, nodata, scale, the date
// from TIFF tags, NetCDF attributes and the CF time axis, subdatasets).
// Properties: no crash, no hang, no sanitizer report in sco's code, only sco errors thrown; an item
// that is built has a bbox of four finite numbers within WGS 84's range (longitudes up to 360 for
// grids in 0..360).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include <gdal.h>

#include "catalog/ingest.hpp"
#include "core/error.hpp"
#include "io/gdal_session.hpp"
#include "io/raster_dataset.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string dir = sco::fuzz::scratch_dir("raster");
  if (size < 1) return 0;
  const std::string path = dir + (data[0] & 1 ? "/f.nc" : "/f_2021-01-01.tif");
  sco::fuzz::write_file(path, data + 1, size - 1);
  // A few hundred bytes can declare a raster of billions of (sparse) cells, which a full read decodes
  // at memory speed: reading such sizes is not what this target is about.
  if (GDALDatasetH h = GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr)) {
    const double cells = 1.0 * GDALGetRasterXSize(h) * GDALGetRasterYSize(h) * std::max(1, GDALGetRasterCount(h));
    GDALClose(h);
    if (cells > double(1 << 22)) {
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
