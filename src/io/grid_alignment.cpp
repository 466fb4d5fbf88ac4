#include "io/grid_alignment.hpp"

#include <gdal_priv.h>
#include <gdal_alg.h>
#include <gdal_utils.h>
#include <ogr_spatialref.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "core/error.hpp"
#include "io/gdal_session.hpp"
#include "io/raster_dataset.hpp"
#include "io/vector_zones.hpp"

namespace sco::io {

using core::ErrorCode;

std::string Bounds::describe() const { return fmt::format("[{:.6g}, {:.6g}, {:.6g}, {:.6g}]", min_x, min_y, max_x, max_y); }

Bounds zones_bounds(const VectorZones& zones, const std::string& crs_wkt) {
  OGREnvelope env;
  bool any = false;
  for (const auto& g : zones.geometries) {
    if (!g) continue;
    OGREnvelope e;
    g->getEnvelope(&e);
    if (any) env.Merge(e);
    else env = e;
    any = true;
  }
  if (!any) core::fail(ErrorCode::kInvalidInput, "'{}' has no polygon geometry", zones.path);
  return transform_bounds({env.MinX, env.MinY, env.MaxX, env.MaxY}, zones.crs_wkt, crs_wkt, "'" + zones.path + "'");
}

Bounds transform_bounds(const Bounds& b, const std::string& from_wkt, const std::string& to_wkt, const std::string& what) {
  if (from_wkt.empty() || to_wkt.empty() || from_wkt == to_wkt) return b;
  // PROJ's search for the operation between two CRSs given as WKT takes 5-80 ms (a tiny openEO
  // request's whole budget), so each pair's transformation is made once per process and kept.
  static std::mutex mutex;
  static std::map<std::pair<std::string, std::string>, std::unique_ptr<OGRCoordinateTransformation>> cache;
  std::lock_guard lock(mutex);
  auto it = cache.find({from_wkt, to_wkt});
  if (it == cache.end()) {
    std::unique_ptr<OGRCoordinateTransformation> ct;
    if (!same_crs(from_wkt, to_wkt)) {  // the same CRS written twice: no transformation (null)
      OGRSpatialReference src, dst;
      src.importFromWkt(from_wkt.c_str());
      dst.importFromWkt(to_wkt.c_str());
      src.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
      dst.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
      ct.reset(OGRCreateCoordinateTransformation(&src, &dst));
      if (!ct) core::fail(ErrorCode::kInvalidInput, "{}: its CRS cannot be transformed to the data's", what);
    }
    it = cache.emplace(std::make_pair(from_wkt, to_wkt), std::move(ct)).first;
  }
  if (!it->second) return b;
  // The edges densified (21 points each) and transformed, not TransformBounds: to a geographic CRS,
  // GDAL 3.6 builds the inverse transformation anew on each call (60 ms).
  std::vector<double> xs, ys;
  for (int k = 0; k <= 20; ++k) {
    const double fx = b.min_x + (b.max_x - b.min_x) * k / 20, fy = b.min_y + (b.max_y - b.min_y) * k / 20;
    xs.insert(xs.end(), {fx, fx, b.min_x, b.max_x});
    ys.insert(ys.end(), {b.min_y, b.max_y, fy, fy});
  }
  std::vector<int> ok(xs.size(), 0);
  it->second->Transform(static_cast<int>(xs.size()), xs.data(), ys.data(), nullptr, ok.data());
  Bounds out{std::numeric_limits<double>::max(), std::numeric_limits<double>::max(), std::numeric_limits<double>::lowest(),
             std::numeric_limits<double>::lowest()};
  bool any = false;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (!ok[i] || !std::isfinite(xs[i]) || !std::isfinite(ys[i])) continue;
    out = {std::min(out.min_x, xs[i]), std::min(out.min_y, ys[i]), std::max(out.max_x, xs[i]), std::max(out.max_y, ys[i])};
    any = true;
  }
  if (!any) core::fail(ErrorCode::kInvalidInput, "{}: its extent cannot be transformed to the data's CRS", what);
  return out;
}

const std::string& epsg_wkt(int code) {
  static std::mutex mutex;
  static std::map<int, std::string> cache;
  std::lock_guard lock(mutex);
  auto it = cache.find(code);
  if (it == cache.end()) {
    OGRSpatialReference srs;
    if (srs.importFromEPSG(code) != OGRERR_NONE) core::fail(ErrorCode::kInvalidInput, "EPSG:{} is not a CRS PROJ knows", code);
    char* wkt = nullptr;
    srs.exportToWkt(&wkt);
    it = cache.emplace(code, wkt ? wkt : "").first;
    CPLFree(wkt);
  }
  return it->second;
}

