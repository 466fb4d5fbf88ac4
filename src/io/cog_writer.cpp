#include "io/cog_writer.hpp"

#include <fcntl.h>
#include <gdal_priv.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <thread>

#include "core/error.hpp"
#include "io/file_io.hpp"
#include "io/gdal_session.hpp"

namespace sco::io {

using core::ErrorCode;

// ---- options ----------------------------------------------------------------------------------

namespace {

int parse_int_option(const std::string& key, const std::string& value, int lo, int hi) {
  int v = 0;
  std::size_t used = 0;
  try {
    v = std::stoi(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value.size() || v < lo || v > hi) core::fail(ErrorCode::kInvalidInput, "creation option {}={}: a whole number from {} to {}", key, value, lo, hi);
  return v;
}

// Codecs and resamplings sco writes itself, and those only GDAL's COG driver (libtiff) has.
const std::set<std::string> kGdalCodecs = {"LZW", "LZMA", "JPEG", "WEBP", "LERC", "LERC_DEFLATE", "LERC_ZSTD", "PACKBITS", "JXL"};
const std::set<std::string> kGdalResamplings = {"MODE", "BILINEAR", "CUBIC", "CUBICSPLINE", "LANCZOS", "RMS", "GAUSS"};
const std::set<std::string> kKeys = {"COMPRESS", "LEVEL", "ZSTD_LEVEL", "PREDICTOR", "BLOCKSIZE", "BIGTIFF", "OVERVIEWS", "RESAMPLING",
                                     "OVERVIEW_RESAMPLING", "NUM_THREADS", "QUALITY", "MAX_Z_ERROR", "SPARSE_OK"};

// The codec is in this GDAL's COG driver's option list (libtiff was built with it).
bool gdal_has_codec(const std::string& codec) {
  GDALDriver* cog = GetGDALDriverManager()->GetDriverByName("COG");
  const char* list = cog ? cog->GetMetadataItem(GDAL_DMD_CREATIONOPTIONLIST) : nullptr;
  return list && std::string(list).find("<Value>" + codec + "</Value>") != std::string::npos;
}

}  // namespace

bool native_cog_options(const OutputSpec& spec, CogOptions* out) {
  init_gdal();
  const bool is_float = !core::is_integer(spec.type);
  CogOptions o;
  o.encoding.type = spec.type;
  o.encoding.compression = codec::Compression::kDeflate;
  o.encoding.predictor = is_float ? 3 : 2;
  o.resampling = is_float ? codec::Resampling::kAverage : codec::Resampling::kNearest;
  bool native = true;
  int zstd_level = 9;
  for (const auto& kv : spec.creation_options) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) core::fail(ErrorCode::kInvalidInput, "creation option '{}' is not KEY=VALUE", kv);
    const std::string key = ascii_upper(kv.substr(0, eq)), value = ascii_upper(kv.substr(eq + 1));
    if (!kKeys.count(key)) {
      core::fail(ErrorCode::kInvalidInput, "creation option '{}' is not one sco's COG writer knows (COMPRESS, LEVEL, ZSTD_LEVEL, PREDICTOR, "
                 "BLOCKSIZE, BIGTIFF, OVERVIEWS, RESAMPLING, NUM_THREADS, QUALITY, MAX_Z_ERROR)", kv.substr(0, eq));
    }
    if (key == "COMPRESS") {
      if (value == "NONE") o.encoding.compression = codec::Compression::kNone;
      else if (value == "DEFLATE") o.encoding.compression = codec::Compression::kDeflate;
      else if (value == "ZSTD") o.encoding.compression = codec::Compression::kZstd;
      else if (kGdalCodecs.count(value) && gdal_has_codec(value)) native = false;
      else core::fail(ErrorCode::kInvalidInput, "creation option COMPRESS={}: no such codec here (NONE, DEFLATE, ZSTD, and through GDAL LZW, LZMA, JPEG, WEBP, LERC, PACKBITS where libtiff has them)", value);
    } else if (key == "LEVEL") {
      o.encoding.level = parse_int_option(key, value, 1, 12);
    } else if (key == "ZSTD_LEVEL") {
      zstd_level = parse_int_option(key, value, 1, 22);
    } else if (key == "PREDICTOR") {
      if (value == "YES" || value == "TRUE" || value == "ON") o.encoding.predictor = is_float ? 3 : 2;
      else if (value == "NO" || value == "FALSE" || value == "OFF" || value == "1") o.encoding.predictor = 1;
      else if (value == "2" || value == "STANDARD") o.encoding.predictor = 2;
      else if ((value == "3" || value == "FLOATING_POINT") && is_float) o.encoding.predictor = 3;
      else core::fail(ErrorCode::kInvalidInput, "creation option PREDICTOR={}: YES, NO, STANDARD (2), or FLOATING_POINT (3, for floats)", value);
    } else if (key == "BLOCKSIZE") {
      const int b = parse_int_option(key, value, 16, 4096);
      if (b % 16 != 0) core::fail(ErrorCode::kInvalidInput, "creation option BLOCKSIZE={}: a multiple of 16", value);
      o.encoding.tile_width = o.encoding.tile_height = b;
    } else if (key == "BIGTIFF") {
      if (value == "YES") o.bigtiff = BigTiff::kYes;
      else if (value == "NO") o.bigtiff = BigTiff::kNo;
      else if (value == "IF_NEEDED" || value == "IF_SAFER") o.bigtiff = BigTiff::kIfNeeded;
      else core::fail(ErrorCode::kInvalidInput, "creation option BIGTIFF={}: YES, NO, IF_NEEDED or IF_SAFER", value);
    } else if (key == "OVERVIEWS") {
      if (value == "NONE") o.overviews = false;
      else if (value == "AUTO" || value == "IGNORE_EXISTING" || value == "FORCE_USE_EXISTING") o.overviews = true;
      else core::fail(ErrorCode::kInvalidInput, "creation option OVERVIEWS={}: AUTO or NONE", value);
    } else if (key == "RESAMPLING" || key == "OVERVIEW_RESAMPLING") {
      if (value == "AVERAGE") o.resampling = codec::Resampling::kAverage;
      else if (value == "NEAREST") o.resampling = codec::Resampling::kNearest;
      else if (kGdalResamplings.count(value)) native = false;
      else core::fail(ErrorCode::kInvalidInput, "creation option {}={}: NEAREST, AVERAGE, MODE, BILINEAR, CUBIC, CUBICSPLINE, LANCZOS, RMS or GAUSS", key, value);
    }
    // NUM_THREADS: sco's own threads encode; QUALITY, MAX_Z_ERROR, SPARSE_OK: for GDAL's codecs.
  }
  if (o.encoding.compression == codec::Compression::kZstd) o.encoding.level = zstd_level;
  if (o.encoding.compression == codec::Compression::kNone) o.encoding.predictor = 1;
  if (out) *out = o;
  return native;
}

