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
#include "render/resample.hpp"
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

TEST(Png, IndexedPaletteAndTransparencyReadBack) {
  io::init_gdal();
  const int w = 37, h = 5;
  std::vector<std::uint8_t> index(static_cast<std::size_t>(w) * h);
  for (std::size_t i = 0; i < index.size(); ++i) index[i] = static_cast<std::uint8_t>((i * 7 + i / 11) % 4);
  const std::vector<std::array<std::uint8_t, 4>> palette{{0, 0, 0, 0}, {68, 1, 84, 255}, {33, 145, 140, 255}, {253, 231, 37, 255}};
  const std::string png = render::encode_png_indexed(index.data(), w, h, palette);
  ASSERT_EQ(png.substr(1, 3), "PNG");
  EXPECT_NE(png.find("PLTE"), std::string::npos);
  EXPECT_NE(png.find("tRNS"), std::string::npos);
  VSILFILE* f = VSIFileFromMemBuffer("/vsimem/indexed.png", reinterpret_cast<GByte*>(const_cast<char*>(png.data())), png.size(), FALSE);
  VSIFCloseL(f);
  GDALDataset* ds = GDALDataset::FromHandle(GDALOpen("/vsimem/indexed.png", GA_ReadOnly));
  ASSERT_NE(ds, nullptr);
  ASSERT_EQ(ds->GetRasterCount(), 1);
  const GDALColorTable* ct = ds->GetRasterBand(1)->GetColorTable();
  ASSERT_NE(ct, nullptr);
  ASSERT_GE(ct->GetColorEntryCount(), 4);
  for (int k = 0; k < 4; ++k) {
    const GDALColorEntry* e = ct->GetColorEntry(k);
    EXPECT_EQ((std::array<short, 4>{e->c1, e->c2, e->c3, e->c4}),
              (std::array<short, 4>{palette[k][0], palette[k][1], palette[k][2], palette[k][3]}))
        << "entry " << k;
  }
  std::vector<std::uint8_t> back(index.size());
  ASSERT_EQ(ds->GetRasterBand(1)->RasterIO(GF_Read, 0, 0, w, h, back.data(), w, h, GDT_Byte, 0, 0, nullptr), CE_None);
  GDALClose(ds);
  VSIUnlink("/vsimem/indexed.png");
  EXPECT_EQ(back, index);
  EXPECT_THROW(render::encode_png_indexed(index.data(), w, h, {}), core::Error);
}

// The warp kernel against transformations whose answers are known in closed form.
TEST(Resample, AffineGridIsExactAndBoundsHoldEveryPixel) {
  int calls = 0;
  const render::PointTransform affine = [&](double* u, double* v, std::size_t n) {
    ++calls;
    for (std::size_t p = 0; p < n; ++p) {
      const double x = 2 * u[p] + 3, y = 0.5 * v[p] + 1;
      u[p] = x;
      v[p] = y;
    }
    return std::vector<char>(n, 1);
  };
  const auto c = render::pixel_coordinates(256, affine);
  EXPECT_EQ(calls, 1);  // linear: the first grid passes the error check
  for (int j : {0, 17, 100, 255}) {
    for (int i : {0, 31, 32, 200, 255}) {
      const std::size_t p = static_cast<std::size_t>(j) * 256 + i;
      EXPECT_NEAR(c.x[p], 2 * (i + 0.5) + 3, 1e-3) << i << "," << j;
      EXPECT_NEAR(c.y[p], 0.5 * (j + 0.5) + 1, 1e-4) << i << "," << j;
    }
  }
  EXPECT_LE(c.min_x, 4.0f);
  EXPECT_GE(c.max_x, 2 * 255.5f + 3);
  const auto win = render::source_window(c, 300, 100, 0);
  EXPECT_EQ(win.x0, 4);
  EXPECT_EQ(win.x1, 300);  // clipped to the source
  EXPECT_EQ(win.y0, 1);
}

TEST(Resample, CurvedTransformRefinesUntilWithinTolerance) {
  // x = u^2 / 64: interpolating over s pixels errs by s^2 / 256 at a cell's centre (s = 32: 4 px),
  // so the grid is refined to s = 4 (0.0625 px).
  const render::PointTransform curved = [](double* u, double* v, std::size_t n) {
    for (std::size_t p = 0; p < n; ++p) u[p] = u[p] * u[p] / 64;
    (void)v;
    return std::vector<char>(n, 1);
  };
  const auto c = render::pixel_coordinates(256, curved);
  double worst = 0;
  for (int i = 0; i < 256; ++i) worst = std::max(worst, std::abs(c.x[static_cast<std::size_t>(i)] - (i + 0.5) * (i + 0.5) / 64));
  EXPECT_LE(worst, 0.125);
  EXPECT_GT(worst, 0.01);  // interpolated, not exact
}

TEST(Resample, PointsWithoutImageAreNaN) {
  // Points left of u = 100 fail (as beyond a projection's domain): every pixel is then transformed.
  const render::PointTransform half = [](double* u, double* v, std::size_t n) {
    std::vector<char> ok(n);
    for (std::size_t p = 0; p < n; ++p) ok[p] = u[p] >= 100 ? 1 : 0;
    (void)v;
    return ok;
  };
  const auto c = render::pixel_coordinates(256, half);
  EXPECT_TRUE(std::isnan(c.x[99]));
  EXPECT_FLOAT_EQ(c.x[100], 100.5f);
  EXPECT_FLOAT_EQ(c.min_x, 100.5f);
}

