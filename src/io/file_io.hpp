#pragma once
// Whole reads and writes on a file descriptor, failing with one line naming the file (a full disk
// said as such).
#include <cstddef>
#include <cstdint>
#include <string>

namespace sco::io {

[[noreturn]] void write_failed(const std::string& path, int err);
void write_all(int fd, const void* data, std::size_t n, const std::string& path);
void pwrite_all(int fd, const void* data, std::size_t n, std::uint64_t offset, const std::string& path);
void pread_all(int fd, void* data, std::size_t n, std::uint64_t offset, const std::string& path);

}  // namespace sco::io
