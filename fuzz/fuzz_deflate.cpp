// The tile scanline DEFLATE encoder on arbitrary bytes and row lengths. Properties: no crash, no
// sanitizer report, and zlib's inflate (a decoder written elsewhere) gives back exactly the input.
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "codec/scanline_deflate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  // The first two bytes choose the row length (1..40000: beyond DEFLATE's 32 KiB window too).
  const std::size_t stride = 1 + (static_cast<std::size_t>(data[0]) << 8 | data[1]) % 40000;
  const std::uint8_t* raw = data + 2;
  const std::size_t n = size - 2;
  std::vector<std::uint8_t> z;
  const std::size_t len = sco::codec::zlib_compress_scanlines(raw, n, stride, z);
  if (len != z.size()) std::abort();
  std::vector<std::uint8_t> back(n + 1);
  uLongf got = back.size();
  if (uncompress(back.data(), &got, z.data(), static_cast<uLong>(z.size())) != Z_OK) std::abort();
  if (got != n || (n && std::memcmp(back.data(), raw, n) != 0)) std::abort();
  return 0;
}