// ---- files ------------------------------------------------------------------------------------

namespace {

// Appends `from`'s bytes [0, size) to `to` at `offset`: in the kernel where it can.
void copy_file(int from, int to, std::uint64_t size, std::uint64_t offset, const std::string& path) {
  loff_t in = 0, out = static_cast<loff_t>(offset);
  while (size > 0) {
    const ssize_t n = ::copy_file_range(from, &in, to, &out, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n < 0 && errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP) write_failed(path, errno);
      break;  // no in-kernel copy here: by hand
    }
    size -= static_cast<std::uint64_t>(n);
  }
  std::vector<std::uint8_t> buf(std::min<std::uint64_t>(size, 8u << 20));
  while (size > 0) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(size, buf.size()));
    pread_all(from, buf.data(), n, static_cast<std::uint64_t>(in), path);
    pwrite_all(to, buf.data(), n, static_cast<std::uint64_t>(out), path);
    in += static_cast<loff_t>(n);
    out += static_cast<loff_t>(n);
    size -= n;
  }
}

int open_new(const std::string& path, bool read_back) {
  const int fd = ::open(path.c_str(), (read_back ? O_RDWR : O_WRONLY) | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) core::fail(ErrorCode::kIo, "cannot create '{}': {}", path, std::strerror(errno));
  return fd;
}

