#pragma once
// Views of one block of pixels in memory: typed data with a row pitch and an optional validity mask.
// The pipeline in io/ fills them from files; kernels in algebra/ and zonal/ read and write them.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/data_type.hpp"

namespace sco::core {

struct BlockView {
  DataType type = DataType::kFloat32;
  const void* data = nullptr;
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
};

struct MutableBlockView {
  DataType type = DataType::kFloat32;
  void* data = nullptr;
  std::ptrdiff_t pitch = 0;
  int width = 0;
  int height = 0;
  double nodata = 0.0;

  void* row(int y) const {
    return static_cast<std::byte*>(data) + static_cast<std::ptrdiff_t>(y) * pitch * size_of(type);
  }
};

}  // namespace sco::core
