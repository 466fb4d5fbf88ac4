#pragma once
// A 2-D kernel (algebra/convolution) over one band of a raster file, into a float32 GeoTIFF on the
// same grid (NaN nodata), read and written in strips of rows with the kernel's halo: memory stays a
// few strips whatever the band's size. Written under a temporary name and renamed when complete.
#include <string>

#include "algebra/convolution.hpp"
#include "core/cancel.hpp"

namespace sco::io {

void convolve_band(const std::string& in_path, int band, const algebra::Kernel2D& kernel, const std::string& out_path,
                   const core::CancelToken* cancel = nullptr);

}  // namespace sco::io