void close_and_remove(int& fd, const std::string& path) {
  if (fd >= 0) ::close(fd);
  fd = -1;
  if (!path.empty()) ::unlink(path.c_str());
}

}  // namespace

// ---- TIFF structure ---------------------------------------------------------------------------

namespace {

enum : std::uint16_t { kShort = 3, kLong = 4, kLong8 = 16 };

struct Entry {
  std::uint16_t tag = 0;
  std::uint16_t type = 0;
  std::uint64_t count = 0;
  std::vector<std::uint8_t> bytes;  // the values, little-endian
};

int type_size(std::uint16_t type) {
  switch (type) {
    case 1: case 2: case 6: case 7: return 1;
    case 3: case 8: return 2;
    case 4: case 9: case 11: case 13: return 4;
    default: return 8;  // 5, 10, 12 (rationals, double), 16-18 (8-byte integers)
  }
}

template <typename T>
void put(std::vector<std::uint8_t>& b, T v) {
  const std::size_t n = b.size();
  b.resize(n + sizeof(T));
  std::memcpy(b.data() + n, &v, sizeof(T));  // little-endian host (x86-64, arm64)
}

Entry short_entry(std::uint16_t tag, std::vector<std::uint16_t> values) {
  Entry e{tag, kShort, values.size(), {}};
  for (auto v : values) put(e.bytes, v);
  return e;
}

Entry long_entry(std::uint16_t tag, std::uint32_t value) {
  Entry e{tag, kLong, 1, {}};
  put(e.bytes, value);
  return e;
}

// The tags GDAL writes for a grid's georeferencing, metadata and nodata, read from a one-pixel
// GeoTIFF it makes in memory with the same grid, type and metadata.
std::vector<Entry> georeferencing_entries(const OutputSpec& spec, const core::Grid& grid) {
  static std::atomic<int> counter{0};
  const std::string path = fmt::format("/vsimem/sco-cog-tags-{}-{}.tif", ::getpid(), counter++);
  GDALDriver* gtiff = GetGDALDriverManager()->GetDriverByName("GTiff");
  if (!gtiff) core::fail(ErrorCode::kInternal, "GDAL has no GTiff driver");
  {
    GDALDataset* ds = gtiff->Create(path.c_str(), 1, 1, 1, static_cast<GDALDataType>(to_gdal_type(spec.type)), nullptr);
    if (!ds) core::fail(ErrorCode::kIo, "cannot describe the grid of '{}': {}", spec.path, take_gdal_error());
    describe_dataset(ds, grid, spec);
    GDALClose(ds);
  }
  vsi_l_offset size = 0;
  const GByte* f = VSIGetMemFileBuffer(path.c_str(), &size, FALSE);
  std::vector<Entry> out;
  auto u16 = [&](std::size_t at) { std::uint16_t v; std::memcpy(&v, f + at, 2); return v; };
  auto u32 = [&](std::size_t at) { std::uint32_t v; std::memcpy(&v, f + at, 4); return v; };
  if (f && size >= 8 && f[0] == 'I' && f[1] == 'I' && u16(2) == 42) {
    const std::size_t ifd = u32(4);
    const std::size_t n = ifd + 2 <= size ? u16(ifd) : 0;
    for (std::size_t i = 0; i < n && ifd + 2 + 12 * (i + 1) <= size; ++i) {
      const std::size_t at = ifd + 2 + 12 * i;
      Entry e{u16(at), u16(at + 2), u32(at + 4), {}};
      if (e.tag < 33550) continue;  // GeoTIFF's and GDAL's private tags only
      const std::size_t len = static_cast<std::size_t>(e.count) * type_size(e.type);
      const std::size_t from = len <= 4 ? at + 8 : u32(at + 8);
      if (from + len > size) break;
      e.bytes.assign(f + from, f + from + len);
      out.push_back(std::move(e));
    }
  }
  VSIUnlink(path.c_str());
  return out;
}

// One IFD: its entries in tag order; the tile offsets and byte counts filled in when laid out.
struct Ifd {
  std::vector<Entry> entries;
  std::size_t offsets_entry = 0, counts_entry = 0;

