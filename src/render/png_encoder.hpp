#pragma once
// A PNG encoder for map tiles (ISO/IEC 15948 / W3C PNG): one IDAT of DEFLATE-compressed scanlines,
// by sco's scanline encoder (codec/scanline_deflate: three times faster than libdeflate's fastest
// level on tiles, about a tenth bigger) or by libdeflate at a chosen level (for the smallest). Two
// forms: RGBA8 with the "Up" filter (the row minus the row above, which suits map tiles), and 8-bit
// indexed colour with a palette and a tRNS chunk (a coloured single band: a quarter of the bytes
// to compress and to send). Written here because a tile's encoding is most of its cost: GDAL's PNG
// driver goes through a dataset, a copy and a virtual file.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace sco::render {

// `level`: kPngFast for the scanline encoder, or libdeflate's level 0..12.
constexpr int kPngFast = -1;

// `rgba`: width x height x 4 bytes, rows top to bottom.
std::string encode_png_rgba(const std::uint8_t* rgba, int width, int height, int level = 1);

// `index`: width x height palette indices, rows top to bottom; `palette`: 1..256 RGBA entries
// (alpha < 255 goes to tRNS). Every index must be < palette.size().
std::string encode_png_indexed(const std::uint8_t* index, int width, int height, const std::vector<std::array<std::uint8_t, 4>>& palette,
                               int level = kPngFast);

}  // namespace sco::render
