#include "io/raster_output.hpp"

#include <gdal_priv.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/cancel.hpp"
#include "core/error.hpp"
#include "io/gdal_session.hpp"

namespace sco::io {

using core::ErrorCode;
namespace fs = std::filesystem;

OutputFormat parse_output_format(const std::string& name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "cog") return OutputFormat::kCog;
  if (lower == "gtiff" || lower == "geotiff") return OutputFormat::kGTiff;
  core::fail(ErrorCode::kInvalidInput, "unknown output format '{}' (formats: COG, GTiff)", name);
}

std::string temp_name(const std::string& final_path, const char* tag) {
  static std::atomic<int> counter{0};
  const fs::path p(final_path);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  const std::string ext = p.extension().empty() ? ".tif" : p.extension().string();  // GDAL may pick a driver by it
  return (dir / fmt::format(".{}.sco-tmp-{}-{}-{}{}", p.filename().string(), ::getpid(), counter++, tag, ext)).string();
}

std::vector<std::string> cog_options(bool is_float, int threads) {
  // DEFLATE is readable everywhere; level 1 costs ~40% less time than the default 6 for ~1% more
  // bytes on float indices (measured in bench/README.md). --co LEVEL=9 for archives.
  return {"COMPRESS=DEFLATE", "LEVEL=1", "PREDICTOR=YES", "BLOCKSIZE=512", "BIGTIFF=IF_SAFER", "OVERVIEWS=AUTO",
          is_float ? "RESAMPLING=AVERAGE" : "RESAMPLING=NEAREST", fmt::format("NUM_THREADS={}", threads)};
}

void describe_dataset(GDALDataset* ds, const core::Grid& grid, const OutputSpec& spec) {
  ds->SetGeoTransform(const_cast<double*>(grid.transform.data()));
  if (!grid.crs_wkt.empty()) {
    OGRSpatialReference srs;
    srs.importFromWkt(grid.crs_wkt.c_str());
    srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    ds->SetSpatialRef(&srs);
  }
  for (const auto& [k, v] : spec.metadata) ds->SetMetadataItem(k.c_str(), v.c_str());
  for (int k = 1; k <= ds->GetRasterCount(); ++k) {
    GDALRasterBand* b = ds->GetRasterBand(k);
    b->SetNoDataValue(spec.nodata);
    const std::size_t i = static_cast<std::size_t>(k - 1);
    const std::string& d = i < spec.band_descriptions.size() ? spec.band_descriptions[i] : spec.band_description;
    if (!d.empty()) b->SetDescription(d.c_str());
  }
}

std::string ascii_upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

void check_output_path(const std::string& path) {
  if (path.empty()) core::fail(ErrorCode::kInvalidInput, "the output path is empty");
  const fs::path p(path);
  std::error_code ec;
  if (fs::is_directory(p, ec)) core::fail(ErrorCode::kInvalidInput, "cannot write output '{}': it is a folder", path);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec)) {
    core::fail(ErrorCode::kIo, "cannot write output '{}': folder '{}' does not exist", path, dir.string());
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    core::fail(ErrorCode::kIo, "cannot write output '{}': folder '{}' is not writable", path, dir.string());
  }
  const std::string ext = p.extension().string();
  std::string lower;
  for (char c : ext) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower != ".tif" && lower != ".tiff") {
    core::fail(ErrorCode::kInvalidInput, "cannot write output '{}': sco writes GeoTIFF; name it .tif", path);
  }
}

namespace {

// Sets KEY=VALUE in a GDAL option list, replacing an existing KEY.
void set_option(std::vector<std::string>& opts, const std::string& kv) {
  const auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) {
    core::fail(ErrorCode::kInvalidInput, "creation option '{}' is not KEY=VALUE", kv);
  }
  const std::string key = kv.substr(0, eq);
  for (auto& o : opts) {
    if (o.size() > key.size() && o.compare(0, key.size(), key) == 0 && o[key.size()] == '=') {
      o = kv;
      return;
    }
  }
  opts.push_back(kv);
}

struct OptionList {
  std::vector<const char*> ptrs;
  explicit OptionList(const std::vector<std::string>& opts) {
    for (const auto& o : opts) ptrs.push_back(o.c_str());
    ptrs.push_back(nullptr);
  }
  char** get() { return const_cast<char**>(ptrs.data()); }
};

void remove_quietly(const std::string& path) {
  if (!path.empty()) ::unlink(path.c_str());
}

