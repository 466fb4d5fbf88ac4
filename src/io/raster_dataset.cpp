#include "io/raster_dataset.hpp"

#include <gdal_priv.h>
#include <ogr_spatialref.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <map>
#include <mutex>
#include <set>
#include <tuple>
#include <vector>

#include "core/error.hpp"
#include "core/parse.hpp"
#include "io/gdal_session.hpp"

namespace sco::io {

using core::ErrorCode;

BandRef parse_band_ref(const std::string& text) {
  BandRef ref{text, 1, false};
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= text.size()) return ref;
  const std::string tail = text.substr(colon + 1);
  for (char c : tail) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return ref;
  }
  struct stat st {};
  if (::stat(text.c_str(), &st) == 0) return ref;  // a file whose name really ends in ":N"
  ref.path = text.substr(0, colon);
  ref.band = core::parse_band_number(tail, fmt::format("'{}': the band", text));
  ref.band_given = true;
  return ref;
}

std::string resolve_variable(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= text.size()) return text;
  const std::string path = text.substr(0, colon), var = text.substr(colon + 1);
  bool numeric = true;
  for (char c : var) numeric = numeric && std::isdigit(static_cast<unsigned char>(c));
  struct stat st {};
  if (numeric || ::stat(path.c_str(), &st) != 0 || ::stat(text.c_str(), &st) == 0) return text;
  init_gdal();
  clear_gdal_error();
  auto* ds = static_cast<GDALDataset*>(GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr));
  if (!ds) core::fail(ErrorCode::kInvalidInput, "cannot open '{}' as a raster: {}", path, take_gdal_error());
  std::string found, names;
  char** md = ds->GetMetadata("SUBDATASETS");
  for (char** p = md; p && *p; ++p) {
    char* key = nullptr;
    const char* value = CPLParseNameValue(*p, &key);
    if (key && std::string(key).find("_NAME") != std::string::npos && value) {
      const std::string name = value;
      const auto sep = name.find_last_of(":/");
      const std::string leaf = sep == std::string::npos ? name : name.substr(sep + 1);
      names += (names.empty() ? "" : ", ") + leaf;
      if (leaf == var) found = name;
    }
    CPLFree(key);
  }
  // A file of a single variable has no subdatasets: GDAL opens the variable itself, and names it in
  // its bands' NETCDF_VARNAME (HDF5 likewise has none to choose from).
  if (found.empty() && names.empty() && ds->GetRasterCount() > 0) {
    const char* own = ds->GetRasterBand(1)->GetMetadataItem("NETCDF_VARNAME");
    if (own && var == own) found = path;
    if (own) names = own;
  }
  GDALClose(ds);
  if (found.empty()) {
    core::fail(ErrorCode::kNotFound, "'{}' has no variable '{}' (variables: {})", path, var, names.empty() ? "none" : names);
  }
  return found;
}

