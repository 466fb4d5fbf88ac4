#pragma once
// An exclusive lock (flock) on DIR/NAME.lock for a read-modify-write of a file of the node's folder:
// threads of a server and other sco processes take turns.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/error.hpp"

namespace sco::security {

class FileLock {
 public:
  FileLock(const std::string& dir, const std::string& name) {
    std::filesystem::create_directories(dir);
    fd_ = ::open((std::filesystem::path(dir) / (name + ".lock")).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0) core::fail(core::ErrorCode::kIo, "cannot lock {} in '{}'", name, dir);
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace sco::security
