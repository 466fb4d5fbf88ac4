#include <gtest/gtest.h>

#include <gdal_priv.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "algebra/block_evaluator.hpp"
#include "algebra/expression.hpp"
#include "core/error.hpp"
#include "io/block_pipeline.hpp"
#include "io/gdal_session.hpp"
#include "io/grid_alignment.hpp"
#include "io/raster_dataset.hpp"
#include "support/temp_dir.hpp"

using namespace sco;

namespace {

// f(x, y): a pattern whose every pixel is checkable; -1 marks nodata on a diagonal stripe.
int pattern(int x, int y) { return (x + y) % 97 == 0 ? -1 : (x * 7 + y * 3) % 1000; }

const double kTransform[6] = {500000, 10, 0, 4600000, 0, -10};

void write_raster(const std::string& path, int w, int h, GDALDataType type, std::vector<std::string> options,
                  const std::function<double(int, int)>& f, std::optional<double> nodata, const double* transform = kTransform,
                  int epsg = 32631, bool with_mask = false) {
  io::init_gdal();
  std::vector<const char*> opts;
  for (auto& o : options) opts.push_back(o.c_str());
  opts.push_back(nullptr);
  GDALDataset* ds = GetGDALDriverManager()->GetDriverByName("GTiff")->Create(path.c_str(), w, h, 1, type,
                                                                            const_cast<char**>(opts.data()));
  ASSERT_NE(ds, nullptr);
  ds->SetGeoTransform(const_cast<double*>(transform));
  OGRSpatialReference srs;
  srs.importFromEPSG(epsg);
  ds->SetSpatialRef(&srs);
  if (nodata) ds->GetRasterBand(1)->SetNoDataValue(*nodata);
  std::vector<double> row(w);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) row[x] = f(x, y);
    ASSERT_EQ(ds->GetRasterBand(1)->RasterIO(GF_Write, 0, y, w, 1, row.data(), w, 1, GDT_Float64, 0, 0), CE_None);
  }
  if (with_mask) {
    // Per-dataset mask: the left 10 columns are masked out.
    ASSERT_EQ(ds->CreateMaskBand(GMF_PER_DATASET), CE_None);
    std::vector<std::uint8_t> m(w);
    for (int x = 0; x < w; ++x) m[x] = x < 10 ? 0 : 255;
    for (int y = 0; y < h; ++y) {
      ASSERT_EQ(ds->GetRasterBand(1)->GetMaskBand()->RasterIO(GF_Write, 0, y, w, 1, m.data(), w, 1, GDT_Byte, 0, 0), CE_None);
    }
  }
  GDALClose(ds);
}

std::vector<double> read_all(const std::string& path, int* w = nullptr, int* h = nullptr) {
  GDALDataset* ds = static_cast<GDALDataset*>(GDALOpen(path.c_str(), GA_ReadOnly));
  EXPECT_NE(ds, nullptr) << path;
  if (!ds) return {};
  const int W = ds->GetRasterXSize(), H = ds->GetRasterYSize();
  std::vector<double> v(static_cast<std::size_t>(W) * H);
  EXPECT_EQ(ds->GetRasterBand(1)->RasterIO(GF_Read, 0, 0, W, H, v.data(), W, H, GDT_Float64, 0, 0), CE_None);
  if (w) *w = W;
  if (h) *h = H;
  GDALClose(ds);
  return v;
}

// Every pixel of the W x H raster at `path` equals want(x, y) (NaN: is NaN).
void expect_pixels(const std::string& path, int W, int H, const std::function<double(int, int)>& want, int threads) {
  int w = 0, h = 0;
  const auto v = read_all(path, &w, &h);
  ASSERT_EQ(w, W);
  ASSERT_EQ(h, H);
  for (int y = 0; y < H; ++y) {
    for (int x = 0; x < W; ++x) {
      const double got = v[static_cast<std::size_t>(y) * W + x], expected = want(x, y);
      if (std::isnan(expected)) {
        ASSERT_TRUE(std::isnan(got)) << x << "," << y << " threads " << threads;
      } else {
        ASSERT_EQ(got, expected) << x << "," << y << " threads " << threads;
      }
    }
  }
}

