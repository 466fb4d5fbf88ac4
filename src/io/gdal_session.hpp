#pragma once
// GDAL set-up and error capture. GDAL reports errors through a global handler; sco installs one that
// keeps the last message per thread, and io/ turns failures into core::Error right where they
// happen, so no GDAL error state escapes this folder.
#include <cstddef>
#include <string>
#include <vector>

#include "core/data_type.hpp"
#include "core/error.hpp"


namespace sco::io {

// Idempotent. Registers drivers, installs the error handler, and bounds GDAL's block cache to 64 MiB
// unless GDAL_CACHEMAX is set: a large cache fills with dirty blocks and costs time and memory.
void init_gdal();
// Sets GDAL's block cache (decoded raster blocks shared by all threads) to `bytes`, after init_gdal.
// A tile server wants it large: a tile then costs a copy of cached blocks, not their decompression.
void set_gdal_cache_bytes(std::size_t bytes);

// Refuses (kInvalidInput, naming it) a path that exists but is neither a regular file nor a folder:
// GDAL would block forever reading a named pipe, or read a device without end. GDAL's own
// names (/vsi..., NETCDF:"f.nc":var) and paths that do not exist pass.
void refuse_special_file(const std::string& path);

// The last GDAL error message on this thread (empty when none), cleared by the call.
std::string take_gdal_error();
void clear_gdal_error();

// The files that make up a dataset (a shapefile's .shp, .shx, .dbf, .prj...; a NetCDF subdataset's
// file), sorted; throws kNotFound naming the path when GDAL cannot open it.
std::vector<std::string> dataset_files(const std::string& path);

core::DataType from_gdal_type(int gdal_type, const std::string& where);
int to_gdal_type(core::DataType type);

}  // namespace sco::io
