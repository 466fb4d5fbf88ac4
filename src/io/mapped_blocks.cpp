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
#include <new>
#include <mutex>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sco::io {

namespace {
// What identifies a file's contents for sharing: a file replaced or rewritten since (another inode,
// size or modification time) is another file.
using FileKey = std::tuple<dev_t, ino_t, off_t, std::int64_t, long>;
std::optional<FileKey> key_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) return std::nullopt;
  return FileKey{st.st_dev, st.st_ino, st.st_size, static_cast<std::int64_t>(st.st_mtim.tv_sec), st.st_mtim.tv_nsec};
}

// The one object of type T that the process holds for the file at `path` while anyone holds it,
// made on first use by make(fd, size), which owns the open descriptor; nullptr when the file cannot
// be opened or made into a T.
template <typename T, typename Make>
std::shared_ptr<T> one_per_file(const std::string& path, Make make) {
  const auto key = key_of(path);
  if (!key) return nullptr;
  static std::mutex mutex;
  static std::map<FileKey, std::weak_ptr<T>> live;
  std::lock_guard lock(mutex);
  if (auto found = live[*key].lock()) return found;
  std::erase_if(live, [](const auto& entry) { return entry.second.expired(); });
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  std::shared_ptr<T> file = make(fd, static_cast<std::size_t>(std::get<2>(*key)));
  if (file) live[*key] = file;
  return file;
}
}  // namespace

// One read-only mapping of a whole file, shared by every reader of the process while any holds it.
class MappedFile {
 public:
  MappedFile(const std::byte* data, std::size_t size) : data_(data), size_(size) {}
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() { ::munmap(const_cast<std::byte*>(data_), size_); }
  const std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }

  // The mapping of `path`, made on first use; nullptr when the file cannot be mapped.
  static std::shared_ptr<const MappedFile> of(const std::string& path) {
    return one_per_file<const MappedFile>(path, [](int fd, std::size_t size) -> std::shared_ptr<const MappedFile> {
      void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
      ::close(fd);
      if (p == MAP_FAILED) return nullptr;
      return std::make_shared<const MappedFile>(static_cast<const std::byte*>(p), size);
    });
  }

 private:
  const std::byte* data_;
  std::size_t size_;
};

// The blocks of one file copied into memory, each read once and shared by every reader of the
// process while any holds the file; released buffers are kept for the next blocks.
class CopiedFile {
 public:
  CopiedFile(int fd, std::size_t size) : fd_(fd), size_(size) {}
  CopiedFile(const CopiedFile&) = delete;
  CopiedFile& operator=(const CopiedFile&) = delete;
  ~CopiedFile() { ::close(fd_); }
  std::size_t size() const { return size_; }

  static std::shared_ptr<CopiedFile> of(const std::string& path) {
    return one_per_file<CopiedFile>(path, [](int fd, std::size_t size) { return std::make_shared<CopiedFile>(fd, size); });
  }

  // Whether the file starts with `bytes` (n of them).
  bool starts_with(const char* bytes, std::size_t n) const {
    std::vector<char> head(n);
    return ::pread(fd_, head.data(), n, 0) == static_cast<ssize_t>(n) && std::memcmp(head.data(), bytes, n) == 0;
  }

  // The `bytes` bytes at `offset`, in a buffer of `capacity` (>= bytes) bytes, read by the first
  // asker and shared with the others until released; nullptr when they cannot be read. Thread-safe;
  // a thread asking for a block another is reading waits for it.
  const std::byte* block(std::int64_t offset, std::size_t bytes, std::size_t capacity) {
    std::shared_ptr<Entry> e;
    {
      std::lock_guard lock(mutex_);
      auto& slot = blocks_[offset];
      if (!slot) slot = std::make_shared<Entry>();
      e = slot;
    }
    std::lock_guard lock(e->mutex);
    if (!e->data && !e->failed) {
      Buffer buf = take(capacity);
      std::size_t done = 0;
      while (done < bytes) {
        const ssize_t r = ::pread(fd_, reinterpret_cast<char*>(buf.get()) + done, bytes - done, static_cast<off_t>(offset) + static_cast<off_t>(done));
        if (r <= 0) break;
        done += static_cast<std::size_t>(r);
      }
      if (done == bytes) {
        e->data = std::move(buf);
        e->capacity = capacity;
      } else {
        e->failed = true;  // left to GDAL, which reports what is wrong
        give(capacity, std::move(buf));
      }
    }
    return e->data.get();
  }

  // Lets go of the block at `offset`: its buffer returns to the pool.
  void release(std::int64_t offset) {
    std::lock_guard lock(mutex_);
    const auto it = blocks_.find(offset);
    if (it == blocks_.end()) return;
    if (it->second->data) pool_[it->second->capacity].push_back(std::move(it->second->data));
    blocks_.erase(it);
  }