class ExprWorker : public io::BlockWorker {
 public:
  explicit ExprWorker(const algebra::Program& p) : ev_(p, algebra::Precision::kFloat32) {}
  void process(std::span<const core::BlockView> in, const core::MutableBlockView& out) override { ev_.evaluate(in, out); }

 private:
  algebra::BlockEvaluator ev_;
};

io::PipelineResult run_expr(const std::string& expr, const std::vector<std::string>& names,
                            const std::vector<io::PipelineInput>& inputs, const io::OutputSpec& out, int threads) {
  const algebra::Program p = algebra::Program::compile(algebra::parse_expression(expr), names);
  io::PipelineOptions opt;
  opt.threads = threads;
  return io::run_block_pipeline(inputs, out, [&] { return std::make_unique<ExprWorker>(p); }, opt);
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

TEST(Pipeline, OddSizedTiledAndStripedInputsGiveEveryPixel) {
  test::TempDir dir;
  // 1000 x 700: neither a multiple of the 256 tiles of `a` nor of the one-row strips of `b`.
  const int W = 1000, H = 700;
  write_raster(dir.file("a.tif"), W, H, GDT_Int16, {"TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256"},
               [](int x, int y) { return pattern(x, y); }, -1);
  write_raster(dir.file("b.tif"), W, H, GDT_Byte, {"COMPRESS=DEFLATE"}, [](int x, int y) { return (x + 2 * y) % 200; },
               std::nullopt);
  for (int threads : {1, 2, 3}) {
    io::OutputSpec out;
    out.path = dir.file("out.tif");
    out.type = core::DataType::kFloat32;
    out.nodata = std::nan("");
    const auto r = run_expr("a * 2 + b", {"a", "b"}, {{dir.file("a.tif"), 1}, {dir.file("b.tif"), 1}}, out, threads);
    EXPECT_EQ(r.grid.width, W);
    expect_pixels(out.path, W, H, [](int x, int y) { return pattern(x, y) == -1 ? std::nan("") : pattern(x, y) * 2 + (x + 2 * y) % 200; },
                  threads);
  }
  // The output is a cloud-optimised GeoTIFF with the inputs' georeferencing and NaN nodata.
  GDALDataset* ds = static_cast<GDALDataset*>(GDALOpen(dir.file("out.tif").c_str(), GA_ReadOnly));
  ASSERT_NE(ds, nullptr);
  EXPECT_STREQ(ds->GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE"), "COG");
  EXPECT_STREQ(ds->GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE"), "DEFLATE");
  double t[6];
  ds->GetGeoTransform(t);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(t[i], kTransform[i]);
  EXPECT_STREQ(ds->GetSpatialRef()->GetAuthorityCode(nullptr), "32631");
  int has = 0;
  EXPECT_TRUE(std::isnan(ds->GetRasterBand(1)->GetNoDataValue(&has)));
  EXPECT_TRUE(has);
  GDALClose(ds);
  // Nothing but the inputs and the output is left in the folder.
  auto files = dir.files();
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"a.tif", "b.tif", "out.tif"}));
}