namespace {

// The kind of CRS EPSG defines under a code: 'g'eographic, 'p'rojected, 'c' geocentric, '?' other or
// unknown. Looked up once per code.
char epsg_kind(int code) {
  static std::mutex mutex;
  static std::map<int, char> kinds;
  std::lock_guard lock(mutex);
  if (const auto it = kinds.find(code); it != kinds.end()) return it->second;
  OGRSpatialReference ref;
  char kind = '?';
  if (ref.importFromEPSG(code) == OGRERR_NONE) kind = ref.IsGeocentric() ? 'c' : ref.IsProjected() ? 'p' : ref.IsGeographic() ? 'g' : '?';
  return kinds[code] = kind;
}

const char* kind_name(char k) { return k == 'c' ? "geocentric" : k == 'p' ? "projected" : k == 'g' ? "geographic" : "other"; }

void check_crs_kind_of(const GDALDataset& ds, const std::string& path);

// A file may name an EPSG code of one kind of CRS for another (a GeoTIFF's geographic key holding the
// code of a geocentric CRS): PROJ 9.1 then crashes building any transformation from it (found by
// fuzz_raster_metadata). Such a file is refused.
void check_crs_kind(const GDALDataset& ds, const std::string& path) {
  // Building a GeoTIFF's CRS looks its codes up in PROJ's database, in a context of each thread: some
  // 0.3 ms per open, cold in every new pipeline thread. A settled file is checked once per process,
  // known by its path, inode, size and status-change time (ctime: set by the kernel on every write,
  // rename or metadata change, never by users). A file changed in the last 2 s is checked at every
  // open: the kernel's clock for timestamps ticks in milliseconds, and a file rewritten within a tick,
  // at the same size, on a reused inode, would otherwise look the same.
  static std::mutex mutex;
  static std::set<std::tuple<std::string, std::uint64_t, std::int64_t, std::int64_t, std::int64_t>> checked;
  struct stat st {};
  const bool plain = ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && std::time(nullptr) - st.st_ctim.tv_sec > 2;
  const auto key = std::make_tuple(path, static_cast<std::uint64_t>(st.st_ino), static_cast<std::int64_t>(st.st_size),
                                   static_cast<std::int64_t>(st.st_ctim.tv_sec), static_cast<std::int64_t>(st.st_ctim.tv_nsec));
  if (plain) {
    std::lock_guard lock(mutex);
    if (checked.count(key)) return;
  }
  check_crs_kind_of(ds, path);
  if (plain) {
    std::lock_guard lock(mutex);
    if (checked.size() >= 100000) checked.clear();  // bounded in a server that opens files without end
    checked.insert(key);
  }
}

void check_crs_kind_of(const GDALDataset& ds, const std::string& path) {
  const OGRSpatialReference* srs = ds.GetSpatialRef();
  if (!srs) return;
  const char* auth = srs->GetAuthorityName(nullptr);
  const char* code = srs->GetAuthorityCode(nullptr);
  if (!auth || !code || std::string(auth) != "EPSG") return;
  const char declared = srs->IsGeocentric() ? 'c' : srs->IsProjected() ? 'p' : srs->IsGeographic() ? 'g' : '?';
  const char known = epsg_kind(std::atoi(code));
  if (known != '?' && declared != known) {
    core::fail(ErrorCode::kInvalidInput, "'{}': its CRS names EPSG:{}, a {} CRS, for a {} one: an inconsistent CRS is refused", path, code,
               kind_name(known), kind_name(declared));
  }
}

}  // namespace

RasterDataset RasterDataset::open(const std::string& path) {
  init_gdal();
  refuse_special_file(path);
  clear_gdal_error();
  auto* ds = static_cast<GDALDataset*>(GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr,
                                                  nullptr, nullptr));
  if (ds == nullptr) {
    std::string why = take_gdal_error();
    VSIStatBufL st;
    const bool is_special = path.rfind("/vsi", 0) == 0 || path.find(':') != std::string::npos;
    if (!is_special && VSIStatL(path.c_str(), &st) != 0) {
      core::fail(ErrorCode::kNotFound, "file not found: {}", path);
    }
    if (why.empty()) why = "not a format GDAL can read as a raster";
    core::fail(ErrorCode::kInvalidInput, "cannot open '{}' as a raster: {}", path, why);
  }
  RasterDataset r(path, ds);
  check_crs_kind(*ds, path);
  if (ds->GetRasterCount() == 0) {
    auto subs = r.subdatasets();
    if (!subs.empty()) {
      std::string names;
      for (std::size_t i = 0; i < subs.size() && i < 6; ++i) names += (i ? ", " : "") + subs[i].first;
      core::fail(ErrorCode::kInvalidInput, "'{}' holds several rasters; open one of them: {}", path, names);
    }
    core::fail(ErrorCode::kInvalidInput, "'{}' has no raster bands", path);
  }
  return r;
}

RasterDataset::RasterDataset(RasterDataset&& o) noexcept : path_(std::move(o.path_)), ds_(o.ds_) { o.ds_ = nullptr; }
RasterDataset& RasterDataset::operator=(RasterDataset&& o) noexcept {
  if (this != &o) {
    if (ds_) GDALClose(ds_);
    path_ = std::move(o.path_);
    ds_ = o.ds_;
    o.ds_ = nullptr;
  }
  return *this;
}
RasterDataset::~RasterDataset() {
  if (ds_) GDALClose(ds_);
}