 private:
  struct FreeBytes {
    void operator()(std::byte* p) const { std::free(p); }
  };
  using Buffer = std::unique_ptr<std::byte, FreeBytes>;
  struct Entry {
    std::mutex mutex;
    Buffer data;
    std::size_t capacity = 0;
    bool failed = false;
  };
  Buffer take(std::size_t capacity) {
    {
      std::lock_guard lock(mutex_);
      auto& free = pool_[capacity];
      if (!free.empty()) {
        Buffer b = std::move(free.back());
        free.pop_back();
        return b;
      }
    }
    // Cache-line aligned, so that a block's rows start where the vector kernels like them.
    void* p = std::aligned_alloc(64, (capacity + 63) / 64 * 64);
    if (p == nullptr) throw std::bad_alloc();
    return Buffer(static_cast<std::byte*>(p));
  }
  void give(std::size_t capacity, Buffer b) {
    std::lock_guard lock(mutex_);
    pool_[capacity].push_back(std::move(b));
  }

  int fd_;
  std::size_t size_;
  std::mutex mutex_;  // guards blocks_ and pool_
  std::unordered_map<std::int64_t, std::shared_ptr<Entry>> blocks_;
  std::unordered_map<std::size_t, std::vector<Buffer>> pool_;
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

std::unique_ptr<MappedBand> MappedBand::open(const RasterDataset& dataset, int band, BlockAccess access) {
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
  std::unique_ptr<MappedBand> m(new MappedBand());
  // The TIFF header's byte order: "II" is little-endian.
  if (access == BlockAccess::kMap) {
    m->file_ = MappedFile::of(path);
    if (!m->file_ || m->file_->size() < 8 || std::memcmp(m->file_->data(), "II", 2) != 0) return nullptr;
    m->file_size_ = m->file_->size();
  } else {
    m->copies_ = CopiedFile::of(path);
    if (!m->copies_ || m->copies_->size() < 8 || !m->copies_->starts_with("II", 2)) return nullptr;
    m->released_cols_.assign(static_cast<std::size_t>((ds->GetRasterYSize() + info.block_height - 1) / info.block_height), 0);
    m->file_size_ = m->copies_->size();
  }
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
      if (at > 0 && bytes >= need && static_cast<unsigned long long>(at) + static_cast<unsigned long long>(need) <= file_size_) {
        off = at;
      }
    }
  }
  return off;
}

const std::byte* MappedBand::block(int bx, int by) {
  if (bx < 0 || by < 0 || bx >= blocks_x_ || by >= blocks_y_) return nullptr;
  const std::int64_t off = offset_of(bx, by);
  if (off < 0) return nullptr;
  if (file_) return file_->data() + off;
  const std::size_t row_bytes = static_cast<std::size_t>(block_width_) * elem_;
  const auto rows = static_cast<std::size_t>(std::min(block_height_, height_ - by * block_height_));
  return copies_->block(off, rows * row_bytes, static_cast<std::size_t>(block_height_) * row_bytes);
}

void MappedBand::release_left_of(int x, int y0, int y1) {
  if (!copies_ || y1 <= y0) return;
  const int last_row = std::min(blocks_y_ - 1, (y1 - 1) / block_height_);
  for (int by = std::max(0, y0 / block_height_); by <= last_row; ++by) {
    int& done = released_cols_[static_cast<std::size_t>(by)];
    for (; done < blocks_x_ && (done + 1) * block_width_ <= x; ++done) {
      const std::int64_t off = offset_of(done, by);
      if (off >= 0) copies_->release(off);
    }
  }
}

void MappedBand::release_above(int y) {
  if (y < released_rows_ * block_height_) {  // a new pass over rows already let go of
    released_rows_ = std::max(0, y / block_height_);
    for (std::size_t by = static_cast<std::size_t>(released_rows_); by < released_cols_.size(); ++by) released_cols_[by] = 0;
  }
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t block_bytes = static_cast<std::size_t>(block_width_) * static_cast<std::size_t>(block_height_) * elem_;
  for (; released_rows_ < blocks_y_ && (released_rows_ + 1) * block_height_ <= y; ++released_rows_) {
    for (int bx = 0; bx < blocks_x_; ++bx) {
      const std::int64_t off = offset_of(bx, released_rows_);
      if (off < 0) continue;
      if (copies_) {
        copies_->release(off);
        continue;
      }
      // Whole pages inside the block only: a neighbour's page is left mapped.
      const auto begin = reinterpret_cast<std::uintptr_t>(file_->data() + off);
      const std::uintptr_t first = (begin + page - 1) / page * page;
      const std::uintptr_t last = (begin + std::min<std::size_t>(block_bytes, file_->size() - static_cast<std::size_t>(off))) / page * page;
      if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
    }
  }
}

}  // namespace sco::io