// A plain GTiff is written in place (io/in_place_tiff): rows of tiles from striped inputs are cut
// into the file's tiles, the edge ones padded with nodata, by whichever thread computed them.
TEST(Pipeline, AGTiffOfStripedInputsIsWrittenTileByTile) {
  test::TempDir dir;
  const int W = 1000, H = 700;
  write_raster(dir.file("a.tif"), W, H, GDT_Int16, {}, [](int x, int y) { return pattern(x, y); }, -1);
  for (int threads : {1, 3}) {
    io::OutputSpec out;
    out.path = dir.file(fmt::format("out{}.tif", threads));
    out.format = io::OutputFormat::kGTiff;
    out.nodata = -5;
    run_expr("a * 2", {"a"}, {{dir.file("a.tif"), 1}}, out, threads);
    expect_pixels(out.path, W, H, [](int x, int y) { return pattern(x, y) == -1 ? -5.0 : pattern(x, y) * 2.0; }, threads);
    GDALDataset* ds = static_cast<GDALDataset*>(GDALOpen(out.path.c_str(), GA_ReadOnly));
    ASSERT_NE(ds, nullptr);
    int bw = 0, bh = 0;
    ds->GetRasterBand(1)->GetBlockSize(&bw, &bh);
    EXPECT_EQ(bw, 512);
    EXPECT_EQ(bh, 512);
    // The padding of the bottom-right tile is nodata, in the file's bytes (GDAL does not read it back).
    const std::size_t at = std::stoull(ds->GetRasterBand(1)->GetMetadataItem("BLOCK_OFFSET_1_1", "TIFF"));
    GDALClose(ds);
    const std::string bytes = slurp(out.path);
    ASSERT_EQ(bytes.size(), at + 512 * 512 * 4);
    std::vector<float> last(512 * 512);
    std::memcpy(last.data(), bytes.data() + at, last.size() * 4);
    EXPECT_EQ(last[511 * 512 + 511], -5.0f);
    EXPECT_EQ(last[100 * 512 + 488], -5.0f);  // x = 1000, past the right edge
    EXPECT_EQ(last[187 * 512 + 487], pattern(999, 699) * 2.0f);
  }
  EXPECT_EQ(slurp(dir.file("out1.tif")), slurp(dir.file("out3.tif")));
}

TEST(Pipeline, MaskBandsAreCarriedThrough) {
  test::TempDir dir;
  write_raster(dir.file("m.tif"), 300, 40, GDT_UInt16, {}, [](int x, int) { return x; }, std::nullopt, kTransform, 32631, true);
  io::OutputSpec out;
  out.path = dir.file("o.tif");
  out.type = core::DataType::kInt16;
  out.nodata = -1;
  out.format = io::OutputFormat::kGTiff;
  run_expr("m + 1", {"m"}, {{dir.file("m.tif"), 1}}, out, 2);
  const auto v = read_all(out.path);
  for (int y = 0; y < 40; ++y)
    for (int x = 0; x < 300; ++x) ASSERT_EQ(v[static_cast<std::size_t>(y) * 300 + x], x < 10 ? -1 : x + 1) << x;
}

TEST(Pipeline, RerunsAreByteIdentical) {
  test::TempDir dir;
  write_raster(dir.file("a.tif"), 1500, 900, GDT_Float32, {"TILED=YES"}, [](int x, int y) { return std::sin(x * 0.01) * y; },
               std::nullopt);
  for (auto format : {io::OutputFormat::kGTiff, io::OutputFormat::kCog}) {
    io::OutputSpec out;
    out.format = format;
    out.nodata = -9999;
    out.path = dir.file("1.tif");
    run_expr("sqrt(abs(a))", {"a"}, {{dir.file("a.tif"), 1}}, out, 2);
    out.path = dir.file("2.tif");
    run_expr("sqrt(abs(a))", {"a"}, {{dir.file("a.tif"), 1}}, out, 2);
    EXPECT_EQ(slurp(dir.file("1.tif")), slurp(dir.file("2.tif")));
  }
}

TEST(Pipeline, MismatchedGridsNameBothFiles) {
  test::TempDir dir;
  write_raster(dir.file("a.tif"), 100, 100, GDT_Byte, {}, [](int, int) { return 1; }, std::nullopt);
  const double shifted[6] = {500005, 10, 0, 4600000, 0, -10};
  write_raster(dir.file("b.tif"), 100, 100, GDT_Byte, {}, [](int, int) { return 1; }, std::nullopt, shifted);
  write_raster(dir.file("c.tif"), 100, 100, GDT_Byte, {}, [](int, int) { return 1; }, std::nullopt, kTransform, 32632);
  io::OutputSpec out;
  out.path = dir.file("o.tif");
  for (const char* other : {"b.tif", "c.tif"}) {
    try {
      run_expr("a + b", {"a", "b"}, {{dir.file("a.tif"), 1}, {dir.file(other), 1}}, out, 1);
      FAIL() << "no error for " << other;
    } catch (const core::Error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(e.code(), core::ErrorCode::kInvalidInput);
      EXPECT_NE(msg.find("different grids"), std::string::npos) << msg;
      EXPECT_NE(msg.find(dir.file("a.tif")), std::string::npos) << msg;
      EXPECT_NE(msg.find(dir.file(other)), std::string::npos) << msg;
    }
  }
  EXPECT_FALSE(std::filesystem::exists(out.path));
}

