#include "io/mapped_blocks.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <gdal_priv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

namespace sco::io {

// One read-only mapping of a whole file, shared by every reader of the process while any holds it.
class MappedFile {
 public:
  MappedFile(const std::byte* data, std::size_t size) : data_(data), size_(size) {}
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() { ::munmap(const_cast<std::byte*>(data_), size_); }
  const std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }

  // The mapping of `path`, made on first use; nullptr when the file cannot be mapped. A file
  // replaced or rewritten since (another inode, size or modification time) gets a new mapping.
  static std::shared_ptr<const MappedFile> of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) return nullptr;
    using Key = std::tuple<dev_t, ino_t, off_t, std::int64_t, long>;
    const Key key{st.st_dev, st.st_ino, st.st_size, static_cast<std::int64_t>(st.st_mtim.tv_sec), st.st_mtim.tv_nsec};
    static std::mutex mutex;
    static std::map<Key, std::weak_ptr<const MappedFile>> live;
    std::lock_guard lock(mutex);
    if (auto found = live[key].lock()) return found;
    std::erase_if(live, [](const auto& entry) { return entry.second.expired(); });
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nullptr;
    void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) return nullptr;
    auto file = std::make_shared<const MappedFile>(static_cast<const std::byte*>(p), static_cast<std::size_t>(st.st_size));
    live[key] = file;
    return file;
  }

 private:
  const std::byte* data_;
  std::size_t size_;
};

namespace {

// Seconds to read `bytes` of `fd` from offset 0 by pread into `buf`, and through a fresh mapping,
// touching one word per cache line either way (what the statistics do next with the values).
std::pair<double, double> time_copy_and_map(int fd, std::size_t bytes, std::vector<std::uint64_t>& buf) {
  using Clock = std::chrono::steady_clock;
  volatile std::uint64_t sink = 0;
  auto sum = [&](const std::uint64_t* p) {
    std::uint64_t s = 0;
    for (std::size_t i = 0; i < bytes / 8; i += 8) s += p[i];
    sink = sink + s;
  };
  auto t0 = Clock::now();
  std::size_t done = 0;
  while (done < bytes) {
    const ssize_t r = ::pread(fd, reinterpret_cast<char*>(buf.data()) + done, bytes - done, static_cast<off_t>(done));
    if (r <= 0) return {0.0, 1.0};  // cannot read: no mapping either
    done += static_cast<std::size_t>(r);
  }
  sum(buf.data());
  const double copy = std::chrono::duration<double>(Clock::now() - t0).count();
  t0 = Clock::now();
  void* p = ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return {0.0, 1.0};
  sum(static_cast<const std::uint64_t*>(p));
  ::munmap(p, bytes);
  const double map = std::chrono::duration<double>(Clock::now() - t0).count();
  return {copy, map};
}

// Whether mapping beat copying on `path`'s first 4 MiB; nothing when the file is too small (under
// 1 MiB) or cannot be read to tell.
std::optional<bool> probe_mapping(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::size_t bytes = 0;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    bytes = std::min<std::size_t>(static_cast<std::size_t>(st.st_size), std::size_t{4} << 20) / page * page;
  }
  std::optional<bool> pays;
  if (bytes >= (std::size_t{1} << 20)) {
    std::vector<std::uint64_t> buf(bytes / 8);
    time_copy_and_map(fd, bytes, buf);  // both warm: the pages in the page cache, the buffer touched
    double copy = 1e9, map = 1e9;
    for (int i = 0; i < 3; ++i) {
      const auto [c, m] = time_copy_and_map(fd, bytes, buf);
      copy = std::min(copy, c);
      map = std::min(map, m);
    }
    pays = map < copy;
  }
  ::close(fd);
  return pays;
}

}  // namespace

bool mapping_pays(const std::string& path) {
  if (const char* off = std::getenv("SCO_NO_MMAP"); off && *off && std::strcmp(off, "0") != 0) return false;
  if (const char* set = std::getenv("SCO_MMAP"); set && *set) return std::strcmp(set, "0") != 0;
  // Decided once per process, on the first file large enough to tell; smaller files are mapped
  // meanwhile (either way costs them little).
  static std::mutex mutex;
  static std::optional<bool> decided;
  std::lock_guard lock(mutex);
  if (!decided) decided = probe_mapping(path);
  return decided.value_or(true);
}

