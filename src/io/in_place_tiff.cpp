#include "io/in_place_tiff.hpp"

#include <fcntl.h>
#include <gdal_priv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.hpp"
#include "core/ranks.hpp"
#include "io/file_io.hpp"
#include "io/gdal_session.hpp"

namespace sco::io {

using core::ErrorCode;

namespace {

// Little-endian unsigned integer of `n` bytes at `at` in `b`.
std::uint64_t le(const std::vector<std::uint8_t>& b, std::uint64_t at, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | b[at + static_cast<std::uint64_t>(i)];
  return v;
}

int type_size(int type) { return type == 3 ? 2 : type == 4 ? 4 : type == 16 ? 8 : 0; }

struct TileArrays {
  bool big = false;
  InPlaceTiff::Array offsets, counts;
};

// The first IFD's TileOffsets (324) and TileByteCounts (325) in the file's bytes `b` (GDAL's header
// and IFD, little-endian as GDAL writes on this host).
TileArrays find_tile_arrays(const std::vector<std::uint8_t>& b, const std::string& path) {
  auto bad = [&](const char* why) { core::fail(ErrorCode::kInternal, "the TIFF structure GDAL wrote for '{}' is not as expected: {}", path, why); };
  if (b.size() < 16 || b[0] != 'I' || b[1] != 'I') bad("not a little-endian TIFF");
  TileArrays t;
  const std::uint64_t magic = le(b, 2, 2);
  if (magic != 42 && magic != 43) bad("no TIFF magic number");
  t.big = magic == 43;
  const std::uint64_t ifd = t.big ? le(b, 8, 8) : le(b, 4, 4);
  const int count_size = t.big ? 8 : 2, entry_size = t.big ? 20 : 12, inline_size = t.big ? 8 : 4;
  if (ifd + static_cast<std::uint64_t>(count_size) > b.size()) bad("the IFD lies past the end");
  const std::uint64_t entries = le(b, ifd, count_size);
  if (ifd + count_size + entries * entry_size > b.size()) bad("the IFD lies past the end");
  for (std::uint64_t e = 0; e < entries; ++e) {
    const std::uint64_t p = ifd + static_cast<std::uint64_t>(count_size) + e * static_cast<std::uint64_t>(entry_size);
    const auto tag = le(b, p, 2);
    if (tag != 324 && tag != 325) continue;
    InPlaceTiff::Array a;
    a.type = static_cast<int>(le(b, p + 2, 2));
    a.count = le(b, p + 4, t.big ? 8 : 4);
    const std::uint64_t value = p + (t.big ? 12 : 8);
    if (type_size(a.type) == 0) bad("a tile array of an unexpected type");
    a.at = a.count * static_cast<std::uint64_t>(type_size(a.type)) <= static_cast<std::uint64_t>(inline_size) ? value : le(b, value, inline_size);
    if (a.at + a.count * static_cast<std::uint64_t>(type_size(a.type)) > b.size()) bad("a tile array lies past the end");
    (tag == 324 ? t.offsets : t.counts) = a;
  }
  if (t.offsets.count == 0 || t.offsets.count != t.counts.count) bad("no tile arrays");
  return t;
}

}  // namespace

bool InPlaceTiff::suits(const OutputSpec& spec) {
  if (spec.format != OutputFormat::kGTiff || spec.bands > 1) return false;
  for (const auto& o : spec.creation_options) {
    const std::string kv = ascii_upper(o);
    if (kv != "COMPRESS=NONE" && kv != "TILED=YES" && kv.rfind("BIGTIFF=", 0) != 0) return false;
  }
  return true;
}

InPlaceTiff::InPlaceTiff(const OutputSpec& spec, const core::Grid& grid, int block) : spec_(spec), owner_(true) {
  init_gdal();
  check_output_path(spec_.path);
  GDALDriver* gtiff = GetGDALDriverManager()->GetDriverByName("GTiff");
  if (!gtiff) core::fail(ErrorCode::kInternal, "GDAL has no GTiff driver");
  std::string bigtiff = "BIGTIFF=IF_SAFER";
  for (const auto& o : spec_.creation_options) {
    if (ascii_upper(o).rfind("BIGTIFF=", 0) == 0) bigtiff = o;
  }
  const std::string bx = fmt::format("BLOCKXSIZE={}", block), by = fmt::format("BLOCKYSIZE={}", block);
  const char* opts[] = {"TILED=YES", bx.c_str(), by.c_str(), bigtiff.c_str(), "SPARSE_OK=TRUE", nullptr};
  staging_path_ = temp_name(spec_.path, "stage");
  clear_gdal_error();
  GDALDataset* ds = gtiff->Create(staging_path_.c_str(), grid.width, grid.height, 1, static_cast<GDALDataType>(to_gdal_type(spec_.type)),
                                  const_cast<char**>(opts));
  if (!ds) {
    const std::string why = take_gdal_error();
    ::unlink(staging_path_.c_str());
    core::fail(ErrorCode::kIo, "cannot create output '{}': {}", spec_.path, why);
  }
  describe_dataset(ds, grid, spec_);
  ds->GetRasterBand(1)->GetBlockSize(&tile_w_, &tile_h_);
  GDALClose(ds);
  try {
    lay_out(grid);
  } catch (...) {
    if (fd_ >= 0) ::close(fd_);
    ::unlink(staging_path_.c_str());  // the destructor does not run for a constructor that throws
    throw;
  }
}

void InPlaceTiff::lay_out(const core::Grid& grid) {
  if (const std::string why = take_gdal_error(); !why.empty()) core::fail(ErrorCode::kIo, "writing '{}' failed: {}", spec_.path, why);
  fd_ = ::open(staging_path_.c_str(), O_RDWR | O_CLOEXEC);
  struct stat st {};
  if (fd_ < 0 || ::fstat(fd_, &st) != 0) core::fail(ErrorCode::kIo, "cannot reopen '{}': {}", staging_path_, std::strerror(errno));
  std::vector<std::uint8_t> head(static_cast<std::size_t>(st.st_size));
  pread_all(fd_, head.data(), head.size(), 0, staging_path_);
  const TileArrays arrays = find_tile_arrays(head, spec_.path);
  offsets_ = arrays.offsets;
  counts_ = arrays.counts;
  const std::int64_t across = (grid.width + tile_w_ - 1) / tile_w_, down = (grid.height + tile_h_ - 1) / tile_h_;
  tiles_ = across * down;
  if (static_cast<std::uint64_t>(tiles_) != offsets_.count) core::fail(ErrorCode::kInternal, "'{}': {} tiles, GDAL's IFD has {}", spec_.path, tiles_, offsets_.count);
  tile_bytes_ = static_cast<std::uint64_t>(tile_w_) * static_cast<std::uint64_t>(tile_h_) * core::size_of(spec_.type);
  base_ = (head.size() + 4095) / 4096 * 4096;
  const std::uint64_t end = base_ + static_cast<std::uint64_t>(tiles_) * tile_bytes_;
  if (!arrays.big && end > 0xFFFFFFFFull) core::fail(ErrorCode::kInvalidInput, "'{}' needs more than 4 GiB: add --co BIGTIFF=YES", spec_.path);
  if (::ftruncate(fd_, static_cast<off_t>(end)) != 0) write_failed(spec_.path, errno);
}

InPlaceTiff::~InPlaceTiff() {
  if (fd_ >= 0) ::close(fd_);
  if (owner_ && !committed_ && !staging_path_.empty()) ::unlink(staging_path_.c_str());
}

std::vector<std::byte> InPlaceTiff::share() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) core::fail(ErrorCode::kIo, "cannot stat '{}': {}", staging_path_, std::strerror(errno));
  core::ByteWriter w;
  w.put_string(staging_path_);
  w.put<std::uint64_t>(st.st_dev);
  w.put<std::uint64_t>(st.st_ino);
  w.put<std::int32_t>(tile_w_);
  w.put<std::int32_t>(tile_h_);
  w.put<std::int64_t>(tiles_);
  w.put<std::uint64_t>(base_);
  return std::move(w.bytes());
}

