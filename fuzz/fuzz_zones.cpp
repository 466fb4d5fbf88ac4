// The vector-zone reader on arbitrary files: by the first byte, the bytes are a GeoJSON document, or
// a shapefile's .shp, .shx and .dbf (the next six bytes give the first two files' lengths); they are
// read as zones (OGR, GEOS repair of invalid geometries, the .dbf header check), reprojected onto a
// small grid and their exact coverage fractions computed.
// Properties: no crash, no hang, only sco errors thrown; every coverage fraction lies in [0, 1].
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include "core/error.hpp"
#include "core/grid.hpp"
#include "io/gdal_session.hpp"
#include "io/vector_zones.hpp"
#include "zonal/coverage.hpp"
#include "fuzz_support.hpp"


namespace {
// GEOS 3.11.1 (Debian 12) repairing some invalid polygons of a few dozen vertices does not finish
// (OverlayNG's labelling; sco zonal waits on it: see the note of issue 17). Invalid geometries of
// more than about 16 vertices are left out, so that the target fuzzes sco's code, not GEOS's.
bool worth_reading(const std::string& path) {
  GDALDataset* ds = static_cast<GDALDataset*>(GDALOpenEx(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, nullptr, nullptr));
  if (!ds) return true;  // read_zones says why
  bool ok = true;
  for (int l = 0; ok && l < ds->GetLayerCount(); ++l) {
    for (auto& f : *ds->GetLayer(l)) {
      const OGRGeometry* g = f->GetGeometryRef();
      if (g && g->WkbSize() > 16 * 16 + 64 && !g->IsValid()) {
        ok = false;
        break;
      }
    }
  }
  GDALClose(ds);
  sco::io::clear_gdal_error();
  return ok;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string dir = sco::fuzz::scratch_dir("zones");
  if (size < 1) return 0;
  std::string path;
  if (data[0] & 1) {
    path = dir + "/z.geojson";
    sco::fuzz::write_file(path, data + 1, size - 1);
  } else {
    if (size < 7) return 0;
    const std::size_t a = std::min<std::size_t>(data[1] | (data[2] << 8) | (data[3] << 16), size - 7);
    const std::size_t b = std::min<std::size_t>(data[4] | (data[5] << 8) | (data[6] << 16), size - 7 - a);
    path = dir + "/z.shp";
    sco::fuzz::write_file(path, data + 7, a);
    sco::fuzz::write_file(dir + "/z.shx", data + 7 + a, b);
    sco::fuzz::write_file(dir + "/z.dbf", data + 7 + a + b, size - 7 - a - b);
  }
  if (!worth_reading(path)) return 0;
  try {
    const sco::io::VectorZones zones = sco::io::read_zones(path, "", "");
    // A 40 x 40 grid in WGS 84 over the area most seeds lie in (Olinda, Brazil), and beyond.
    sco::core::Grid grid;
    grid.width = 40;
    grid.height = 40;
    grid.transform = {-35.0, 0.005, 0, -7.9, 0, -0.005};
    grid.crs_wkt = R"(GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]])";
    std::vector<std::string> warnings;
    sco::zonal::ZoneEdges::Scratch scratch;
    std::vector<double> fractions;
    for (const auto& zone : sco::io::zones_for_grid(zones, grid, warnings)) {
      const sco::zonal::ZoneEdges edges(zone, grid);
      if (edges.empty()) continue;
      edges.coverage(0, edges.window().height, fractions, scratch);
      for (const double f : fractions) {
        if (!(f >= -1e-9 && f <= 1.0 + 1e-9)) std::abort();
      }
    }
  } catch (const sco::core::Error&) {
  }
  return 0;
}