  std::uint64_t size(bool big) const {
    std::uint64_t s = big ? 8 + 20 * entries.size() + 8 : 2 + 12 * entries.size() + 4;
    for (const auto& e : entries) {
      if (e.bytes.size() > (big ? 8u : 4u)) s += (e.bytes.size() + 1) & ~std::size_t{1};
    }
    return s;
  }

  void set_tile(std::size_t i, std::uint64_t offset, std::uint32_t size, bool big) {
    std::memcpy(entries[offsets_entry].bytes.data() + (big ? 8 : 4) * i, &offset, big ? 8 : 4);  // little-endian: low bytes
    std::memcpy(entries[counts_entry].bytes.data() + 4 * i, &size, 4);
  }

  // Serialises at file offset `at` into `out` (which ends at `at`), chained to `next` (0: last).
  void write(bool big, std::uint64_t at, std::uint64_t next, std::vector<std::uint8_t>& out) const {
    std::uint64_t extra = at + (big ? 8 + 20 * entries.size() + 8 : 2 + 12 * entries.size() + 4);
    std::vector<std::uint8_t> tail;
    big ? put<std::uint64_t>(out, entries.size()) : put<std::uint16_t>(out, static_cast<std::uint16_t>(entries.size()));
    for (const auto& e : entries) {
      put(out, e.tag);
      put(out, e.type);
      big ? put<std::uint64_t>(out, e.count) : put<std::uint32_t>(out, static_cast<std::uint32_t>(e.count));
      const std::size_t inline_size = big ? 8 : 4;
      if (e.bytes.size() <= inline_size) {
        out.insert(out.end(), e.bytes.begin(), e.bytes.end());
        out.insert(out.end(), inline_size - e.bytes.size(), 0);
      } else {
        big ? put<std::uint64_t>(out, extra + tail.size()) : put<std::uint32_t>(out, static_cast<std::uint32_t>(extra + tail.size()));
        tail.insert(tail.end(), e.bytes.begin(), e.bytes.end());
        if (tail.size() % 2) tail.push_back(0);
      }
    }
    big ? put<std::uint64_t>(out, next) : put<std::uint32_t>(out, static_cast<std::uint32_t>(next));
    out.insert(out.end(), tail.begin(), tail.end());
  }
};

Ifd make_ifd(const CogOptions& o, int width, int height, std::int64_t tiles, bool overview, const std::vector<Entry>& geo, bool big) {
  const codec::TileEncoding& enc = o.encoding;
  const int samples = enc.samples;
  const auto bits = static_cast<std::uint16_t>(8 * core::size_of(enc.type));
  const std::uint16_t format = core::is_integer(enc.type) ? (enc.type == core::DataType::kByte || enc.type == core::DataType::kUInt16 ||
                                                                    enc.type == core::DataType::kUInt32 ? 1 : 2) : 3;
  Ifd ifd;
  auto& es = ifd.entries;
  if (overview) es.push_back(long_entry(254, 1));
  es.push_back(long_entry(256, static_cast<std::uint32_t>(width)));
  es.push_back(long_entry(257, static_cast<std::uint32_t>(height)));
  es.push_back(short_entry(258, std::vector<std::uint16_t>(samples, bits)));
  es.push_back(short_entry(259, {static_cast<std::uint16_t>(enc.tiff_compression())}));
  es.push_back(short_entry(262, {1}));
  es.push_back(short_entry(277, {static_cast<std::uint16_t>(samples)}));
  es.push_back(short_entry(284, {1}));
  if (enc.predictor != 1) es.push_back(short_entry(317, {static_cast<std::uint16_t>(enc.predictor)}));
  es.push_back(long_entry(322, static_cast<std::uint32_t>(enc.tile_width)));
  es.push_back(long_entry(323, static_cast<std::uint32_t>(enc.tile_height)));
  Entry offsets{324, big ? kLong8 : kLong, static_cast<std::uint64_t>(tiles), {}};
  offsets.bytes.resize(static_cast<std::size_t>(tiles) * (big ? 8 : 4));
  Entry counts{325, kLong, static_cast<std::uint64_t>(tiles), {}};
  counts.bytes.resize(static_cast<std::size_t>(tiles) * 4);
  es.push_back(std::move(offsets));
  es.push_back(std::move(counts));
  if (samples > 1) es.push_back(short_entry(338, std::vector<std::uint16_t>(samples - 1, 0)));
  es.push_back(short_entry(339, std::vector<std::uint16_t>(samples, format)));
  for (const auto& g : geo) {
    if (!overview || g.tag == 42113) es.push_back(g);  // overviews carry the nodata only
  }
  std::stable_sort(es.begin(), es.end(), [](const Entry& a, const Entry& b) { return a.tag < b.tag; });
  for (std::size_t i = 0; i < es.size(); ++i) {
    if (es[i].tag == 324) ifd.offsets_entry = i;
    if (es[i].tag == 325) ifd.counts_entry = i;
  }
  return ifd;
}

// GDAL's structural metadata, right after the header (GDAL's COG driver documentation, "Header ghost area").
std::string ghost_area() {
  const std::string body =
      "LAYOUT=IFDS_BEFORE_DATA\nBLOCK_ORDER=ROW_MAJOR\nBLOCK_LEADER=SIZE_AS_UINT4\nBLOCK_TRAILER=LAST_4_BYTES_REPEATED\n"
      "KNOWN_INCOMPATIBLE_EDITION=NO\n ";
  return fmt::format("GDAL_STRUCTURAL_METADATA_SIZE={:06d} bytes\n", body.size()) + body;
}

// The header, the ghost area and the IFDs, chained.
std::vector<std::uint8_t> header_and_ifds(const std::string& ghost, const std::vector<Ifd>& ifds, bool big) {
  std::vector<std::uint8_t> head = {'I', 'I'};
  if (big) {
    put<std::uint16_t>(head, 43);
    put<std::uint16_t>(head, 8);
    put<std::uint16_t>(head, 0);
  } else {
    put<std::uint16_t>(head, 42);
  }
  const std::size_t first_ifd_slot = head.size();
  big ? put<std::uint64_t>(head, 0) : put<std::uint32_t>(head, 0);
  head.insert(head.end(), ghost.begin(), ghost.end());
  if (head.size() % 2) head.push_back(0);
  const std::uint64_t first_ifd = head.size();
  std::memcpy(head.data() + first_ifd_slot, &first_ifd, big ? 8 : 4);  // little-endian: the low bytes first
  for (std::size_t l = 0; l < ifds.size(); ++l) {
    const std::uint64_t here = head.size();
    const std::uint64_t next = l + 1 < ifds.size() ? here + ifds[l].size(big) : 0;
    ifds[l].write(big, here, next, head);
  }
  return head;
}

}  // namespace

