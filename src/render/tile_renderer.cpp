#include "render/tile_renderer.hpp"

#include <gdal_priv.h>
#include <gdalwarper.h>
#include <cpl_vsi.h>
#include <ogr_spatialref.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "algebra/block_evaluator.hpp"
#include "algebra/expression.hpp"
#include "algebra/program.hpp"
#include "core/error.hpp"
#include "core/fair_gate.hpp"
#include "io/gdal_session.hpp"
#include "io/raster_dataset.hpp"
#include "render/block_cache.hpp"
#include "render/colormap.hpp"
#include "render/png_encoder.hpp"
#include "render/resample.hpp"

namespace sco::render {

using core::ErrorCode;

namespace {

constexpr double kHalf = 20037508.342789244;  // half the Web Mercator world width, metres

// What every tile of a source needs, computed once per source.
struct SourceMeta {
  std::string crs_wkt;
  bool gdal_has_crs = true;
  int width = 0, height = 0, band_count = 0;
  std::vector<double> overview_factors;  // per overview level: full width / overview width
  std::array<double, 4> merc{};          // bounds in EPSG:3857
  std::array<double, 4> wgs84{};
  double merc_resolution = 0;            // metres per source pixel (approx.)
  bool all_bytes = true;
  std::vector<std::optional<double>> nodata;
  std::vector<core::DataType> types;
  std::pair<double, double> first_band_range{0, 255};
};

std::mutex g_meta_mutex;
std::map<std::string, std::shared_ptr<const SourceMeta>> g_meta;

struct DatasetCloser {
  void operator()(GDALDataset* d) const { GDALClose(d); }
};
using OpenDatasets = std::map<std::string, std::unique_ptr<GDALDataset, DatasetCloser>>;

// Buffers a tile is made in, kept by its slot: a tile's half-megabyte of allocations and zero fills
// were ~10 % of its time under load.
struct TileScratch {
  std::vector<std::vector<float>> values;  // the bands at the tile's pixels
  std::vector<std::uint8_t> window;        // one band's source window
  std::vector<std::uint16_t> levels;       // 0..255, or 256 where there is no value
  std::vector<std::uint8_t> pixels;        // palette indices
};

// What a rendering slot keeps between tiles: its tile buffers, open datasets (one per source and
// overview level) and the transformation from Web Mercator to each source's CRS (PROJ objects are
// not shared between threads, and making one costs more than a tile's pixels).
struct SlotState {
  TileScratch scratch;
  OpenDatasets datasets;
  std::map<std::string, std::unique_ptr<OGRCoordinateTransformation>> to_source;
};

// Rendering slots, one per core: a tile renders in a free slot, with that slot's open datasets.
// Server threads beyond the cores wait in arrival order (core::FairGate), so tiles are not
// time-sliced among dozens of connections (steadier latency) and open datasets stay bounded by the
// slots, not the threads.
class RenderSlots {
 public:
  RenderSlots() : states_(gate_.width()) {}
  core::FairGate& gate() { return gate_; }
  SlotState& state(std::size_t k) { return states_[k]; }

