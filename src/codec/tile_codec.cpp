#include "codec/tile_codec.hpp"

#include <libdeflate.h>
#include <zstd.h>

#include <cstring>

#include "codec/scanline_deflate.hpp"
#include "codec/tiff_predictor.hpp"
#include "core/error.hpp"

namespace sco::codec {

std::size_t TileEncoding::tile_bytes() const {
  return static_cast<std::size_t>(tile_width) * tile_height * samples * core::size_of(type);
}

int TileEncoding::tiff_compression() const {
  switch (compression) {
    case Compression::kNone: return 1;
    case Compression::kDeflate: return 8;
    case Compression::kZstd: return 50000;
  }
  return 1;
}

struct TileEncoder::Compressors {
  libdeflate_compressor* deflate = nullptr;
  ZSTD_CCtx* zstd = nullptr;
  ~Compressors() {
    if (deflate) libdeflate_free_compressor(deflate);
    if (zstd) ZSTD_freeCCtx(zstd);
  }
};

TileEncoder::TileEncoder(const TileEncoding& encoding) : encoding_(encoding), compressors_(std::make_unique<Compressors>()) {
  if (encoding_.compression == Compression::kDeflate && encoding_.level > 0) {
    compressors_->deflate = libdeflate_alloc_compressor(encoding_.level);
    if (!compressors_->deflate) core::fail(core::ErrorCode::kInvalidInput, "DEFLATE level {} (levels: 1-12)", encoding_.level);
  }
  if (encoding_.compression == Compression::kZstd) {
    compressors_->zstd = ZSTD_createCCtx();
    if (!compressors_->zstd) core::fail(core::ErrorCode::kInternal, "cannot allocate a ZSTD context");
  }
}

TileEncoder::~TileEncoder() = default;

void TileEncoder::encode(const std::byte* pixels, std::vector<std::uint8_t>& out) {
  const std::size_t n = encoding_.tile_bytes();
  const auto* raw = reinterpret_cast<const std::uint8_t*>(pixels);
  out.clear();
  if (encoding_.compression == Compression::kNone) {
    out.assign(raw, raw + n);
    return;
  }
  const RowShape shape{encoding_.tile_width, encoding_.tile_height, encoding_.samples, static_cast<int>(core::size_of(encoding_.type))};
  const std::uint8_t* input = raw;
  if (encoding_.predictor != 1) {
    predicted_.resize(n);
    if (encoding_.predictor == 2) {
      horizontal_difference(raw, predicted_.data(), shape);
    } else {
      floating_point_difference(raw, predicted_.data(), shape);
    }
    input = predicted_.data();
  }
  if (encoding_.compression == Compression::kZstd) {
    out.resize(ZSTD_compressBound(n));
    const std::size_t len = ZSTD_compressCCtx(compressors_->zstd, out.data(), out.size(), input, n, encoding_.level);
    if (ZSTD_isError(len)) core::fail(core::ErrorCode::kInternal, "ZSTD: {}", ZSTD_getErrorName(len));
    out.resize(len);
  } else if (compressors_->deflate) {
    out.resize(libdeflate_zlib_compress_bound(compressors_->deflate, n));
    out.resize(libdeflate_zlib_compress(compressors_->deflate, input, n, out.data(), out.size()));
  } else {
    zlib_compress_scanlines(input, n, shape.row_bytes(), out);
  }
}

}  // namespace sco::codec
