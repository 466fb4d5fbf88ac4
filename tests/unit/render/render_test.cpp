// The PNG encoder, read back by GDAL's PNG driver (a second implementation); colour maps; tile boxes.
#include <gtest/gtest.h>

#include <gdal_priv.h>
#include <cpl_vsi.h>

#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "io/gdal_session.hpp"
#include "render/colormap.hpp"
#include "render/png_encoder.hpp"
#include "render/tile_renderer.hpp"

using namespace sco;

TEST(Png, GdalReadsBackEveryPixel) {
  io::init_gdal();
  const int w = 37, h = 5;  // odd sizes; rows that differ so the Up filter matters
  std::vector<std::uint8_t> rgba(static_cast<std::size_t>(w) * h * 4);
  for (std::size_t i = 0; i < rgba.size(); ++i) rgba[i] = static_cast<std::uint8_t>((i * 37 + i / 7) % 256);
  for (int level : {0, 1, 9}) {
    const std::string png = render::encode_png_rgba(rgba.data(), w, h, level);
    ASSERT_EQ(png.substr(1, 3), "PNG");
    VSILFILE* f = VSIFileFromMemBuffer("/vsimem/test.png", reinterpret_cast<GByte*>(const_cast<char*>(png.data())), png.size(), FALSE);
    VSIFCloseL(f);
    GDALDataset* ds = GDALDataset::FromHandle(GDALOpen("/vsimem/test.png", GA_ReadOnly));
    ASSERT_NE(ds, nullptr);
    ASSERT_EQ(ds->GetRasterCount(), 4);
    std::vector<std::uint8_t> back(rgba.size());
    ASSERT_EQ(ds->RasterIO(GF_Read, 0, 0, w, h, back.data(), w, h, GDT_Byte, 4, nullptr, 4, 4 * w, 1, nullptr), CE_None);
    GDALClose(ds);
    VSIUnlink("/vsimem/test.png");
    EXPECT_EQ(back, rgba) << "zlib level " << level;
  }
}

TEST(Colormap, EndsAndReversal) {
  const auto& v = render::colormap("viridis");
  EXPECT_EQ(v[0], (std::array<std::uint8_t, 3>{68, 1, 84}));
  EXPECT_EQ(v[255], (std::array<std::uint8_t, 3>{253, 231, 37}));
  EXPECT_EQ(render::colormap("VIRIDIS_r")[0], v[255]);
  EXPECT_EQ(render::colormap("greys")[128], (std::array<std::uint8_t, 3>{128, 128, 128}));
  EXPECT_THROW(render::colormap("rainbow"), core::Error);
}

TEST(TileMath, BoxesTileTheWorld) {
  const double half = 20037508.342789244;
  const auto world = render::tile_bounds(0, 0, 0);
  EXPECT_DOUBLE_EQ(world[0], -half);
  EXPECT_DOUBLE_EQ(world[3], half);
  // Zoom 1, tile (1, 0): the north-east quarter.
  const auto ne = render::tile_bounds(1, 1, 0);
  EXPECT_DOUBLE_EQ(ne[0], 0.0);
  EXPECT_DOUBLE_EQ(ne[1], 0.0);
  EXPECT_DOUBLE_EQ(ne[2], half);
  EXPECT_DOUBLE_EQ(ne[3], half);
}