 private:
  core::FairGate gate_;
  std::vector<SlotState> states_;
};

RenderSlots& slots() {
  static RenderSlots s;
  return s;
}

struct SlotGuard {
  core::FairGate::Pass pass{slots().gate()};
  std::size_t k = pass.place();
};

GDALDataset* open_level(OpenDatasets& open, const std::string& source, int level) {
  const std::string key = fmt::format("{}#{}", source, level);
  auto it = open.find(key);
  if (it != open.end()) return it->second.get();
  if (open.size() > 64) open.clear();  // bounded per slot
  const std::string lvl = fmt::format("OVERVIEW_LEVEL={}", level);
  const char* opts[] = {lvl.c_str(), nullptr};
  io::clear_gdal_error();
  GDALDataset* ds = GDALDataset::FromHandle(
      GDALOpenEx(source.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, level >= 0 ? opts : nullptr, nullptr));
  if (!ds) core::fail(ErrorCode::kIo, "cannot open '{}' for tiles: {}", source, io::take_gdal_error());
  open[key].reset(ds);
  return ds;
}

std::shared_ptr<const SourceMeta> meta_of(const std::string& source) {
  {
    std::lock_guard lock(g_meta_mutex);
    auto it = g_meta.find(source);
    if (it != g_meta.end()) return it->second;
  }
  auto m = std::make_shared<SourceMeta>();
  const io::RasterDataset rd = io::RasterDataset::open(source);
  const core::Grid g = rd.grid();
  if (g.crs_wkt.empty()) core::fail(ErrorCode::kInvalidInput, "'{}' has no CRS: it cannot be tiled", source);
  m->crs_wkt = g.crs_wkt;
  m->gdal_has_crs = rd.handle()->GetSpatialRef() != nullptr;
  m->width = g.width;
  m->height = g.height;
  m->band_count = rd.band_count();
  GDALRasterBand* b1 = rd.band_handle(1);
  for (int k = 0; k < b1->GetOverviewCount(); ++k) m->overview_factors.push_back(static_cast<double>(g.width) / b1->GetOverview(k)->GetXSize());
  for (int b = 1; b <= m->band_count; ++b) {
    const io::BandInfo info = rd.band(b);
    m->all_bytes = m->all_bytes && info.type == core::DataType::kByte;
    m->nodata.push_back(info.nodata);
    m->types.push_back(info.type);
  }
  if (!m->all_bytes) {
    double mm[2] = {0, 1};
    if (b1->ComputeRasterMinMax(TRUE, mm) == CE_None) m->first_band_range = {mm[0], mm[1]};
  }
  // Bounds in Web Mercator and WGS 84 (edges densified).
  OGRSpatialReference src, merc, wgs;
  src.importFromWkt(g.crs_wkt.c_str());
  src.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  merc.importFromEPSG(3857);
  wgs.importFromEPSG(4326);
  wgs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  const auto& t = g.transform;
  const double x0 = t[0], x1 = t[0] + g.width * t[1], y0 = t[3] + g.height * t[5], y1 = t[3];
  std::unique_ptr<OGRCoordinateTransformation> to_wgs(OGRCreateCoordinateTransformation(&src, &wgs));
  if (!to_wgs || !to_wgs->TransformBounds(std::min(x0, x1), std::min(y0, y1), std::max(x0, x1), std::max(y0, y1), &m->wgs84[0], &m->wgs84[1],
                                          &m->wgs84[2], &m->wgs84[3], 21)) {
    core::fail(ErrorCode::kInvalidInput, "'{}': its extent cannot be transformed to WGS 84", source);
  }
  m->wgs84[1] = std::max(m->wgs84[1], -85.05112878);
  m->wgs84[3] = std::min(m->wgs84[3], 85.05112878);
  std::unique_ptr<OGRCoordinateTransformation> to_merc(OGRCreateCoordinateTransformation(&wgs, &merc));
  to_merc->TransformBounds(m->wgs84[0], m->wgs84[1], m->wgs84[2], m->wgs84[3], &m->merc[0], &m->merc[1], &m->merc[2], &m->merc[3], 21);
  m->merc_resolution = std::max((m->merc[2] - m->merc[0]) / g.width, (m->merc[3] - m->merc[1]) / g.height);
  std::lock_guard lock(g_meta_mutex);
  g_meta[source] = m;
  return m;
}

const std::string& transparent_png(int size) {
  static std::mutex mutex;
  static std::map<int, std::string> cache;
  std::lock_guard lock(mutex);
  auto it = cache.find(size);
  if (it != cache.end()) return it->second;
  const std::vector<std::uint8_t> zeros(static_cast<std::size_t>(size) * size, 0);
  cache[size] = encode_png_indexed(zeros.data(), size, size, {{0, 0, 0, 0}}, 12);
  return cache[size];
}

GDALResampleAlg resample_alg(const std::string& r) {
  if (r == "nearest" || r == "near") return GRA_NearestNeighbour;
  if (r == "bilinear") return GRA_Bilinear;
  if (r == "cubic") return GRA_Cubic;
  if (r == "average") return GRA_Average;
  if (r == "mode") return GRA_Mode;
  core::fail(ErrorCode::kInvalidInput, "resampling: '{}' is not nearest, bilinear, cubic, average or mode", r);
}


// DEFLATE for tiles. Indexed tiles (a colour map: the usual case) go through the scanline encoder
// (runs and the row above: 0.11 ms a 256 x 256 tile against 0.34 ms for libdeflate's level 1, about
// 11 % bigger, measured on the tiles benchmark's tiles); RGBA tiles (true colour, Up-filtered) through
// libdeflate's level 1, its fastest.
constexpr int kPngLevel = 1;
constexpr int kPngIndexed = kPngFast;

// Bigger windows than this (pixels) go through GDAL's warper, which works in chunks.
constexpr std::size_t kMaxWindowPixels = std::size_t{4096} * 4096;

OGRCoordinateTransformation* to_source(SlotState& state, const std::string& source, const SourceMeta& m) {
  auto& ct = state.to_source[source];
  if (!ct) {
    OGRSpatialReference merc, crs;
    merc.importFromEPSG(3857);
    merc.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    crs.importFromWkt(m.crs_wkt.c_str());
    crs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    io::clear_gdal_error();
    ct.reset(OGRCreateCoordinateTransformation(&merc, &crs));
    if (!ct) core::fail(ErrorCode::kIo, "cannot reproject '{}' to Web Mercator: {}", source, io::take_gdal_error());
  }
  return ct.get();
}

BlockCache& block_cache() {
  static BlockCache cache(std::size_t{512} << 20);
  return cache;
}

// Block (bx, by) of band `b` of the level's dataset `src`, decoded: from the shared cache, or
// decoded through this slot's handle and shared.
Block block_of(GDALRasterBand* band, const std::string& source, int level, int b, int bx, int by, std::size_t block_bytes) {
  const BlockKey key{source, level, b, bx, by};
  Block block = block_cache().get(key);
  if (block) return block;
  auto decoded = std::make_shared<std::vector<std::uint8_t>>(block_bytes);
  io::clear_gdal_error();
  if (band->ReadBlock(bx, by, decoded->data()) != CE_None) {
    core::fail(ErrorCode::kIo, "reading '{}' band {} block ({}, {}) for a tile failed: {}", source, b, bx, by, io::take_gdal_error());
  }
  block = std::move(decoded);
  block_cache().put(key, block);
  return block;
}

// Band `b`'s values in window `win` of the level's dataset `src`, for sample_band: a pointer into the
// shared block when the window lies inside one (`pitch` = the block's width; `held` keeps the block
// alive), else the window assembled from its blocks in `buffer` (`pitch` = the window's width).
const std::uint8_t* window_values(GDALDataset* src, const std::string& source, int level, int b, core::DataType type, const SourceWindow& win,
                                  std::vector<std::uint8_t>& buffer, Block& held, std::size_t& pitch) {
  GDALRasterBand* band = src->GetRasterBand(b);
  int bw = 0, bh = 0;
  band->GetBlockSize(&bw, &bh);
  const std::size_t elem = core::size_of(type);
  const std::size_t block_bytes = static_cast<std::size_t>(bw) * static_cast<std::size_t>(bh) * elem;
  const int x1 = win.x0 + win.width(), y1 = win.y0 + win.height();
  if (win.x0 / bw == (x1 - 1) / bw && win.y0 / bh == (y1 - 1) / bh) {
    const int bx = win.x0 / bw, by = win.y0 / bh;
    held = block_of(band, source, level, b, bx, by, block_bytes);
    pitch = static_cast<std::size_t>(bw);
    return held->data() + (static_cast<std::size_t>(win.y0 - by * bh) * static_cast<std::size_t>(bw) + static_cast<std::size_t>(win.x0 - bx * bw)) * elem;
  }
  pitch = static_cast<std::size_t>(win.width());
  buffer.resize(static_cast<std::size_t>(win.width()) * static_cast<std::size_t>(win.height()) * elem);
  const std::size_t out_row = static_cast<std::size_t>(win.width()) * elem;
  for (int by = win.y0 / bh; by <= (y1 - 1) / bh; ++by) {
    for (int bx = win.x0 / bw; bx <= (x1 - 1) / bw; ++bx) {
      const Block block = block_of(band, source, level, b, bx, by, block_bytes);
      // The part of the block inside the window.
      const int cx0 = std::max(win.x0, bx * bw), cx1 = std::min(x1, (bx + 1) * bw);
      const int cy0 = std::max(win.y0, by * bh), cy1 = std::min(y1, (by + 1) * bh);
      const std::size_t bytes = static_cast<std::size_t>(cx1 - cx0) * elem;
      for (int y = cy0; y < cy1; ++y) {
        const std::uint8_t* from = block->data() + (static_cast<std::size_t>(y - by * bh) * static_cast<std::size_t>(bw) +
                                                    static_cast<std::size_t>(cx0 - bx * bw)) * elem;
        std::uint8_t* to = buffer.data() + static_cast<std::size_t>(y - win.y0) * out_row + static_cast<std::size_t>(cx0 - win.x0) * elem;
        std::memcpy(to, from, bytes);
      }
    }
  }
  return buffer.data();
}

// The tile warped here (nearest or bilinear): pixel centres to source pixels through a grid of
// exact points (render/resample), one window of the overview level read at its own resolution
// (straight from the shared block it lies in, or assembled from several), sampled into
// state.scratch.values. False if the window is too big (GDAL's warper then).
bool warp_here(SlotState& state, GDALDataset* src, int level, const SourceMeta& m, const std::string& source,
               const std::array<double, 4>& box, int size, const std::vector<int>& bands, Resampling resampling) {
  OGRCoordinateTransformation* ct = to_source(state, source, m);
  double gt[6], inv[6];
  if (src->GetGeoTransform(gt) != CE_None || !GDALInvGeoTransform(gt, inv)) {
    core::fail(ErrorCode::kInvalidInput, "'{}' has no invertible geotransform: it cannot be tiled", source);
  }
  const double rx = (box[2] - box[0]) / size, ry = (box[3] - box[1]) / size;
  std::vector<int> ok;
  const PointTransform transform = [&](double* u, double* v, std::size_t n) {
    for (std::size_t p = 0; p < n; ++p) {
      u[p] = box[0] + u[p] * rx;
      v[p] = box[3] - v[p] * ry;
    }
    ok.assign(n, 0);
    std::vector<char> good(n, 0);
    if (!ct->Transform(static_cast<int>(n), u, v, nullptr, ok.data()) && std::find(ok.begin(), ok.end(), TRUE) == ok.end()) return good;
    for (std::size_t p = 0; p < n; ++p) {
      if (!ok[p] || !std::isfinite(u[p]) || !std::isfinite(v[p])) continue;
      const double x = inv[0] + u[p] * inv[1] + v[p] * inv[2];
      const double y = inv[3] + u[p] * inv[4] + v[p] * inv[5];
      u[p] = x;
      v[p] = y;
      good[p] = 1;
    }
    return good;
  };
  const PixelCoordinates coords = pixel_coordinates(size, transform);
  const int width = src->GetRasterXSize(), height = src->GetRasterYSize();
  const SourceWindow win = source_window(coords, width, height, resampling == Resampling::kBilinear ? 1 : 0);
  const std::size_t npx = static_cast<std::size_t>(size) * size;
  auto& values = state.scratch.values;
  values.resize(bands.size());
  for (auto& v : values) v.resize(npx);  // every pixel is written below; no fill once the buffers exist
  if (win.empty()) {
    for (auto& v : values) std::fill(v.begin(), v.end(), std::numeric_limits<float>::quiet_NaN());
    return true;
  }
  const std::size_t window_pixels = static_cast<std::size_t>(win.width()) * static_cast<std::size_t>(win.height());
  if (window_pixels > kMaxWindowPixels) return false;
  std::vector<std::uint8_t>& buffer = state.scratch.window;
  for (std::size_t k = 0; k < bands.size(); ++k) {
    const auto b = static_cast<std::size_t>(bands[k] - 1);
    const core::DataType type = m.types[b];
    Block held;
    std::size_t pitch = 0;
    const std::uint8_t* data = window_values(src, source, level, bands[k], type, win, buffer, held, pitch);
    sample_band(data, type, win, width, height, m.nodata[b], coords, resampling, values[k].data(), pitch);
  }
  return true;
}

// The tile warped by GDAL's warper (cubic, average, mode; very large windows).
std::vector<std::vector<float>> warp_with_gdal(GDALDataset* src, const SourceMeta& m, const std::string& source, const std::array<double, 4>& box,
                                               int size, const std::vector<int>& bands, GDALResampleAlg alg) {
  const int nb = static_cast<int>(bands.size());
  // The warper writes straight into these buffers (MEM bands over our memory): bands, then alpha.
  const std::size_t npx = static_cast<std::size_t>(size) * size;
  std::vector<std::vector<float>> values(static_cast<std::size_t>(nb), std::vector<float>(npx));
  std::vector<float> alpha(npx);
  std::unique_ptr<GDALDataset> dst(GetGDALDriverManager()->GetDriverByName("MEM")->Create("", size, size, 0, GDT_Float32, nullptr));
  for (int k = 0; k <= nb; ++k) {
    float* buffer = k < nb ? values[static_cast<std::size_t>(k)].data() : alpha.data();
    const std::string ptr = fmt::format("DATAPOINTER={}", static_cast<const void*>(buffer));
    const char* band_opts[] = {ptr.c_str(), nullptr};
    if (dst->AddBand(GDT_Float32, const_cast<char**>(band_opts)) != CE_None) core::fail(ErrorCode::kInternal, "cannot prepare a tile buffer");
  }
  double gt[6] = {box[0], (box[2] - box[0]) / size, 0, box[3], 0, -(box[3] - box[1]) / size};
  dst->SetGeoTransform(gt);
  OGRSpatialReference merc;
  merc.importFromEPSG(3857);
  dst->SetSpatialRef(&merc);
  char** topts = nullptr;
  if (!m.gdal_has_crs) topts = CSLSetNameValue(topts, "SRC_SRS", m.crs_wkt.c_str());
  void* transformer = GDALCreateGenImgProjTransformer2(src, dst.get(), topts);
  CSLDestroy(topts);
  if (!transformer) core::fail(ErrorCode::kIo, "cannot reproject '{}' to Web Mercator: {}", source, io::take_gdal_error());
  GDALWarpOptions* wo = GDALCreateWarpOptions();
  wo->hSrcDS = src;
  wo->hDstDS = dst.get();
  wo->nBandCount = nb;
  wo->panSrcBands = static_cast<int*>(CPLMalloc(sizeof(int) * static_cast<std::size_t>(nb)));
  wo->panDstBands = static_cast<int*>(CPLMalloc(sizeof(int) * static_cast<std::size_t>(nb)));
  bool any_nodata = false;
  for (int k = 0; k < nb; ++k) {
    wo->panSrcBands[k] = bands[static_cast<std::size_t>(k)];
    wo->panDstBands[k] = k + 1;
    any_nodata = any_nodata || m.nodata[static_cast<std::size_t>(bands[static_cast<std::size_t>(k)] - 1)].has_value();
  }
  if (any_nodata) {
    wo->padfSrcNoDataReal = static_cast<double*>(CPLMalloc(sizeof(double) * static_cast<std::size_t>(nb)));
    for (int k = 0; k < nb; ++k) {
      const auto& nd = m.nodata[static_cast<std::size_t>(bands[static_cast<std::size_t>(k)] - 1)];
      wo->padfSrcNoDataReal[k] = nd ? *nd : -1.2345e38;
    }
  }
  wo->nDstAlphaBand = nb + 1;
  wo->eResampleAlg = alg;
  // Exact reprojection at a grid of points, linear between them within 1/8 pixel (gdalwarp's default).
  void* approx = GDALCreateApproxTransformer(GDALGenImgProjTransform, transformer, 0.125);
  wo->pfnTransformer = GDALApproxTransform;
  wo->pTransformerArg = approx;
  wo->papszWarpOptions = CSLSetNameValue(wo->papszWarpOptions, "INIT_DEST", "0");
  GDALWarpOperation op;
  io::clear_gdal_error();
  CPLErr err = op.Initialize(wo);
  if (err == CE_None) err = op.ChunkAndWarpImage(0, 0, size, size);
  GDALDestroyApproxTransformer(approx);
  GDALDestroyGenImgProjTransformer(transformer);
  wo->pTransformerArg = nullptr;
  GDALDestroyWarpOptions(wo);
  if (err != CE_None) core::fail(ErrorCode::kIo, "warping '{}' failed: {}", source, io::take_gdal_error());
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (auto& v : values) {
    for (std::size_t i = 0; i < npx; ++i) {
      if (alpha[i] <= 0.0f) v[i] = nan;
    }
  }
  return values;
}

// The bands (one coloured, or three as RGB; NaN = missing) rescaled from lo..hi to 0..255 and encoded:
// one band as an indexed PNG holding the levels the tile uses, transparent first (RGBA only when all
// 256 levels and transparency occur together); three bands as RGBA.
std::string encode_tile(const std::vector<std::vector<float>>& out, double lo, double hi, const ColourTable& colours, int size,
                        TileScratch& scratch) {
  const std::size_t npx = static_cast<std::size_t>(size) * size;
  const double scale = hi > lo ? 255.0 / (hi - lo) : 0.0;
  // 0..255 after rescaling, kNoLevel where a value is missing.
  constexpr std::uint16_t kNoLevel = 256;
  auto level_at = [&](const std::vector<float>& band, std::size_t i) -> std::uint16_t {
    const float v = band[i];
    if (!(v == v)) return kNoLevel;
    const double t = std::clamp((v - lo) * scale, 0.0, 255.0);
    return static_cast<std::uint16_t>(t + 0.5);
  };
  if (out.size() == 1) {
    scratch.levels.resize(npx);  // every entry is written below
    std::uint16_t* const levels = scratch.levels.data();
    std::array<bool, 257> used{};
    for (std::size_t i = 0; i < npx; ++i) {
      const std::uint16_t l = level_at(out[0], i);
      levels[i] = l;
      used[l] = true;
    }
    const auto n_used = static_cast<std::size_t>(std::count(used.begin(), used.end(), true));
    if (n_used <= 256) {
      std::array<std::uint8_t, 257> index{};
      std::vector<std::array<std::uint8_t, 4>> palette;
      if (used[kNoLevel]) {
        index[kNoLevel] = 0;
        palette.push_back({0, 0, 0, 0});
      }
      for (std::size_t l = 0; l < 256; ++l) {
        if (!used[l]) continue;
        index[l] = static_cast<std::uint8_t>(palette.size());
        palette.push_back({colours[l][0], colours[l][1], colours[l][2], 255});
      }
      scratch.pixels.resize(npx);
      std::uint8_t* const pixels = scratch.pixels.data();
      for (std::size_t i = 0; i < npx; ++i) pixels[i] = index[levels[i]];
      return encode_png_indexed(pixels, size, size, palette, kPngIndexed);
    }
    std::vector<std::uint8_t> rgba(npx * 4, 0);
    for (std::size_t i = 0; i < npx; ++i) {
      if (levels[i] == kNoLevel) continue;
      const auto& c = colours[levels[i]];
      std::uint8_t* px = rgba.data() + i * 4;
      px[0] = c[0];
      px[1] = c[1];
      px[2] = c[2];
      px[3] = 255;
    }
    return encode_png_rgba(rgba.data(), size, size, kPngLevel);
  }
  std::vector<std::uint8_t> rgba(npx * 4, 0);
  for (std::size_t i = 0; i < npx; ++i) {
    std::uint16_t l[3];
    bool valid = true;
    for (std::size_t k = 0; k < 3 && valid; ++k) {
      l[k] = level_at(out[k], i);
      valid = l[k] != kNoLevel;
    }
    if (!valid) continue;
    std::uint8_t* px = rgba.data() + i * 4;
    px[0] = static_cast<std::uint8_t>(l[0]);
    px[1] = static_cast<std::uint8_t>(l[1]);
    px[2] = static_cast<std::uint8_t>(l[2]);
    px[3] = 255;
  }
  return encode_png_rgba(rgba.data(), size, size, kPngLevel);
}

}  // namespace

void set_block_cache_bytes(std::size_t bytes) { block_cache().set_capacity(bytes); }

std::array<double, 4> tile_bounds(int z, int x, int y) {
  const double span = 2 * kHalf / std::pow(2.0, z);
  return {-kHalf + x * span, kHalf - (y + 1) * span, -kHalf + (x + 1) * span, kHalf - y * span};
}

SourceInfo source_info(const std::string& source) {
  io::init_gdal();
  const auto m = meta_of(source);
  SourceInfo info{m->wgs84[0], m->wgs84[1], m->wgs84[2], m->wgs84[3], 0, 0, m->band_count};
  // The zoom whose pixel is about the source's; a few levels below it still make sense.
  const double z = std::log2(2 * kHalf / 256 / m->merc_resolution);
  info.max_zoom = std::clamp(static_cast<int>(std::ceil(z)), 0, 24);
  info.min_zoom = std::max(0, info.max_zoom - 8);
  return info;
}

Tile render_tile(const TileRequest& r) {
  io::init_gdal();
  if (r.z < 0 || r.z > 24) core::fail(ErrorCode::kInvalidInput, "z: {} is outside 0..24", r.z);
  const int n = 1 << r.z;
  if (r.x < 0 || r.x >= n || r.y < 0 || r.y >= n) core::fail(ErrorCode::kInvalidInput, "x, y: ({}, {}) is outside zoom {} (0..{})", r.x, r.y, r.z, n - 1);
  const GDALResampleAlg alg = resample_alg(r.resampling);
  const ColourTable& colours = colormap(r.colormap.empty() ? "greys" : r.colormap);
  const auto m = meta_of(r.source);

  // Bands to warp: the expression's b1, b2, ... or bidx.
  std::vector<int> bands = r.bands.empty() ? std::vector<int>{1} : r.bands;
  std::optional<algebra::Program> program;
  std::vector<std::string> names;
  if (!r.expression.empty()) {
    algebra::Expr e;
    try {
      e = algebra::parse_expression(r.expression);
    } catch (const core::Error& err) {
      core::fail(ErrorCode::kInvalidInput, "expression: {}", err.what());
    }
    bands.clear();
    for (const auto& name : algebra::referenced_inputs(e)) {
      char* end = nullptr;
      const long b = name.size() > 1 && name[0] == 'b' ? std::strtol(name.c_str() + 1, &end, 10) : 0;
      if (b < 1 || b > m->band_count || (end && *end)) {
        core::fail(ErrorCode::kInvalidInput, "expression: '{}' is not a band (b1..b{})", name, m->band_count);
      }
      bands.push_back(static_cast<int>(b));
      names.push_back(name);
    }
    if (bands.empty()) core::fail(ErrorCode::kInvalidInput, "expression: it uses no band");
    program.emplace(algebra::Program::compile(e, names));
    if (!r.rescale_given) core::fail(ErrorCode::kInvalidInput, "rescale: give min,max for an expression");
  }
  for (int b : bands) {
    if (b < 1 || b > m->band_count) core::fail(ErrorCode::kInvalidInput, "bidx: band {} does not exist (1..{})", b, m->band_count);
  }
  const std::size_t out_bands = program ? 1 : bands.size();
  if (out_bands != 1 && out_bands != 3) core::fail(ErrorCode::kInvalidInput, "bidx: give one band (coloured) or three (RGB), not {}", out_bands);

  Tile tile;
  const auto box = tile_bounds(r.z, r.x, r.y);
  if (box[2] <= m->merc[0] || box[0] >= m->merc[2] || box[3] <= m->merc[1] || box[1] >= m->merc[3]) {
    tile.png = transparent_png(r.size);
    tile.empty = true;
    return tile;
  }
  // The overview level whose pixel is at most the tile's pixel.
  const double ratio = (box[2] - box[0]) / r.size / m->merc_resolution;
  int level = -1;
  for (std::size_t k = 0; k < m->overview_factors.size(); ++k) {
    if (m->overview_factors[k] <= ratio) level = static_cast<int>(k);
  }
  const SlotGuard slot;
  SlotState& state = slots().state(slot.k);
  GDALDataset* src = open_level(state.datasets, r.source, level);

  const int size = r.size;
  const std::size_t npx = static_cast<std::size_t>(size) * size;
  // The bands at the tile's pixels, NaN where there is no value (nodata, outside the raster).
  std::vector<std::vector<float>>& values = state.scratch.values;
  const bool here = (alg == GRA_NearestNeighbour || alg == GRA_Bilinear) &&
                    warp_here(state, src, level, *m, r.source, box, size, bands, alg == GRA_Bilinear ? Resampling::kBilinear : Resampling::kNearest);
  if (!here) values = warp_with_gdal(src, *m, r.source, box, size, bands, alg);

  // The bands to colour: the warped ones, or the expression's result.
  const std::vector<std::vector<float>>* out = &values;
  std::vector<std::vector<float>> computed;
  if (program) {
    std::vector<core::BlockView> views;
    for (auto& v : values) views.push_back(core::BlockView{core::DataType::kFloat32, v.data(), size, size, size, std::nullopt, nullptr, 0, 1.0, 0.0});
    computed.emplace_back(npx);
    core::MutableBlockView o{core::DataType::kFloat32, computed[0].data(), size, size, size, std::nan("")};
    algebra::BlockEvaluator eval(*program, algebra::Precision::kFloat32);
    eval.evaluate(views, o);
    out = &computed;
  }
  double lo = r.rescale_min, hi = r.rescale_max;
  if (!r.rescale_given) {
    if (m->all_bytes) {
      lo = 0;
      hi = 255;
    } else {
      lo = m->first_band_range.first;
      hi = m->first_band_range.second;
    }
  }
  tile.png = encode_tile(*out, lo, hi, colours, size, state.scratch);
  return tile;
}

}  // namespace sco::render