core::Grid RasterDataset::grid() const {
  core::Grid g;
  g.width = ds_->GetRasterXSize();
  g.height = ds_->GetRasterYSize();
  double t[6];
  if (ds_->GetGeoTransform(t) == CE_None) {
    for (int i = 0; i < 6; ++i) g.transform[i] = t[i];
  } else {
    // GDAL's convention for rasters without georeferencing: pixel coordinates, y down.
    g.transform = {0, 1, 0, 0, 0, 1};
  }
  clear_gdal_error();
  const OGRSpatialReference* srs = ds_->GetSpatialRef();
  OGRSpatialReference cf_default;
  if (!srs) {
    // CF: latitude/longitude coordinate axes without a grid_mapping are geographic coordinates
    // (CF conventions 1.x, sections 4.1-4.2, 5.6); their datum is unspecified, so sco takes WGS 84.
    bool lat = false, lon = false;
    for (const auto& [k, v] : metadata()) {
      if ((k == "lat#units" || k == "latitude#units") && v.rfind("degrees_north", 0) == 0) lat = true;
      if ((k == "lon#units" || k == "longitude#units") && v.rfind("degrees_east", 0) == 0) lon = true;
    }
    if (lat && lon && cf_default.importFromEPSG(4326) == OGRERR_NONE) srs = &cf_default;
  }
  if (srs) {
    char* wkt = nullptr;
    const char* opts[] = {"FORMAT=WKT2_2019", nullptr};
    if (srs->exportToWkt(&wkt, opts) == OGRERR_NONE && wkt) g.crs_wkt = wkt;
    CPLFree(wkt);
  }
  return g;
}

int RasterDataset::band_count() const { return ds_->GetRasterCount(); }

void check_raster_readable(const std::string& path) {
  init_gdal();
  refuse_special_file(path);
  clear_gdal_error();
  GDALDatasetH h = GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr);
  if (!h) {
    const std::string why = take_gdal_error();
    core::fail(ErrorCode::kInvalidInput, "'{}' is not a raster GDAL can read{}{}", path, why.empty() ? "" : ": ", why);
  }
  std::vector<std::string> parts;
  if (GDALGetRasterCount(h) == 0) {  // a container: each of its rasters
    for (char** p = GDALGetMetadata(h, "SUBDATASETS"); p && *p; ++p) {
      const std::string kv = *p;
      const auto eq = kv.find('=');
      if (eq != std::string::npos && kv.compare(eq - 5, 5, "_NAME") == 0) parts.push_back(kv.substr(eq + 1));
    }
  }
  GDALClose(h);
  if (parts.empty()) parts.push_back(path);
  for (const auto& p : parts) RasterDataset::open(p).check_readable();
}

void RasterDataset::check_readable() const {
  const core::Grid g = grid();
  std::vector<unsigned char> buf;
  for (int b = 1; b <= band_count(); ++b) {
    GDALRasterBand* h = band_handle(b);
    int bw = 0, bh = 0;
    h->GetBlockSize(&bw, &bh);
    const int type_bytes = std::max(1, GDALGetDataTypeSizeBytes(h->GetRasterDataType()));
    // Row bands of whole blocks, at most ~64 MiB each.
    const int rows = std::max(bh, static_cast<int>(std::min<std::int64_t>(g.height, (std::int64_t{64} << 20) / (std::int64_t{g.width} * type_bytes) / bh * bh)));
    buf.resize(static_cast<std::size_t>(g.width) * static_cast<std::size_t>(std::min(rows, g.height)) * static_cast<std::size_t>(type_bytes));
    for (int y = 0; y < g.height; y += rows) {
      const int n = std::min(rows, g.height - y);
      clear_gdal_error();
      if (h->RasterIO(GF_Read, 0, y, g.width, n, buf.data(), g.width, n, h->GetRasterDataType(), 0, 0, nullptr) != CE_None) {
        const std::string why = take_gdal_error();
        core::fail(ErrorCode::kIo, "'{}': band {}, rows {}-{}: the pixels cannot be read (truncated or corrupted file){}{}", path_, b, y, y + n - 1,
                   why.empty() ? "" : ": ", why);
      }
    }
  }
}

GDALRasterBand* RasterDataset::band_handle(int band) const {
  if (band < 1 || band > ds_->GetRasterCount()) {
    core::fail(ErrorCode::kNotFound, "'{}' has {} band{}; band {} does not exist", path_, ds_->GetRasterCount(),
               ds_->GetRasterCount() == 1 ? "" : "s", band);
  }
  return ds_->GetRasterBand(band);
}