int gdal_progress(double fraction, const char*, void* arg) {
  if (arg) static_cast<core::Progress*>(arg)->set_fraction(fraction);
  return core::cancel_requested() ? FALSE : TRUE;
}

}  // namespace

RasterOutput::RasterOutput(OutputSpec spec, const core::Grid& grid, int threads, int preferred_block)
    : spec_(std::move(spec)), threads_(std::max(threads, 1)) {
  init_gdal();
  check_output_path(spec_.path);
  GDALDriver* gtiff = GetGDALDriverManager()->GetDriverByName("GTiff");
  if (!gtiff) core::fail(ErrorCode::kInternal, "GDAL has no GTiff driver");
  const int block = spec_.tile > 0 ? spec_.tile : preferred_block > 0 ? preferred_block : 512;
  std::vector<std::string> opts = {"TILED=YES", fmt::format("BLOCKXSIZE={}", block),
                                   fmt::format("BLOCKYSIZE={}", block), "BIGTIFF=IF_SAFER"};
  if (spec_.format == OutputFormat::kGTiff) {
    for (const auto& o : spec_.creation_options) set_option(opts, o);
    bool compressed = false;
    for (const auto& o : opts) compressed = compressed || (o.rfind("COMPRESS=", 0) == 0 && o != "COMPRESS=NONE");
    if (compressed) {
      set_option(opts, fmt::format("NUM_THREADS={}", threads_));
    }
  }
  staging_path_ = temp_name(spec_.path, "stage");
  clear_gdal_error();
  OptionList ol(opts);
  ds_ = gtiff->Create(staging_path_.c_str(), grid.width, grid.height, std::max(1, spec_.bands),
                      static_cast<GDALDataType>(to_gdal_type(spec_.type)), ol.get());
  if (!ds_) {
    const std::string why = take_gdal_error();
    remove_quietly(staging_path_);
    core::fail(ErrorCode::kIo, "cannot create output '{}': {}", spec_.path, why);
  }
  describe_dataset(ds_, grid, spec_);
  ds_->GetRasterBand(1)->GetBlockSize(&block_width_, &block_height_);
}

RasterOutput::~RasterOutput() {
  if (ds_) GDALClose(ds_);
  if (!committed_) {
    remove_quietly(staging_path_);
    remove_quietly(final_tmp_path_);
  }
}

GDALRasterBand* RasterOutput::band(int k) const { return ds_->GetRasterBand(k); }

void RasterOutput::commit(core::Progress* progress) {
  clear_gdal_error();
  ds_->FlushCache();
  GDALClose(ds_);
  ds_ = nullptr;
  if (const std::string why = take_gdal_error(); !why.empty()) {
    core::fail(ErrorCode::kIo, "writing '{}' failed: {}", spec_.path, why);
  }
  std::string done_path = staging_path_;
  if (spec_.format == OutputFormat::kCog) {
    GDALDriver* cog = GetGDALDriverManager()->GetDriverByName("COG");
    if (!cog) core::fail(ErrorCode::kInternal, "GDAL has no COG driver");
    std::vector<std::string> opts = cog_options(!core::is_integer(spec_.type), threads_);
    for (const auto& o : spec_.creation_options) set_option(opts, o);
    auto* src = static_cast<GDALDataset*>(GDALOpenEx(staging_path_.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY,
                                                     nullptr, nullptr, nullptr));
    if (!src) core::fail(ErrorCode::kIo, "cannot reopen the staging file of '{}': {}", spec_.path, take_gdal_error());
    final_tmp_path_ = temp_name(spec_.path, "cog");
    OptionList ol(opts);
    GDALDataset* out = cog->CreateCopy(final_tmp_path_.c_str(), src, FALSE, ol.get(), gdal_progress, progress);
    GDALClose(src);
    if (!out) {
      core::throw_if_cancelled();
      core::fail(ErrorCode::kIo, "cannot write cloud-optimised GeoTIFF '{}': {}", spec_.path, take_gdal_error());
    }
    GDALClose(out);
    if (const std::string why = take_gdal_error(); !why.empty()) {
      core::fail(ErrorCode::kIo, "writing '{}' failed: {}", spec_.path, why);
    }
    remove_quietly(staging_path_);
    done_path = final_tmp_path_;
  }
  if (std::rename(done_path.c_str(), spec_.path.c_str()) != 0) {
    core::fail(ErrorCode::kIo, "cannot rename the finished output to '{}': {}", spec_.path, std::strerror(errno));
  }
  committed_ = true;
}

}  // namespace sco::io
