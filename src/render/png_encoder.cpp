#include "render/png_encoder.hpp"

#include <zlib.h>

#include <cstring>
#include <vector>

#include "core/error.hpp"

namespace sco::render {

namespace {
void put32(std::string& out, std::uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(b, 4);
}

void chunk(std::string& out, const char* type, const std::uint8_t* data, std::size_t n) {
  put32(out, static_cast<std::uint32_t>(n));
  const std::size_t start = out.size();
  out.append(type, 4);
  out.append(reinterpret_cast<const char*>(data), n);
  const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(out.data() + start), static_cast<uInt>(n + 4));
  put32(out, static_cast<std::uint32_t>(crc));
}
}  // namespace

std::string encode_png_rgba(const std::uint8_t* rgba, int width, int height, int level) {
  const std::size_t row = static_cast<std::size_t>(width) * 4;
  // Filtered scanlines: a filter byte (2 = Up) then the row minus the row above (the first row has
  // nothing above: filter 0).
  std::vector<std::uint8_t> raw((row + 1) * static_cast<std::size_t>(height));
  for (int y = 0; y < height; ++y) {
    std::uint8_t* dst = raw.data() + static_cast<std::size_t>(y) * (row + 1);
    const std::uint8_t* cur = rgba + static_cast<std::size_t>(y) * row;
    if (y == 0) {
      dst[0] = 0;
      std::memcpy(dst + 1, cur, row);
      continue;
    }
    const std::uint8_t* up = cur - row;
    dst[0] = 2;
    for (std::size_t i = 0; i < row; ++i) dst[1 + i] = static_cast<std::uint8_t>(cur[i] - up[i]);
  }
  uLongf zlen = compressBound(static_cast<uLong>(raw.size()));
  std::vector<std::uint8_t> z(zlen);
  if (compress2(z.data(), &zlen, raw.data(), static_cast<uLong>(raw.size()), level) != Z_OK) {
    core::fail(core::ErrorCode::kInternal, "PNG: zlib compression failed");
  }
  std::string out("\x89PNG\r\n\x1a\n", 8);
  std::uint8_t ihdr[13];
  for (int k = 0; k < 4; ++k) {
    ihdr[k] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(width) >> (24 - 8 * k));
    ihdr[4 + k] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(height) >> (24 - 8 * k));
  }
  ihdr[8] = 8;   // bit depth
  ihdr[9] = 6;   // colour type: RGBA
  ihdr[10] = 0;  // deflate
  ihdr[11] = 0;  // adaptive filtering
  ihdr[12] = 0;  // no interlace
  chunk(out, "IHDR", ihdr, sizeof ihdr);
  chunk(out, "IDAT", z.data(), zlen);
  chunk(out, "IEND", nullptr, 0);
  return out;
}

}  // namespace sco::render
