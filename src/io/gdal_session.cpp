#include "io/gdal_session.hpp"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include "core/error.hpp"

namespace sco::io {

namespace {
thread_local std::string t_last_error;

extern "C" void capture_error(CPLErr level, CPLErrorNum, const char* message) {
  if (level >= CE_Failure) {
    t_last_error = message ? message : "";
  }
  // Warnings and debug output are not shown: sco reports its own warnings where they matter.
}
}  // namespace

void refuse_special_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) return;
  const char* kind = S_ISFIFO(st.st_mode) ? "a named pipe" : S_ISSOCK(st.st_mode) ? "a socket" : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device" : "special";
  core::fail(core::ErrorCode::kInvalidInput, "'{}' is not a regular file ({})", path, kind);
}

void init_gdal() {
  static std::once_flag once;
  std::call_once(once, [] {
    GDALAllRegister();
    CPLSetErrorHandler(capture_error);
    if (std::getenv("GDAL_CACHEMAX") == nullptr) {
      GDALSetCacheMax64(64LL * 1024 * 1024);
    }
  });
}

void set_gdal_cache_bytes(std::size_t bytes) {
  init_gdal();
  GDALSetCacheMax64(static_cast<GIntBig>(bytes));
}

std::string take_gdal_error() {
  std::string m = std::move(t_last_error);
  t_last_error.clear();
  return m;
}

void clear_gdal_error() {
  t_last_error.clear();
  CPLErrorReset();
}

core::DataType from_gdal_type(int gdal_type, const std::string& where) {
  switch (static_cast<GDALDataType>(gdal_type)) {
    case GDT_Byte: return core::DataType::kByte;
    case GDT_UInt16: return core::DataType::kUInt16;
    case GDT_Int16: return core::DataType::kInt16;
    case GDT_UInt32: return core::DataType::kUInt32;
    case GDT_Int32: return core::DataType::kInt32;
    case GDT_Float32: return core::DataType::kFloat32;
    case GDT_Float64: return core::DataType::kFloat64;
#if GDAL_VERSION_NUM >= 3070000
    case GDT_Int8: return core::DataType::kInt8;
#endif
    default:
      core::fail(core::ErrorCode::kInvalidInput, "{}: data type {} is not supported (convert it with gdal_translate -ot)",
                 where, GDALGetDataTypeName(static_cast<GDALDataType>(gdal_type)));
  }
}

int to_gdal_type(core::DataType type) {
  switch (type) {
    case core::DataType::kByte: return GDT_Byte;
    case core::DataType::kUInt16: return GDT_UInt16;
    case core::DataType::kInt16: return GDT_Int16;
    case core::DataType::kUInt32: return GDT_UInt32;
    case core::DataType::kInt32: return GDT_Int32;
    case core::DataType::kFloat32: return GDT_Float32;
    case core::DataType::kFloat64: return GDT_Float64;
    case core::DataType::kInt8:
#if GDAL_VERSION_NUM >= 3070000
      return GDT_Int8;
#else
      core::fail(core::ErrorCode::kInvalidInput, "int8 output needs GDAL 3.7 or later (this is GDAL {})",
                 GDALVersionInfo("RELEASE_NAME"));
#endif
  }
  return GDT_Unknown;
}

std::vector<std::string> dataset_files(const std::string& path) {
  init_gdal();
  clear_gdal_error();
  GDALDatasetH ds = GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, nullptr, nullptr);
  if (!ds) core::fail(core::ErrorCode::kNotFound, "cannot open '{}': {}", path, take_gdal_error());
  char** list = GDALGetFileList(ds);
  std::vector<std::string> files;
  for (char** p = list; p && *p; ++p) files.emplace_back(*p);
  CSLDestroy(list);
  GDALClose(ds);
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace sco::io