TEST(Pipeline, AFailingWorkerLeavesNoFileBehind) {
  test::TempDir dir;
  write_raster(dir.file("a.tif"), 2000, 2000, GDT_Byte, {"TILED=YES"}, [](int, int) { return 1; }, std::nullopt);
  class Failing : public io::BlockWorker {
   public:
    void process(std::span<const core::BlockView>, const core::MutableBlockView&) override {
      if (++n_ == 5) core::fail(core::ErrorCode::kIo, "disk full (simulated)");
    }
    int n_ = 0;
  };
  io::OutputSpec out;
  out.path = dir.file("o.tif");
  io::PipelineOptions opt;
  opt.threads = 2;
  EXPECT_THROW(io::run_block_pipeline({{dir.file("a.tif"), 1}}, out, [] { return std::make_unique<Failing>(); }, opt),
               core::Error);
  EXPECT_EQ(dir.files(), (std::vector<std::string>{"a.tif"}));
}

TEST(Pipeline, MissingBandAndOutputIsInput) {
  test::TempDir dir;
  write_raster(dir.file("a.tif"), 10, 10, GDT_Byte, {}, [](int, int) { return 1; }, std::nullopt);
  io::OutputSpec out;
  out.path = dir.file("o.tif");
  try {
    run_expr("a", {"a"}, {{dir.file("a.tif"), 2}}, out, 1);
    FAIL();
  } catch (const core::Error& e) {
    EXPECT_EQ(e.code(), core::ErrorCode::kNotFound);
    EXPECT_NE(std::string(e.what()).find("has 1 band; band 2 does not exist"), std::string::npos) << e.what();
  }
  out.path = dir.file("a.tif");
  EXPECT_THROW(run_expr("a", {"a"}, {{dir.file("a.tif"), 1}}, out, 1), core::Error);
}

// An input given as a window of a larger file (the run's VRT of its area of interest) is read from the
// file at the window's offset: whole tiles when the offset falls on tile edges, partial windows
// otherwise; every pixel is the file's pixel shifted by the offset.
TEST(Pipeline, WindowsOfALargerFileAreReadAtTheirOffset) {
  test::TempDir dir;
  const int W = 1300, H = 900;
  write_raster(dir.file("big.tif"), W, H, GDT_Int16, {"TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256"},
               [](int x, int y) { return pattern(x, y); }, -1);
  const core::Grid big = io::RasterDataset::open(dir.file("big.tif")).grid();
  struct Case { int x, y, w, h; };
  for (const Case c : {Case{256, 512, 700, 300}, Case{37, 101, 600, 500}, Case{0, 0, W, H}}) {
    core::Grid sub = big;
    sub.width = c.w;
    sub.height = c.h;
    sub.transform[0] += c.x * big.transform[1];
    sub.transform[3] += c.y * big.transform[5];
    const auto found = io::aligned_window(big, sub);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(*found, (core::Window{c.x, c.y, c.w, c.h}));
    io::write_aligned_vrt(dir.file("big.tif"), big, sub, "near", dir.file("sub.vrt"));
    io::PipelineInput in{dir.file("sub.vrt"), 1};
    in.source = dir.file("big.tif");
    in.source_x = c.x;
    in.source_y = c.y;
    io::OutputSpec out;
    out.path = dir.file("o.tif");
    out.type = core::DataType::kFloat32;
    out.nodata = std::nan("");
    run_expr("a + 1", {"a"}, {in}, out, 2);
    int w = 0, h = 0;
    const auto v = read_all(out.path, &w, &h);
    ASSERT_EQ(w, c.w);
    ASSERT_EQ(h, c.h);
    for (int y = 0; y < c.h; ++y) {
      for (int x = 0; x < c.w; ++x) {
        const int a = pattern(x + c.x, y + c.y);
        const double got = v[static_cast<std::size_t>(y) * c.w + x];
        if (a == -1) ASSERT_TRUE(std::isnan(got)) << x << "," << y;
        else ASSERT_EQ(got, a + 1) << x << "," << y << " window at " << c.x << "," << c.y;
      }
    }
  }
  // Not a plain window: reaching past the file, or a half-cell shift.
  core::Grid past = big;
  past.transform[0] -= big.transform[1];
  EXPECT_FALSE(io::aligned_window(big, past).has_value());
  core::Grid half = big;
  half.width = 10;
  half.height = 10;
  half.transform[0] += 0.5 * big.transform[1];
  EXPECT_FALSE(io::aligned_window(big, half).has_value());
}

