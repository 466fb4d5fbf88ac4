#pragma once
// Views of one block of pixels in memory: typed data with a row pitch and an optional validity mask.
// The pipeline in io/ fills them from files; kernels in algebra/ and zonal/ read and write them.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>

#include "core/data_type.hpp"

namespace sco::core {

// T with an alignment of 1, for data that may start anywhere: the views a zonal BandReader hands out
// from a memory-mapped file (io/mapped_blocks) sit at the file's block offsets, so the zonal kernels
// read through `const Unaligned<T>*` (plain unaligned loads on x86, defined behaviour everywhere).
template <typename T>
struct UnalignedOf {
  typedef T type __attribute__((aligned(1)));
};
template <typename T>
using Unaligned = typename UnalignedOf<T>::type;

struct BlockView {
  DataType type = DataType::kFloat32;
  const void* data = nullptr;  // zonal reads: maybe not aligned to the type (see Unaligned<T>)
  std::ptrdiff_t pitch = 0;  // elements between the starts of two rows
  int width = 0;
  int height = 0;
  // Validity: a value equal to `nodata` is invalid; NaN is always invalid; where `mask` is set, a
  // zero byte is invalid (GDAL's per-dataset masks and alpha bands).
  std::optional<double> nodata;
  const std::uint8_t* mask = nullptr;
  std::ptrdiff_t mask_pitch = 0;
  // Applied after the validity test: value * scale + offset (e.g. digital numbers to reflectance).
  double scale = 1.0;
  double offset = 0.0;

  const void* row(int y) const {
    return static_cast<const std::byte*>(data) + static_cast<std::ptrdiff_t>(y) * pitch * size_of(type);
  }
  // The raw value at (x, y) as a double (no validity test, no scale): for per-pixel tests outside
  // the vectorised kernels.
  double value_at(int x, int y) const {
    const void* r = row(y);
    switch (type) {
      case DataType::kByte: return static_cast<const Unaligned<std::uint8_t>*>(r)[x];
      case DataType::kInt8: return static_cast<const Unaligned<std::int8_t>*>(r)[x];
      case DataType::kUInt16: return static_cast<const Unaligned<std::uint16_t>*>(r)[x];
      case DataType::kInt16: return static_cast<const Unaligned<std::int16_t>*>(r)[x];
      case DataType::kUInt32: return static_cast<const Unaligned<std::uint32_t>*>(r)[x];
      case DataType::kInt32: return static_cast<const Unaligned<std::int32_t>*>(r)[x];
      case DataType::kFloat32: return static_cast<const Unaligned<float>*>(r)[x];
      case DataType::kFloat64: return static_cast<const Unaligned<double>*>(r)[x];
    }
    return 0.0;
  }
  // The value at (x, y) with the validity test and the scale applied; NaN when invalid (per-pixel
  // readers outside the vectorised kernels).
  double value_or_nan(int x, int y) const {
    if (mask && mask[static_cast<std::ptrdiff_t>(y) * mask_pitch + x] == 0) return std::numeric_limits<double>::quiet_NaN();
    const double v = value_at(x, y);
    if (nodata && (type == DataType::kFloat32 ? static_cast<float>(v) == static_cast<float>(*nodata) : v == *nodata)) {
      return std::numeric_limits<double>::quiet_NaN();
    }
    return v * scale + offset;  // NaN stays NaN
  }
  // A static mask's test: valid and not zero.
  bool valid_nonzero(int x, int y) const {
    const double v = value_or_nan(x, y);
    return !std::isnan(v) && v != 0.0;
  }
};

// A band's nodata value in the band's own type T, or nothing when no pixel can equal it: a NaN
// nodata (NaN is always invalid and tested on its own), or a value T cannot hold (out of range, or
// fractional for an integer type). Floating types compare in their own precision, as GDAL stores
// the value: a float32 fill value of 1e20 is the float nearest 1e20, not the double 1e20.
template <typename T>
std::optional<T> nodata_as(std::optional<double> nodata) {
  if (!nodata || std::isnan(*nodata)) return std::nullopt;
  const double v = *nodata;
  if constexpr (std::numeric_limits<T>::is_integer) {
    if (v < static_cast<double>(std::numeric_limits<T>::min()) || v > static_cast<double>(std::numeric_limits<T>::max()) ||
        v != std::floor(v)) {
      return std::nullopt;
    }
  } else {
    if (std::isfinite(v) && std::fabs(v) > static_cast<double>(std::numeric_limits<T>::max())) return std::nullopt;
  }
  return static_cast<T>(v);
}

struct MutableBlockView {
  DataType type = DataType::kFloat32;
  void* data = nullptr;
  std::ptrdiff_t pitch = 0;
  int width = 0;
  int height = 0;
  double nodata = 0.0;
  int bands = 1;                      // outputs of several bands: one plane after another
  std::ptrdiff_t band_stride = 0;     // elements from one band's plane to the next

  void* row(int y) const {
    return static_cast<std::byte*>(data) + static_cast<std::ptrdiff_t>(y) * pitch * size_of(type);
  }
  // Band k's plane (0 = this one) as a one-band view.
  MutableBlockView plane(int k) const {
    MutableBlockView v = *this;
    v.data = static_cast<std::byte*>(data) + static_cast<std::ptrdiff_t>(k) * band_stride * static_cast<std::ptrdiff_t>(size_of(type));
    v.bands = 1;
    v.band_stride = 0;
    return v;
  }
};

}  // namespace sco::core