MappedBand::~MappedBand() = default;

std::unique_ptr<MappedBand> MappedBand::open(const RasterDataset& dataset, int band) {
  if constexpr (std::endian::native != std::endian::little) return nullptr;
  GDALDataset* ds = dataset.handle();
  if (!ds || !ds->GetDriver() || std::strcmp(ds->GetDriver()->GetDescription(), "GTiff") != 0) return nullptr;
  const std::string& path = dataset.path();
  if (path.rfind("/vsi", 0) == 0) return nullptr;
  const char* compression = ds->GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE");
  if (compression && std::strcmp(compression, "NONE") != 0) return nullptr;
  const char* interleave = ds->GetMetadataItem("INTERLEAVE", "IMAGE_STRUCTURE");
  if (ds->GetRasterCount() > 1 && !(interleave && std::strcmp(interleave, "BAND") == 0)) return nullptr;
  GDALRasterBand* b = dataset.band_handle(band);
  if (b->GetMetadataItem("NBITS", "IMAGE_STRUCTURE")) return nullptr;
  const BandInfo info = dataset.band(band);
  auto file = MappedFile::of(path);
  // The TIFF header's byte order: "II" is little-endian.
  if (!file || file->size() < 8 || std::memcmp(file->data(), "II", 2) != 0) return nullptr;
  std::unique_ptr<MappedBand> m(new MappedBand());
  m->file_ = std::move(file);
  m->band_ = b;
  m->block_width_ = info.block_width;
  m->block_height_ = info.block_height;
  m->height_ = ds->GetRasterYSize();
  m->blocks_x_ = (ds->GetRasterXSize() + info.block_width - 1) / info.block_width;
  m->blocks_y_ = (m->height_ + info.block_height - 1) / info.block_height;
  m->elem_ = core::size_of(info.type);
  m->offsets_.assign(static_cast<std::size_t>(m->blocks_x_) * static_cast<std::size_t>(m->blocks_y_), -1);
  return m;
}

std::int64_t MappedBand::offset_of(int bx, int by) {
  std::int64_t& off = offsets_[static_cast<std::size_t>(by) * static_cast<std::size_t>(blocks_x_) + static_cast<std::size_t>(bx)];
  if (off == -1) {
    off = -2;
    const std::string offset_key = fmt::format("BLOCK_OFFSET_{}_{}", bx, by);
    const std::string size_key = fmt::format("BLOCK_SIZE_{}_{}", bx, by);
    const char* o = band_->GetMetadataItem(offset_key.c_str(), "TIFF");
    const char* s = band_->GetMetadataItem(size_key.c_str(), "TIFF");
    if (o && s) {
      const long long at = std::strtoll(o, nullptr, 10), bytes = std::strtoll(s, nullptr, 10);
      // Strips at the bottom may hold only the rows that exist; tiles are stored whole.
      const int rows = std::min(block_height_, height_ - by * block_height_);
      const long long need = static_cast<long long>(rows) * block_width_ * static_cast<long long>(elem_);
      if (at > 0 && bytes >= need && static_cast<unsigned long long>(at) + static_cast<unsigned long long>(need) <= file_->size()) {
        off = at;
      }
    }
  }
  return off;
}

const std::byte* MappedBand::block(int bx, int by) {
  if (bx < 0 || by < 0 || bx >= blocks_x_ || by >= blocks_y_) return nullptr;
  const std::int64_t off = offset_of(bx, by);
  return off >= 0 ? file_->data() + off : nullptr;
}

void MappedBand::release_above(int y) {
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t block_bytes = static_cast<std::size_t>(block_width_) * static_cast<std::size_t>(block_height_) * elem_;
  for (; released_rows_ < blocks_y_ && (released_rows_ + 1) * block_height_ <= y; ++released_rows_) {
    for (int bx = 0; bx < blocks_x_; ++bx) {
      const std::int64_t off = offset_of(bx, released_rows_);
      if (off < 0) continue;
      // Whole pages inside the block only: a neighbour's page is left mapped.
      const auto begin = reinterpret_cast<std::uintptr_t>(file_->data() + off);
      const std::uintptr_t first = (begin + page - 1) / page * page;
      const std::uintptr_t last = (begin + std::min<std::size_t>(block_bytes, file_->size() - static_cast<std::size_t>(off))) / page * page;
      if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
    }
  }
}

}  // namespace sco::io
