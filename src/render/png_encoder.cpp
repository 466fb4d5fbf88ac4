#include "render/png_encoder.hpp"

#include <libdeflate.h>

#include <cstring>
#include <memory>
#include <vector>

#include "core/error.hpp"
#include "codec/scanline_deflate.hpp"

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
  if (n) out.append(reinterpret_cast<const char*>(data), n);
  put32(out, libdeflate_crc32(0, out.data() + start, n + 4));
}

struct CompressorFree {
  void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
};

// One compressor per thread and level: allocating one costs more than compressing a tile.
libdeflate_compressor* compressor(int level) {
  if (level < 0 || level > 12) core::fail(core::ErrorCode::kInternal, "PNG: DEFLATE level {} is outside 0..12", level);
  thread_local std::unique_ptr<libdeflate_compressor, CompressorFree> cache[13];
  auto& c = cache[level];
  if (!c) c.reset(libdeflate_alloc_compressor(level));
  if (!c) core::fail(core::ErrorCode::kInternal, "PNG: out of memory for a compressor");
  return c.get();
}

// Signature, IHDR, the zlib stream of `raw` (filtered scanlines) as IDAT, IEND; `extra` chunks
// (PLTE, tRNS) go between IHDR and IDAT.
std::string assemble(int width, int height, std::uint8_t colour_type, const std::vector<std::uint8_t>& raw,
                     std::size_t stride, int level, const std::vector<std::pair<const char*, std::vector<std::uint8_t>>>& extra) {
  thread_local std::vector<std::uint8_t> z;
  z.clear();
  std::size_t zlen = 0;
  if (level == kPngFast) {
    zlen = codec::zlib_compress_scanlines(raw.data(), raw.size(), stride, z);
  } else {
    libdeflate_compressor* c = compressor(level);
    z.resize(libdeflate_zlib_compress_bound(c, raw.size()));
    zlen = libdeflate_zlib_compress(c, raw.data(), raw.size(), z.data(), z.size());
  }
  if (zlen == 0) core::fail(core::ErrorCode::kInternal, "PNG: DEFLATE compression failed");
  std::string out;
  out.reserve(zlen + 1100);
  out.append("\x89PNG\r\n\x1a\n", 8);
  std::uint8_t ihdr[13];
  for (int k = 0; k < 4; ++k) {
    ihdr[k] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(width) >> (24 - 8 * k));
    ihdr[4 + k] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(height) >> (24 - 8 * k));
  }
  ihdr[8] = 8;  // bit depth
  ihdr[9] = colour_type;
  ihdr[10] = 0;  // deflate
  ihdr[11] = 0;  // adaptive filtering
  ihdr[12] = 0;  // no interlace
  chunk(out, "IHDR", ihdr, sizeof ihdr);
  for (const auto& [type, data] : extra) chunk(out, type, data.data(), data.size());
  chunk(out, "IDAT", z.data(), zlen);
  chunk(out, "IEND", nullptr, 0);
  return out;
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
  return assemble(width, height, 6, raw, row + 1, level, {});
}

std::string encode_png_indexed(const std::uint8_t* index, int width, int height, const std::vector<std::array<std::uint8_t, 4>>& palette,
                               int level) {
  if (palette.empty() || palette.size() > 256) core::fail(core::ErrorCode::kInternal, "PNG: a palette has 1..256 entries, not {}", palette.size());
  const std::size_t row = static_cast<std::size_t>(width);
  // Indices are not magnitudes: no filter (type 0) on every row, as the PNG specification advises.
  std::vector<std::uint8_t> raw((row + 1) * static_cast<std::size_t>(height));
  for (int y = 0; y < height; ++y) {
    std::uint8_t* dst = raw.data() + static_cast<std::size_t>(y) * (row + 1);
    dst[0] = 0;
    std::memcpy(dst + 1, index + static_cast<std::size_t>(y) * row, row);
  }
  std::vector<std::uint8_t> plte, trns;
  std::size_t last_translucent = 0;
  for (std::size_t k = 0; k < palette.size(); ++k) {
    plte.insert(plte.end(), palette[k].begin(), palette[k].begin() + 3);
    if (palette[k][3] != 255) last_translucent = k + 1;
  }
  // tRNS lists alphas up to the last entry that is not opaque; later entries are opaque.
  for (std::size_t k = 0; k < last_translucent; ++k) trns.push_back(palette[k][3]);
  std::vector<std::pair<const char*, std::vector<std::uint8_t>>> extra{{"PLTE", std::move(plte)}};
  if (!trns.empty()) extra.emplace_back("tRNS", std::move(trns));
  return assemble(width, height, 3, raw, row + 1, level, extra);
}

}  // namespace sco::render