TEST(Resample, NearestAndBilinearByHand) {
  // A 4 x 3 source, all of it the window; 9 is nodata.
  const std::vector<std::uint16_t> src{10, 20, 30, 40,  //
                                       50, 60, 9, 80,   //
                                       90, 100, 110, 120};
  const render::SourceWindow win{0, 0, 4, 3};
  render::PixelCoordinates c;
  c.size = 3;  // 9 sample points
  c.x = std::make_unique<float[]>(9);
  c.y = std::make_unique<float[]>(9);
  const float xs[9] = {0.2f, 3.9f, 2.5f, 1.0f, 2.0f, 2.0f, -0.1f, 4.0f, 0.5f};
  const float ys[9] = {0.2f, 2.9f, 1.5f, 1.0f, 2.0f, 1.0f, 1.0f, 1.0f, 0.5f};
  for (int k = 0; k < 9; ++k) {
    c.x[k] = xs[k];
    c.y[k] = ys[k];
  }
  float out[9];
  render::sample_band(src.data(), core::DataType::kUInt16, win, 4, 3, 9.0, c, render::Resampling::kNearest, out);
  EXPECT_FLOAT_EQ(out[0], 10);
  EXPECT_FLOAT_EQ(out[1], 120);
  EXPECT_TRUE(std::isnan(out[2]));  // pixel (2, 1) is nodata
  EXPECT_FLOAT_EQ(out[3], 60);      // (1.0, 1.0) is pixel (1, 1)'s corner: that pixel
  EXPECT_TRUE(std::isnan(out[6]));  // left of the source
  EXPECT_TRUE(std::isnan(out[7]));  // x = width: outside
  render::sample_band(src.data(), core::DataType::kUInt16, win, 4, 3, 9.0, c, render::Resampling::kBilinear, out);
  EXPECT_FLOAT_EQ(out[8], 10);                         // a pixel centre: that pixel
  EXPECT_FLOAT_EQ(out[3], (10 + 20 + 50 + 60) / 4.0f);  // the corner of four pixels: their mean
  // Between (1,1)=60, (2,1)=nodata, (1,2)=100, (2,2)=110 at equal weights: the three valid ones.
  EXPECT_FLOAT_EQ(out[4], (60 + 100 + 110) / 3.0f);
  // (2.0, 1.0): between (1,0)=20, (2,0)=30, (1,1)=60, (2,1)=nodata.
  EXPECT_FLOAT_EQ(out[5], (20 + 30 + 60) / 3.0f);
  EXPECT_TRUE(std::isnan(out[6]));
}

TEST(Resample, FarAwayPointsStayOutsideWithoutOverflow) {
  // A transformation that sends the tile beyond any float: the coordinates are clamped, the window
  // is empty and every sample is missing.
  const render::PointTransform far = [](double* u, double* v, std::size_t n) {
    for (std::size_t p = 0; p < n; ++p) {
      u[p] = 1e300 + u[p];
      v[p] = -1e300;
    }
    return std::vector<char>(n, 1);
  };
  const auto c = render::pixel_coordinates(64, far);
  EXPECT_TRUE(render::source_window(c, 1000, 1000, 1).empty());
  const std::vector<float> src(4, 1.0f);
  std::vector<float> out(64 * 64);
  render::sample_band(src.data(), core::DataType::kFloat32, render::SourceWindow{0, 0, 2, 2}, 2, 2, std::nullopt, c,
                      render::Resampling::kNearest, out.data());
  for (float v : out) ASSERT_TRUE(std::isnan(v));
}

TEST(Resample, AWindowInsideABiggerBlockIsReadWithItsPitch) {
  // A 6 x 5 block; the window is columns 2..4, rows 1..3 of a source as wide as the block. Sampled
  // through the block with pitch 6, or from a compact copy, every point must give the same values,
  // and (nearest) the value of the pixel it falls in: 10 x row + column.
  std::vector<float> block(30);
  for (int r = 0; r < 5; ++r)
    for (int col = 0; col < 6; ++col) block[static_cast<std::size_t>(r) * 6 + col] = static_cast<float>(10 * r + col);
  const render::SourceWindow win{2, 1, 5, 4};
  std::vector<float> compact;
  for (int r = 1; r < 4; ++r)
    for (int col = 2; col < 5; ++col) compact.push_back(block[static_cast<std::size_t>(r) * 6 + col]);
  render::PixelCoordinates c;
  c.size = 2;
  c.x = std::make_unique<float[]>(4);
  c.y = std::make_unique<float[]>(4);
  const float xs[4] = {2.5f, 4.9f, 3.2f, 4.5f}, ys[4] = {1.5f, 3.9f, 2.7f, 1.1f};
  for (int k = 0; k < 4; ++k) {
    c.x[k] = xs[k];
    c.y[k] = ys[k];
  }
  for (const auto resampling : {render::Resampling::kNearest, render::Resampling::kBilinear}) {
    float a[4], b[4];
    render::sample_band(block.data() + 1 * 6 + 2, core::DataType::kFloat32, win, 6, 5, std::nullopt, c, resampling, a, 6);
    render::sample_band(compact.data(), core::DataType::kFloat32, win, 6, 5, std::nullopt, c, resampling, b);
    for (int k = 0; k < 4; ++k) EXPECT_FLOAT_EQ(a[k], b[k]) << k;
    if (resampling == render::Resampling::kNearest) {
      for (int k = 0; k < 4; ++k) EXPECT_FLOAT_EQ(a[k], 10.0f * std::floor(ys[k]) + std::floor(xs[k])) << k;
    }
  }
}
