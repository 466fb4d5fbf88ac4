#pragma once
// A PNG encoder for RGBA8 tiles (ISO/IEC 15948 / W3C PNG): one IDAT of zlib-compressed scanlines,
// each with the "Up" filter (the row minus the row above, which suits map tiles), at a fast zlib
// level. Written here because a tile's encoding is most of its cost: GDAL's PNG driver goes through a
// dataset, a copy and a virtual file.
#include <cstdint>
#include <string>

namespace sco::render {

// `rgba`: width x height x 4 bytes, rows top to bottom. `level`: zlib level 0..9.
std::string encode_png_rgba(const std::uint8_t* rgba, int width, int height, int level = 1);

}  // namespace sco::render
