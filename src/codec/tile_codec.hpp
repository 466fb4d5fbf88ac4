#pragma once
// One GeoTIFF tile encoded for the file: the predictor, then the compression (no I/O).
//
// DEFLATE (TIFF Compression = 8, a zlib stream): by default sco's own encoder (codec/scanline_deflate:
// runs and the row above, one dynamic-Huffman block), five times faster than libdeflate's fastest
// level on float32 tiles for about 2% more bytes (bench/README.md); a LEVEL (1-12) asks for
// libdeflate at that level instead. ZSTD (Compression = 50000, as libtiff and GDAL write it) through
// libzstd at ZSTD_LEVEL. NONE leaves the bytes as they are (no predictor).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/data_type.hpp"

namespace sco::codec {

enum class Compression { kNone, kDeflate, kZstd };

struct TileEncoding {
  Compression compression = Compression::kDeflate;
  int level = 0;      // DEFLATE: 0 = sco's encoder, 1-12 = libdeflate; ZSTD: 1-22
  int predictor = 1;  // 1 none, 2 horizontal, 3 floating point
  int tile_width = 512;
  int tile_height = 512;
  int samples = 1;    // per pixel, interleaved
  core::DataType type = core::DataType::kFloat32;

  std::size_t tile_bytes() const;
  int tiff_compression() const;  // the Compression tag's value
};

// Encodes tiles one at a time; one per thread (it keeps its compressor and scratch buffers).
class TileEncoder {
 public:
  explicit TileEncoder(const TileEncoding& encoding);
  ~TileEncoder();
  TileEncoder(const TileEncoder&) = delete;
  TileEncoder& operator=(const TileEncoder&) = delete;

  // `pixels`: one whole tile (tile_bytes()), padding included. Replaces `out` with the encoded bytes.
  void encode(const std::byte* pixels, std::vector<std::uint8_t>& out);

 private:
  struct Compressors;
  TileEncoding encoding_;
  std::vector<std::uint8_t> predicted_;
  std::unique_ptr<Compressors> compressors_;
};

}  // namespace sco::codec
