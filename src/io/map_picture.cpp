#include "io/map_picture.hpp"

#include <gdal_priv.h>
#include <cpl_vsi.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "core/error.hpp"
#include "io/gdal_session.hpp"
#include "io/raster_dataset.hpp"

namespace sco::io {

using core::ErrorCode;

MapPicture render_map_picture(const std::string& raster, const ColourTable& colours, int max_size, double low, double high, int band_number) {
  init_gdal();
  const RasterDataset ds = RasterDataset::open(raster);
  MapPicture pic;
  pic.grid = ds.grid();
  const int gw = pic.grid.width, gh = pic.grid.height;
  const double scale = std::min(1.0, static_cast<double>(max_size) / std::max(gw, gh));
  // Upsample small rasters too, so a coarse climate grid is not a postage stamp.
  const double factor = std::max(gw, gh) < max_size / 2 ? std::floor(static_cast<double>(max_size) / std::max(gw, gh)) : scale;
  pic.width = std::max(1, static_cast<int>(std::lround(gw * factor)));
  pic.height = std::max(1, static_cast<int>(std::lround(gh * factor)));
  std::vector<float> v(static_cast<std::size_t>(pic.width) * pic.height);
  GDALRasterBand* band = ds.band_handle(band_number);
  GDALRasterIOExtraArg extra;
  INIT_RASTERIO_EXTRA_ARG(extra);
  extra.eResampleAlg = GRIORA_NearestNeighbour;
  clear_gdal_error();
  if (band->RasterIO(GF_Read, 0, 0, gw, gh, v.data(), pic.width, pic.height, GDT_Float32, 0, 0, &extra) != CE_None) {
    core::fail(ErrorCode::kIo, "cannot read '{}' for its picture: {}", raster, take_gdal_error());
  }
  int has_nodata = 0;
  const double nodata = band->GetNoDataValue(&has_nodata);
  auto valid = [&](float x) { return x == x && !(has_nodata && static_cast<double>(x) == nodata); };
  if (!(low < high)) {
    std::vector<float> sorted;
    for (float x : v) {
      if (valid(x)) sorted.push_back(x);
    }
    if (!sorted.empty()) {
      std::sort(sorted.begin(), sorted.end());
      low = sorted[static_cast<std::size_t>(0.02 * static_cast<double>(sorted.size() - 1))];
      high = sorted[static_cast<std::size_t>(0.98 * static_cast<double>(sorted.size() - 1))];
      if (!(low < high)) {
        low = sorted.front();
        high = sorted.back();
      }
      if (!(low < high)) high = low + 1.0;
    } else {
      low = 0.0;
      high = 1.0;
    }
  }
  pic.low = low;
  pic.high = high;
  std::unique_ptr<GDALDataset> mem(GetGDALDriverManager()->GetDriverByName("MEM")->Create("", pic.width, pic.height, 4, GDT_Byte, nullptr));
  std::vector<std::uint8_t> channel(v.size());
  for (int c = 0; c < 4; ++c) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!valid(v[i])) {
        channel[i] = 0;
        continue;
      }
      if (c == 3) {
        channel[i] = 255;
        continue;
      }
      const double t = std::clamp((static_cast<double>(v[i]) - low) / (high - low), 0.0, 1.0);
      channel[i] = colours[static_cast<std::size_t>(std::lround(t * 255.0))][static_cast<std::size_t>(c)];
    }
    if (mem->GetRasterBand(c + 1)->RasterIO(GF_Write, 0, 0, pic.width, pic.height, channel.data(), pic.width, pic.height,
                                            GDT_Byte, 0, 0, nullptr) != CE_None) {
      core::fail(ErrorCode::kInternal, "cannot fill the picture of '{}'", raster);
    }
  }
  const std::string vsi = "/vsimem/sco_picture_" + std::to_string(reinterpret_cast<std::uintptr_t>(mem.get())) + ".png";
  GDALDataset* png = GetGDALDriverManager()->GetDriverByName("PNG")->CreateCopy(vsi.c_str(), mem.get(), FALSE, nullptr, nullptr, nullptr);
  if (!png) core::fail(ErrorCode::kInternal, "cannot encode the picture of '{}': {}", raster, take_gdal_error());
  GDALClose(png);
  vsi_l_offset size = 0;
  GByte* bytes = VSIGetMemFileBuffer(vsi.c_str(), &size, TRUE);
  pic.png.assign(reinterpret_cast<const char*>(bytes), static_cast<std::size_t>(size));
  CPLFree(bytes);
  VSIUnlink((vsi + ".aux.xml").c_str());
  return pic;
}

}  // namespace sco::io