// ---- the writer -------------------------------------------------------------------------------

CogWriter::CogWriter(OutputSpec spec, const core::Grid& grid, const CogOptions& options)
    : spec_(std::move(spec)), grid_(grid), options_(options) {
  init_gdal();
  check_output_path(spec_.path);
  options_.encoding.type = spec_.type;
  if (options_.overviews) spec_.metadata.emplace_back("OVERVIEW_RESAMPLING", codec::resampling_name(options_.resampling));
  codec::PyramidShape shape;
  shape.width = grid.width;
  shape.height = grid.height;
  shape.tile = options_.encoding.tile_width;
  shape.samples = options_.encoding.samples;
  shape.type = spec_.type;
  shape.has_nodata = true;
  shape.nodata = spec_.nodata;
  shape.resampling = options_.resampling;
  shape.levels = options_.overviews ? -1 : 0;
  pyramid_ = std::make_unique<codec::OverviewPyramid>(shape, [this](int level, std::int64_t index, std::vector<std::byte> pixels) {
    std::lock_guard lock(waiting_mutex_);
    waiting_.push_back({level, index, std::move(pixels)});
  });
  for (int l = 0; l <= pyramid_->levels(); ++l) stored_.emplace_back(static_cast<std::size_t>(pyramid_->tiles(l)));
  full_path_ = temp_name(spec_.path, "full");
  full_fd_ = open_new(full_path_, true);
  overview_path_ = temp_name(spec_.path, "ovr");
  overview_fd_ = open_new(overview_path_, true);
}

