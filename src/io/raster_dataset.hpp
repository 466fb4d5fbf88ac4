#pragma once
// A raster file opened read-only through GDAL: its grid, bands and their properties. Not
// thread-safe (GDAL datasets are not): each worker thread opens its own.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/data_type.hpp"
#include "core/grid.hpp"

class GDALDataset;
class GDALRasterBand;

namespace sco::io {

struct BandInfo {
  int index = 1;  // 1-based
  core::DataType type = core::DataType::kByte;
  int block_width = 0;
  int block_height = 0;
  std::optional<double> nodata;
  double scale = 1.0;
  double offset = 0.0;
  std::string description;
  std::string color_interpretation;
  bool has_mask = false;  // a per-dataset mask or alpha band, beyond nodata
  int overview_count = 0;
};

// "FILE[:BAND]": a trailing ":N" selects band N (default 1), unless the whole text names an
// existing file.
struct BandRef {
  std::string path;
  int band = 1;
  bool band_given = false;
};
BandRef parse_band_ref(const std::string& text);

// "FILE:VARIABLE" for containers of several rasters (NetCDF, HDF5): the GDAL subdataset whose name
// ends with the variable, e.g. NETCDF:"f.nc":tas. Other text is returned unchanged. Throws naming the
// file and its variables when the variable does not exist.
std::string resolve_variable(const std::string& text);

// check_readable() for a raster file or each raster of a container (NetCDF, HDF5); throws
// kInvalidInput naming the file when GDAL cannot open it as a raster at all.
void check_raster_readable(const std::string& path);

class RasterDataset {
 public:
  // Throws kNotFound when the file does not exist, kInvalidInput when GDAL cannot read it as a
  // raster, naming the file.
  static RasterDataset open(const std::string& path);

  RasterDataset(RasterDataset&&) noexcept;
  RasterDataset& operator=(RasterDataset&&) noexcept;
  ~RasterDataset();

  const std::string& path() const { return path_; }
  core::Grid grid() const;
  int band_count() const;
  // Throws kNotFound naming the file and its band count when `band` does not exist.
  BandInfo band(int band) const;
  std::string driver_name() const;
  std::vector<std::pair<std::string, std::string>> metadata(const char* domain = nullptr) const;
  std::vector<std::pair<std::string, std::string>> subdatasets() const;

  GDALDataset* handle() const { return ds_; }
  GDALRasterBand* band_handle(int band) const;

  // Decodes every block of every band (a band of block rows at a time, at most ~64 MiB):
  // throws kIo naming the file, band and rows when a block cannot be read, as in a truncated or
  // corrupted file whose header still opens. A catalog signs only what it could read.
  void check_readable() const;

 private:
  RasterDataset(std::string path, GDALDataset* ds) : path_(std::move(path)), ds_(ds) {}
  std::string path_;
  GDALDataset* ds_ = nullptr;
};

// The datasets of a list of inputs, each distinct path opened once. Like RasterDataset, for one
// thread at a time.
class DatasetSet {
 public:
  // The index of `path`'s dataset, opening it on first use.
  std::size_t open(const std::string& path);
  const RasterDataset& operator[](std::size_t index) const { return datasets_[index]; }

 private:
  std::vector<std::string> paths_;
  std::vector<RasterDataset> datasets_;
};

// True when both CRS definitions describe the same CRS (PROJ's equivalence, ignoring axis order
// metadata); two empty definitions are the same.
bool same_crs(const std::string& wkt_a, const std::string& wkt_b);
// How to measure cell areas in this CRS: geographic (spherical) or projected with its unit in metres.
struct AreaModel {
  bool geographic = false;
  double metres_per_unit = 1.0;
  bool known = true;  // false when there is no CRS (areas are then in squared CRS units)
};
AreaModel area_model(const std::string& wkt);

// "EPSG:31985" when the CRS has an EPSG code, else its name, else "no CRS".
std::string crs_label(const std::string& wkt);

}  // namespace sco::io
