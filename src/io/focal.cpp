#include "io/focal.hpp"

#include <gdal_priv.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <vector>

#include "core/error.hpp"
#include "io/gdal_session.hpp"
#include "io/raster_output.hpp"

namespace sco::io {

using core::ErrorCode;

namespace {
constexpr long kStrip = 256;

struct Closer {
  void operator()(GDALDataset* d) const { GDALClose(d); }
};
using Dataset = std::unique_ptr<GDALDataset, Closer>;

// Rows of one band kept for the current strip: the strip and its halo read in one request, rows a
// wrapping border needs from the far edge read one by one.
class RowSource {
 public:
  RowSource(GDALRasterBand* band, long width) : band_(band), width_(width) {}

  void load(long first, long last) {  // rows [first, last), clamped by the caller
    rows_.clear();
    block_first_ = first;
    block_.assign(static_cast<std::size_t>((last - first) * width_), 0.0f);
    read(first, last - first, block_.data());
    block_last_ = last;
  }

  const float* row(long r) {
    if (r >= block_first_ && r < block_last_) return block_.data() + (r - block_first_) * width_;
    auto& extra = rows_[r];
    if (extra.empty()) {
      extra.resize(static_cast<std::size_t>(width_));
      read(r, 1, extra.data());
    }
    return extra.data();
  }

 private:
  void read(long row, long count, float* dst) {
    if (band_->RasterIO(GF_Read, 0, static_cast<int>(row), static_cast<int>(width_), static_cast<int>(count), dst, static_cast<int>(width_),
                        static_cast<int>(count), GDT_Float32, 0, 0) != CE_None) {
      core::fail(ErrorCode::kIo, "cannot read rows {}-{}: {}", row, row + count - 1, take_gdal_error());
    }
    int has_nodata = 0;
    const double nodata = band_->GetNoDataValue(&has_nodata);
    if (!has_nodata) return;
    for (long i = 0; i < count * width_; ++i) {
      if (dst[i] == static_cast<float>(nodata)) dst[i] = std::nanf("");  // nodata is invalid: replace_invalid
    }
  }

  GDALRasterBand* band_;
  long width_;
  long block_first_ = 0, block_last_ = 0;
  std::vector<float> block_;
  std::map<long, std::vector<float>> rows_;
};
}  // namespace

void convolve_band(const std::string& in_path, int band, const algebra::Kernel2D& kernel, const std::string& out_path,
                   const core::CancelToken* cancel) {
  clear_gdal_error();
  Dataset src(static_cast<GDALDataset*>(GDALOpen(in_path.c_str(), GA_ReadOnly)));
  if (!src || band < 1 || band > src->GetRasterCount()) core::fail(ErrorCode::kIo, "cannot read band {} of '{}': {}", band, in_path, take_gdal_error());
  const long width = src->GetRasterXSize(), height = src->GetRasterYSize();
  GDALDriver* gtiff = GetGDALDriverManager()->GetDriverByName("GTiff");
  const std::string tmp = temp_name(out_path, "focal");
  const char* options[] = {"TILED=YES", "COMPRESS=DEFLATE", "PREDICTOR=3", "BIGTIFF=IF_SAFER", nullptr};
  Dataset out(gtiff->Create(tmp.c_str(), static_cast<int>(width), static_cast<int>(height), 1, GDT_Float32, const_cast<char**>(options)));
  if (!out) core::fail(ErrorCode::kIo, "cannot create '{}': {}", out_path, take_gdal_error());
  double gt[6];
  if (src->GetGeoTransform(gt) == CE_None) out->SetGeoTransform(gt);
  out->SetProjection(src->GetProjectionRef());
  out->GetRasterBand(1)->SetNoDataValue(std::nan(""));
  RowSource rows(src->GetRasterBand(band), width);
  std::vector<float> strip(static_cast<std::size_t>(kStrip * width));
  const long halo = kernel.rows / 2;
  try {
    for (long r0 = 0; r0 < height; r0 += kStrip) {
      if (core::cancelled(cancel)) break;
      const long n = std::min(kStrip, height - r0);
      rows.load(std::max(0L, r0 - halo), std::min(height, r0 + n + halo));
      algebra::convolve_rows(kernel, width, height, r0, n, [&rows](long r) { return rows.row(r); }, strip.data());
      if (out->GetRasterBand(1)->RasterIO(GF_Write, 0, static_cast<int>(r0), static_cast<int>(width), static_cast<int>(n), strip.data(),
                                          static_cast<int>(width), static_cast<int>(n), GDT_Float32, 0, 0) != CE_None) {
        core::fail(ErrorCode::kIo, "cannot write '{}': {}", out_path, take_gdal_error());
      }
    }
  } catch (...) {
    out.reset();
    std::remove(tmp.c_str());
    throw;
  }
  out.reset();  // flushed and closed
  if (core::cancelled(cancel)) {
    std::remove(tmp.c_str());
    core::throw_if_cancelled(cancel);
  }
  if (const std::string why = take_gdal_error(); !why.empty() || std::rename(tmp.c_str(), out_path.c_str()) != 0) {
    std::remove(tmp.c_str());
    core::fail(ErrorCode::kIo, "writing '{}' failed: {}", out_path, why.empty() ? "rename" : why);
  }
}

}  // namespace sco::io