namespace {
// out = ((a * 3 + b) * 3 + c): right only when the inputs come one at a time in their order.
class HornerWorker : public io::BlockWorker {
 public:
  void process(std::span<const core::BlockView>, const core::MutableBlockView&) override { FAIL() << "a folding worker is not asked to process"; }
  bool folds_inputs() const override { return true; }
  void begin(const core::MutableBlockView& out) override {
    acc_.assign(static_cast<std::size_t>(out.width) * out.height, 0.0);
    next_ = 0;
    ++windows;
  }
  void fold(std::size_t k, const core::BlockView& in) override {
    EXPECT_EQ(k, next_++);
    for (int y = 0; y < in.height; ++y) {
      for (int x = 0; x < in.width; ++x) {
        const double v = in.type == core::DataType::kInt16 ? static_cast<const std::int16_t*>(in.row(y))[x] : static_cast<const std::uint8_t*>(in.row(y))[x];
        acc_[static_cast<std::size_t>(y) * in.width + x] = acc_[static_cast<std::size_t>(y) * in.width + x] * 3 + v;
      }
    }
  }
  void finish(const core::MutableBlockView& out) override {
    EXPECT_EQ(next_, 3u);
    for (int y = 0; y < out.height; ++y) {
      for (int x = 0; x < out.width; ++x) static_cast<float*>(out.row(y))[x] = static_cast<float>(acc_[static_cast<std::size_t>(y) * out.width + x]);
    }
  }
  static inline std::atomic<int> windows{0};

 private:
  std::vector<double> acc_;
  std::size_t next_ = 0;
};
}  // namespace

TEST(Pipeline, WorkersThatFoldTheirInputsGetThemOneAtATimeInOrder) {
  test::TempDir dir;
  const int W = 1000, H = 700;  // several windows, the last ones cut
  write_raster(dir.file("a.tif"), W, H, GDT_Int16, {"TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512"}, [](int x, int y) { return (x * 7 + y) % 300; },
               std::nullopt);
  write_raster(dir.file("b.tif"), W, H, GDT_Byte, {"COMPRESS=DEFLATE"}, [](int x, int y) { return (x + 2 * y) % 200; }, std::nullopt);
  write_raster(dir.file("c.tif"), W, H, GDT_Int16, {"TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256"}, [](int x, int y) { return (x * y) % 50; },
               std::nullopt);
  for (int threads : {1, 2}) {
    HornerWorker::windows = 0;
    io::OutputSpec out;
    out.path = dir.file("out.tif");
    out.type = core::DataType::kFloat32;
    out.nodata = std::nan("");
    io::PipelineOptions opt;
    opt.threads = threads;
    const io::PipelineResult r =
        io::run_block_pipeline({{dir.file("a.tif"), 1}, {dir.file("b.tif"), 1}, {dir.file("c.tif"), 1}}, out, [] { return std::make_unique<HornerWorker>(); }, opt);
    EXPECT_GE(r.windows, 2);
    EXPECT_EQ(HornerWorker::windows.load(), r.windows);  // begun (and finished) once per window
    const auto v = read_all(out.path);
    for (int y = 0; y < H; ++y) {
      for (int x = 0; x < W; ++x) {
        ASSERT_EQ(v[static_cast<std::size_t>(y) * W + x], ((x * 7 + y) % 300 * 3 + (x + 2 * y) % 200) * 3 + (x * y) % 50) << x << "," << y;
      }
    }
  }
}