Bounds grid_bounds(const core::Grid& g) {
  const auto& t = g.transform;
  const double xs[] = {t[0], t[0] + g.width * t[1] + g.height * t[2]};
  const double ys[] = {t[3], t[3] + g.width * t[4] + g.height * t[5]};
  return {std::min(xs[0], xs[1]), std::min(ys[0], ys[1]), std::max(xs[0], xs[1]), std::max(ys[0], ys[1])};
}

bool crop_grid(const core::Grid& grid, const Bounds& b, int margin, core::Grid& cropped) {
  const auto& t = grid.transform;
  if (t[2] != 0.0 || t[4] != 0.0) core::fail(ErrorCode::kInvalidInput, "rotated grids are not supported: {}", grid.describe());
  // Column and row ranges (fractional) of the bounds.
  double c0 = (b.min_x - t[0]) / t[1], c1 = (b.max_x - t[0]) / t[1];
  double r0 = (b.min_y - t[3]) / t[5], r1 = (b.max_y - t[3]) / t[5];
  if (c0 > c1) std::swap(c0, c1);
  if (r0 > r1) std::swap(r0, r1);
  const int x0 = std::max(0, static_cast<int>(std::floor(c0)) - margin);
  const int x1 = std::min(grid.width, static_cast<int>(std::ceil(c1)) + margin);
  const int y0 = std::max(0, static_cast<int>(std::floor(r0)) - margin);
  const int y1 = std::min(grid.height, static_cast<int>(std::ceil(r1)) + margin);
  if (c1 <= 0 || r1 <= 0 || c0 >= grid.width || r0 >= grid.height || x1 <= x0 || y1 <= y0) return false;
  cropped = grid;
  cropped.width = x1 - x0;
  cropped.height = y1 - y0;
  cropped.transform[0] = t[0] + x0 * t[1];
  cropped.transform[3] = t[3] + y0 * t[5];
  return true;
}

void check_resampling(const std::string& m) {
  static const char* const kMethods[] = {"near", "bilinear", "cubic", "cubicspline", "lanczos", "average", "mode",
                                         "min", "max", "med", "q1", "q3", "sum", "rms"};
  for (const char* k : kMethods) {
    if (m == k) return;
  }
  core::fail(ErrorCode::kInvalidInput,
             "unknown resampling '{}' (near, bilinear, cubic, cubicspline, lanczos, average, mode, min, max, med, q1, q3, sum, rms)", m);
}

namespace {
struct ArgList {
  std::vector<std::string> items;
  std::vector<char*> ptrs;
  char** get() {
    ptrs.clear();
    for (auto& s : items) ptrs.push_back(s.data());
    ptrs.push_back(nullptr);
    return ptrs.data();
  }
};
}  // namespace

namespace {
// Whether `target`'s cells are `sg`'s, shifted by whole cells (col, row).
bool is_aligned(const core::Grid& sg, const core::Grid& target, double* col, double* row) {
  const auto& s = sg.transform;
  const auto& t = target.transform;
  *col = (t[0] - s[0]) / s[1];
  *row = (t[3] - s[3]) / s[5];
  return std::fabs(s[1] - t[1]) <= 1e-9 * std::fabs(t[1]) && std::fabs(s[5] - t[5]) <= 1e-9 * std::fabs(t[5]) && s[2] == 0 && s[4] == 0 &&
         t[2] == 0 && t[4] == 0 && std::fabs(*col - std::round(*col)) < 1e-6 && std::fabs(*row - std::round(*row)) < 1e-6 &&
         same_crs(sg.crs_wkt, target.crs_wkt);
}
}  // namespace

std::optional<core::Window> aligned_window(const core::Grid& sg, const core::Grid& target) {
  double col = 0, row = 0;
  if (!is_aligned(sg, target, &col, &row)) return std::nullopt;
  const core::Window w{static_cast<int>(std::lround(col)), static_cast<int>(std::lround(row)), target.width, target.height};
  if (w.x < 0 || w.y < 0 || static_cast<std::int64_t>(w.x) + w.width > sg.width || static_cast<std::int64_t>(w.y) + w.height > sg.height) {
    return std::nullopt;
  }
  return w;
}