CogWriter::~CogWriter() {
  close_and_remove(full_fd_, full_path_);
  close_and_remove(overview_fd_, overview_path_);
  if (!committed_ && !final_tmp_path_.empty()) ::unlink(final_tmp_path_.c_str());
}

void CogWriter::put_full(std::int64_t index, const std::vector<std::uint8_t>& encoded, const std::byte* pixels) {
  // Leader (the size), the tile, trailer (its last 4 bytes): as the ghost area announces.
  std::uint8_t leader[4], trailer[4] = {0, 0, 0, 0};
  const auto size = static_cast<std::uint32_t>(encoded.size());
  std::memcpy(leader, &size, 4);
  if (encoded.size() >= 4) std::memcpy(trailer, encoded.data() + encoded.size() - 4, 4);
  write_all(full_fd_, leader, 4, spec_.path);
  write_all(full_fd_, encoded.data(), encoded.size(), spec_.path);
  write_all(full_fd_, trailer, 4, spec_.path);
  stored_[0][static_cast<std::size_t>(index)] = {full_end_ + 4, size};
  full_end_ += 8 + encoded.size();
  pyramid_->add_full_tile(index, pixels);
}

bool CogWriter::encode_waiting(codec::TileEncoder& encoder, std::vector<std::uint8_t>& scratch) {
  if (pyramid_->bands_waiting()) pyramid_->advance(false);  // overview rows, outside the pipeline's lock
  Waiting w;
  {
    std::lock_guard lock(waiting_mutex_);
    if (waiting_.empty()) return false;
    w = std::move(waiting_.front());
    waiting_.pop_front();
  }
  encoder.encode(w.pixels.data(), scratch);
  const std::uint64_t at = overview_end_.fetch_add(scratch.size());
  pwrite_all(overview_fd_, scratch.data(), scratch.size(), at, spec_.path);
  stored_[static_cast<std::size_t>(w.level)][static_cast<std::size_t>(w.index)] = {at, static_cast<std::uint32_t>(scratch.size())};
  return true;
}

