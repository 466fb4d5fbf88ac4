#pragma once
// The node's small JSON files (tokens.json, users.json): read, written owner-only and replaced
// atomically, and changed under an exclusive lock (flock on DIR/NAME.lock) so that the threads of a
// server and other sco processes take turns.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

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

// DIR/NAME as a JSON array (empty when the file does not exist); a corrupt file is an error naming it.
inline nlohmann::json load_array_file(const std::string& dir, const std::string& name) {
  const std::filesystem::path p = std::filesystem::path(dir) / name;
  if (!std::filesystem::exists(p)) return nlohmann::json::array();
  std::ifstream f(p);
  nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
  if (j.is_discarded() || !j.is_array()) core::fail(core::ErrorCode::kInvalidInput, "'{}' is corrupt", p.string());
  return j;
}

// DIR/NAME replaced by `j`, readable by the owner only, through a temporary name and a rename.
inline void save_private_file(const std::string& dir, const std::string& name, const nlohmann::json& j) {
  std::filesystem::create_directories(dir);
  const std::filesystem::path p = std::filesystem::path(dir) / name, tmp = p.string() + fmt::format(".tmp-{}", ::getpid());
  {
    std::ofstream f(tmp, std::ios::binary);
    f << j.dump(2) << "\n";
    if (!f) core::fail(core::ErrorCode::kIo, "cannot write '{}'", tmp.string());
  }
  std::filesystem::permissions(tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::filesystem::rename(tmp, p);
}

}  // namespace sco::security