bool write_aligned_vrt(const std::string& source, const core::Grid& sg, const core::Grid& target,
                       const std::string& resampling, const std::string& vrt_path) {
  init_gdal();
  check_resampling(resampling);
  double col = 0, row = 0;
  const bool aligned = is_aligned(sg, target, &col, &row);
  clear_gdal_error();
  GDALDatasetH src = GDALOpenEx(source.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr);
  if (!src) core::fail(ErrorCode::kInvalidInput, "cannot open '{}': {}", source, take_gdal_error());
  std::unique_ptr<void, void (*)(void*)> guard(src, [](void* d) { GDALClose(static_cast<GDALDatasetH>(d)); });
  const std::string target_wkt = target.crs_wkt;
  ArgList args;
  GDALDatasetH out = nullptr;
  int usage_error = 0;
  if (aligned) {
    args.items = {"-of", "VRT", "-srcwin", fmt::format("{}", std::lround(col)), fmt::format("{}", std::lround(row)),
                  fmt::format("{}", target.width), fmt::format("{}", target.height)};
    if (!target_wkt.empty()) args.items.insert(args.items.end(), {"-a_srs", target_wkt});
    GDALTranslateOptions* opts = GDALTranslateOptionsNew(args.get(), nullptr);
    out = GDALTranslate(vrt_path.c_str(), src, opts, &usage_error);
    GDALTranslateOptionsFree(opts);
  } else {
    if (sg.crs_wkt.empty() || target_wkt.empty()) {
      core::fail(ErrorCode::kInvalidInput, "'{}' is on another grid than the first input and one of them has no CRS: cannot warp", source);
    }
    const Bounds b = grid_bounds(target);
    args.items = {"-of", "VRT", "-s_srs", sg.crs_wkt, "-t_srs", target_wkt, "-te", fmt::format("{:.17g}", b.min_x),
                  fmt::format("{:.17g}", b.min_y), fmt::format("{:.17g}", b.max_x), fmt::format("{:.17g}", b.max_y),
                  "-ts", fmt::format("{}", target.width), fmt::format("{}", target.height), "-r", resampling};
    GDALWarpAppOptions* opts = GDALWarpAppOptionsNew(args.get(), nullptr);
    out = GDALWarp(vrt_path.c_str(), nullptr, 1, &src, opts, &usage_error);
    GDALWarpAppOptionsFree(opts);
  }
  if (!out) core::fail(ErrorCode::kIo, "cannot bring '{}' onto the working grid: {}", source, take_gdal_error());
  GDALClose(out);
  return !aligned;
}

std::string crs_wkt_of(const std::string& user_input) {
  OGRSpatialReference srs;
  if (srs.SetFromUserInput(user_input.c_str(), OGRSpatialReference::SET_FROM_USER_INPUT_LIMITATIONS_get()) != OGRERR_NONE) {
    core::fail(core::ErrorCode::kInvalidInput, "'{}' is not a coordinate reference system (EPSG:n, WKT or PROJJSON)", user_input);
  }
  char* wkt = nullptr;
  srs.exportToWkt(&wkt);
  std::string out = wkt ? wkt : "";
  CPLFree(wkt);
  return out;
}

core::Grid resampled_grid(const core::Grid& source, const std::string& crs_wkt, double resolution) {
  core::Grid out = source;
  if (!crs_wkt.empty()) {
    // GDAL's suggestion for the warped extent and cell size, from a dataset of the source's size.
    GDALDriver* mem = GetGDALDriverManager()->GetDriverByName("MEM");
    std::unique_ptr<GDALDataset> ds(mem ? mem->Create("", source.width, source.height, 0, GDT_Byte, nullptr) : nullptr);
    if (!ds) core::fail(core::ErrorCode::kInternal, "GDAL has no MEM driver");
    ds->SetGeoTransform(const_cast<double*>(source.transform.data()));
    ds->SetProjection(source.crs_wkt.c_str());
    void* t = GDALCreateGenImgProjTransformer(ds.get(), source.crs_wkt.c_str(), nullptr, crs_wkt.c_str(), FALSE, 0, 1);
    if (!t) core::fail(core::ErrorCode::kInvalidInput, "no transformation from the cube's CRS to the one asked: {}", take_gdal_error());
    double gt[6];
    int w = 0, h = 0;
    const CPLErr err = GDALSuggestedWarpOutput(ds.get(), GDALGenImgProjTransform, t, gt, &w, &h);
    GDALDestroyGenImgProjTransformer(t);
    if (err != CE_None) core::fail(core::ErrorCode::kInvalidInput, "the cube cannot be warped to the CRS asked: {}", take_gdal_error());
    out.crs_wkt = crs_wkt;
    out.width = w;
    out.height = h;
    std::copy(gt, gt + 6, out.transform.begin());
  }
  if (resolution > 0) {
    const Bounds b = grid_bounds(out);
    out.width = std::max(1, static_cast<int>(std::ceil((b.max_x - b.min_x) / resolution - 1e-9)));
    out.height = std::max(1, static_cast<int>(std::ceil((b.max_y - b.min_y) / resolution - 1e-9)));
    out.transform = {b.min_x, resolution, 0, b.max_y, 0, -resolution};
  }
  if (static_cast<double>(out.width) * out.height > 4e9) core::fail(core::ErrorCode::kInvalidInput, "the resampled grid would have {} x {} cells", out.width, out.height);
  return out;
}

}  // namespace sco::io