void CogWriter::commit(int threads, const core::CancelToken* cancel) {
  std::exception_ptr error;
  std::mutex error_mutex;
  auto drain = [&] {
    try {
      codec::TileEncoder encoder(options_.encoding);
      std::vector<std::uint8_t> scratch;
      while (!core::cancelled(cancel) && encode_waiting(encoder, scratch)) {
      }
    } catch (...) {
      std::lock_guard lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  };
  pyramid_->advance(true);
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(drain);
  drain();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  core::throw_if_cancelled(cancel);
  for (const auto& level : stored_) {
    for (const auto& s : level) {
      if (s.size == 0) core::fail(ErrorCode::kInternal, "'{}': a tile was never written", spec_.path);
    }
  }
  write_layout();
  if (std::rename(final_tmp_path_.c_str(), spec_.path.c_str()) != 0) {
    core::fail(ErrorCode::kIo, "cannot rename the finished output to '{}': {}", spec_.path, std::strerror(errno));
  }
  committed_ = true;
}

void CogWriter::write_layout() {
  const std::vector<Entry> geo = georeferencing_entries(spec_, grid_);
  const std::size_t levels = stored_.size();
  const std::string ghost = ghost_area();
  std::uint64_t data_bytes = full_end_;
  for (std::size_t l = 1; l < levels; ++l) {
    for (const auto& s : stored_[l]) data_bytes += 8 + s.size;
  }
  auto build = [&](bool big, std::vector<Ifd>& ifds) {
    ifds.clear();
    std::uint64_t end = (big ? 16 : 8) + ghost.size();
    end += end % 2;
    for (std::size_t l = 0; l < levels; ++l) {
      const auto [w, h] = pyramid_->size(static_cast<int>(l));
      ifds.push_back(make_ifd(options_, w, h, pyramid_->tiles(static_cast<int>(l)), l > 0, geo, big));
      end += ifds.back().size(big);
    }
    return end;
  };
  std::vector<Ifd> ifds;
  bool big = options_.bigtiff == BigTiff::kYes;
  std::uint64_t header_end = build(big, ifds);
  if (!big && header_end + data_bytes > 0xFFFFFFFFull) {
    if (options_.bigtiff == BigTiff::kNo) core::fail(ErrorCode::kInvalidInput, "'{}' needs more than 4 GiB: BIGTIFF=NO cannot hold it", spec_.path);
    big = true;
    header_end = build(big, ifds);
  }
  // Tile positions: the overviews from the smallest up, then the full resolution.
  std::uint64_t at = header_end;
  for (std::size_t l = levels; l-- > 1;) {
    for (std::size_t i = 0; i < stored_[l].size(); ++i) {
      at += 4;
      ifds[l].set_tile(i, at, stored_[l][i].size, big);
      at += stored_[l][i].size + 4;
    }
  }
  // The full resolution, spilled as it streamed, is copied after them (in the kernel where it can:
  // inserting blocks at the front of the spill instead, where ext4 can, makes it write the whole file
  // back to disk first, slower).
  const std::uint64_t full_start = at;
  for (std::size_t i = 0; i < stored_[0].size(); ++i) ifds[0].set_tile(i, full_start + stored_[0][i].offset, stored_[0][i].size, big);
  std::vector<std::uint8_t> head = header_and_ifds(ghost, ifds, big);
  const std::size_t head_size = head.size();
  final_tmp_path_ = temp_name(spec_.path, "cog");
  int fd = open_new(final_tmp_path_, false);
  try {
    append_overviews(head, head_size, fd);
    copy_file(full_fd_, fd, full_end_, full_start, spec_.path);
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0) write_failed(spec_.path, errno);
}

// Writes the header (`head_size` bytes of `head`) and after it the overviews' tiles (smallest level
// first, each with its leader and trailer) at the start of `fd`.
void CogWriter::append_overviews(std::vector<std::uint8_t>& head, std::size_t head_size, int fd) {
  std::vector<std::uint8_t> tile;
  std::vector<std::uint8_t>& batch = head;
  batch.resize(head_size);
  std::uint64_t written = 0;
  for (std::size_t l = stored_.size(); l-- > 1;) {
    for (const auto& s : stored_[l]) {
      tile.resize(s.size);
      pread_all(overview_fd_, tile.data(), s.size, s.offset, overview_path_);
      put<std::uint32_t>(batch, s.size);
      batch.insert(batch.end(), tile.begin(), tile.end());
      batch.insert(batch.end(), tile.end() - std::min<std::size_t>(4, tile.size()), tile.end());
      if (batch.size() >= (8u << 20)) {
        pwrite_all(fd, batch.data(), batch.size(), written, spec_.path);
        written += batch.size();
        batch.clear();
      }
    }
  }
  pwrite_all(fd, batch.data(), batch.size(), written, spec_.path);
}

}  // namespace sco::io
