#pragma once
// A small catalog for the server fuzzers, made once per process: a collection "c" with an item "i"
// whose asset is a 64 x 64, 4-band GeoTIFF near Olinda (EPSG:4326), written with GDAL.
#include <gdal_priv.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "catalog/ingest.hpp"
#include "catalog/store.hpp"
#include "io/gdal_session.hpp"

namespace sco::fuzz {

// A scratch folder of this process for the files a target writes (GDAL initialised).
inline std::string scratch_dir(const std::string& name) {
  io::init_gdal();
  const auto d = std::filesystem::temp_directory_path() / ("sco-fuzz-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d.string();
}

// Writes `n` bytes to `path`, replacing it.
inline void write_file(const std::string& path, const std::uint8_t* p, std::size_t n) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(p), static_cast<std::streamsize>(n));
}

inline catalog::CatalogStore& fuzz_store() {
  static std::unique_ptr<catalog::CatalogStore> store = [] {
    io::init_gdal();
    const auto dir = std::filesystem::temp_directory_path() / ("sco-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string tif = (dir / "i_2021-01-01.tif").string();
    GDALDriver* drv = GetGDALDriverManager()->GetDriverByName("GTiff");
    GDALDataset* ds = drv->Create(tif.c_str(), 64, 64, 4, GDT_UInt16, nullptr);
    double gt[6] = {-34.9, 0.001, 0, -7.95, 0, -0.001};
    ds->SetGeoTransform(gt);
    OGRSpatialReference srs;
    srs.importFromEPSG(4326);
    ds->SetSpatialRef(&srs);
    for (int b = 1; b <= 4; ++b) {
      std::uint16_t v[64 * 64];
      for (int k = 0; k < 64 * 64; ++k) v[k] = static_cast<std::uint16_t>((k * b) % 5000);
      (void)ds->GetRasterBand(b)->RasterIO(GF_Write, 0, 0, 64, 64, v, 64, 64, GDT_UInt16, 0, 0);
      ds->GetRasterBand(b)->SetNoDataValue(0);
    }
    GDALClose(ds);
    auto s = catalog::open_sqlite_store(dir.string());
    catalog::ingest(*s, {tif}, "c", {});
    return s;
  }();
  return *store;
}

}  // namespace sco::fuzz