BandInfo RasterDataset::band(int band) const {
  GDALRasterBand* b = band_handle(band);
  BandInfo info;
  info.index = band;
  info.type = from_gdal_type(b->GetRasterDataType(), fmt::format("'{}' band {}", path_, band));
  b->GetBlockSize(&info.block_width, &info.block_height);
  int has = 0;
  const double nd = b->GetNoDataValue(&has);
  if (has) info.nodata = nd;
  int has_scale = 0;
  const double scale = b->GetScale(&has_scale);
  if (has_scale) info.scale = scale;
  int has_offset = 0;
  const double offset = b->GetOffset(&has_offset);
  if (has_offset) info.offset = offset;
  info.description = b->GetDescription();
  info.color_interpretation = GDALGetColorInterpretationName(b->GetColorInterpretation());
  const int flags = b->GetMaskFlags();
  info.has_mask = (flags & (GMF_ALL_VALID | GMF_NODATA)) == 0;
  info.overview_count = b->GetOverviewCount();
  return info;
}

std::string RasterDataset::driver_name() const {
  return ds_->GetDriver() ? ds_->GetDriver()->GetDescription() : "";
}

std::vector<std::pair<std::string, std::string>> RasterDataset::metadata(const char* domain) const {
  std::vector<std::pair<std::string, std::string>> out;
  char** md = ds_->GetMetadata(domain);
  for (char** p = md; p && *p; ++p) {
    char* key = nullptr;
    const char* value = CPLParseNameValue(*p, &key);
    if (key) {
      out.emplace_back(key, value ? value : "");
      CPLFree(key);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> RasterDataset::subdatasets() const {
  std::vector<std::pair<std::string, std::string>> out;
  auto md = metadata("SUBDATASETS");
  for (const auto& [k, v] : md) {
    if (k.size() > 5 && k.compare(k.size() - 5, 5, "_NAME") == 0) {
      std::string desc;
      const std::string desc_key = k.substr(0, k.size() - 5) + "_DESC";
      for (const auto& [k2, v2] : md) {
        if (k2 == desc_key) desc = v2;
      }
      out.emplace_back(v, desc);
    }
  }
  return out;
}

std::size_t DatasetSet::open(const std::string& path) {
  for (std::size_t i = 0; i < paths_.size(); ++i) {
    if (paths_[i] == path) return i;
  }
  datasets_.push_back(RasterDataset::open(path));
  paths_.push_back(path);
  return paths_.size() - 1;
}

bool same_crs(const std::string& wkt_a, const std::string& wkt_b) {
  if (wkt_a.empty() || wkt_b.empty()) return wkt_a.empty() == wkt_b.empty();
  if (wkt_a == wkt_b) return true;
  OGRSpatialReference a, b;
  if (a.importFromWkt(wkt_a.c_str()) != OGRERR_NONE || b.importFromWkt(wkt_b.c_str()) != OGRERR_NONE) return false;
  const char* opts[] = {"IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES", "CRITERION=EQUIVALENT_EXCEPT_AXIS_ORDER_GEOGCRS",
                        nullptr};
  return a.IsSame(&b, opts) != 0;
}

AreaModel area_model(const std::string& wkt) {
  AreaModel m;
  OGRSpatialReference srs;
  if (wkt.empty() || srs.importFromWkt(wkt.c_str()) != OGRERR_NONE) {
    m.known = false;
    return m;
  }
  m.geographic = srs.IsGeographic() != 0;
  if (!m.geographic) m.metres_per_unit = srs.GetLinearUnits(nullptr);
  return m;
}

std::string crs_label(const std::string& wkt) {
  if (wkt.empty()) return "no CRS";
  OGRSpatialReference srs;
  if (srs.importFromWkt(wkt.c_str()) != OGRERR_NONE) return "unparsable CRS";
  srs.AutoIdentifyEPSG();
  const char* auth = srs.GetAuthorityName(nullptr);
  const char* code = srs.GetAuthorityCode(nullptr);
  if (auth && code) return fmt::format("{}:{}", auth, code);
  const char* name = srs.GetName();
  return name ? name : "unnamed CRS";
}

}  // namespace sco::io