std::unique_ptr<InPlaceTiff> InPlaceTiff::join(const OutputSpec& spec, std::span<const std::byte> shared) {
  core::ByteReader r(shared);
  std::unique_ptr<InPlaceTiff> t(new InPlaceTiff(spec));
  t->staging_path_ = r.get_string();
  const auto dev = r.get<std::uint64_t>(), ino = r.get<std::uint64_t>();
  t->tile_w_ = r.get<std::int32_t>();
  t->tile_h_ = r.get<std::int32_t>();
  t->tiles_ = r.get<std::int64_t>();
  t->base_ = r.get<std::uint64_t>();
  t->tile_bytes_ = static_cast<std::uint64_t>(t->tile_w_) * static_cast<std::uint64_t>(t->tile_h_) * core::size_of(spec.type);
  t->fd_ = ::open(t->staging_path_.c_str(), O_WRONLY | O_CLOEXEC);
  struct stat st {};
  if (t->fd_ < 0 || ::fstat(t->fd_, &st) != 0 || st.st_dev != dev || st.st_ino != ino) return nullptr;
  return t;
}

void InPlaceTiff::put(std::int64_t index, const std::byte* pixels) {
  if (index < 0 || index >= tiles_) core::fail(ErrorCode::kInternal, "'{}' has no tile {}", spec_.path, index);
  pwrite_all(fd_, pixels, tile_bytes_, base_ + static_cast<std::uint64_t>(index) * tile_bytes_, spec_.path);
}

void InPlaceTiff::fill_array(const Array& a, std::uint64_t first, std::uint64_t step) {
  const int n = type_size(a.type);
  std::vector<std::uint8_t> bytes(a.count * static_cast<std::uint64_t>(n));
  for (std::uint64_t k = 0; k < a.count; ++k) {
    const std::uint64_t v = first + k * step;
    if (n < 8 && (v >> (8 * n)) != 0) core::fail(ErrorCode::kInternal, "'{}': tile offset {} does not fit its TIFF field", spec_.path, v);
    for (int i = 0; i < n; ++i) bytes[k * static_cast<std::uint64_t>(n) + static_cast<std::uint64_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
  }
  pwrite_all(fd_, bytes.data(), bytes.size(), a.at, spec_.path);
}

void InPlaceTiff::commit() {
  fill_array(offsets_, base_, tile_bytes_);
  fill_array(counts_, tile_bytes_, 0);
  if (::close(fd_) != 0) write_failed(spec_.path, errno);
  fd_ = -1;
  if (std::rename(staging_path_.c_str(), spec_.path.c_str()) != 0) {
    core::fail(ErrorCode::kIo, "cannot rename the finished output to '{}': {}", spec_.path, std::strerror(errno));
  }
  committed_ = true;
}

}  // namespace sco::io
