#include "io/file_io.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.hpp"

namespace sco::io {

using core::ErrorCode;

[[noreturn]] void write_failed(const std::string& path, int err) {
  if (err == ENOSPC || err == EDQUOT) core::fail(ErrorCode::kIo, "writing '{}' failed: the disk is full", path);
  core::fail(ErrorCode::kIo, "writing '{}' failed: {}", path, std::strerror(err));
}

void write_all(int fd, const void* data, std::size_t n, const std::string& path) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) write_failed(path, w < 0 ? errno : ENOSPC);
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

void pwrite_all(int fd, const void* data, std::size_t n, std::uint64_t offset, const std::string& path) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(offset));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) write_failed(path, w < 0 ? errno : ENOSPC);
    p += w;
    n -= static_cast<std::size_t>(w);
    offset += static_cast<std::uint64_t>(w);
  }
}

void pread_all(int fd, void* data, std::size_t n, std::uint64_t offset, const std::string& path) {
  auto* p = static_cast<std::uint8_t*>(data);
  while (n > 0) {
    const ssize_t r = ::pread(fd, p, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) core::fail(ErrorCode::kIo, "reading back '{}' failed: {}", path, r < 0 ? std::strerror(errno) : "short file");
    p += r;
    n -= static_cast<std::size_t>(r);
    offset += static_cast<std::uint64_t>(r);
  }
}

}  // namespace sco::io
