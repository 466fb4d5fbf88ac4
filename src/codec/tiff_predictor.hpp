#pragma once
// TIFF predictors, applied to a tile before compression (no I/O).
//
// Horizontal differencing (Predictor = 2, TIFF 6.0 section 14): each sample minus the same sample of
// the pixel before it in the row, in the sample's own integer width, wrapping. Floating-point
// (Predictor = 3, Adobe Photoshop TIFF Technical Note 3): each row's values split into byte planes,
// most significant first, then each byte minus the byte before it. Samples are little-endian, as in
// the files sco writes.
#include <cstddef>
#include <cstdint>

namespace sco::codec {

// Tile rows of `width` pixels of `samples` samples of `bytes` bytes each, `rows` of them, contiguous.
struct RowShape {
  int width = 0;
  int rows = 0;
  int samples = 1;
  int bytes = 1;  // per sample: 1, 2, 4 or 8
  std::size_t row_bytes() const { return static_cast<std::size_t>(width) * samples * bytes; }
};

// src -> dst (same size, distinct buffers).
void horizontal_difference(const std::uint8_t* src, std::uint8_t* dst, const RowShape& shape);
void floating_point_difference(const std::uint8_t* src, std::uint8_t* dst, const RowShape& shape);

// The inverses (what a reader does), in place: the tests check that encoding round-trips.
void horizontal_accumulate(std::uint8_t* data, const RowShape& shape);
void floating_point_accumulate(std::uint8_t* data, const RowShape& shape, std::uint8_t* scratch_row);

}  // namespace sco::codec
