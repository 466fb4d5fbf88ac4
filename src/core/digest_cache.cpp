#include "core/digest_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "core/digest.hpp"

namespace sco::core {

namespace {

constexpr off_t kSmallest = 16 << 20;

std::string cache_file() {
  if (const char* env = std::getenv("SCO_HASH_CACHE"); env && *env) return std::string(env) == "off" ? "" : env;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/sco/sha256.tsv";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/sco/sha256.tsv";
  return "";
}

// What identifies a file's content while it is not written: device, inode, size, mtime, ctime.
std::string identity(const struct stat& st) {
  return fmt::format("{} {} {} {}.{:09} {}.{:09}", st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_ctim.tv_sec,
                     st.st_ctim.tv_nsec);
}

struct Cache {
  std::mutex mutex;
  bool loaded = false;
  std::string file;
  std::map<std::string, std::pair<std::string, std::string>> entries;  // path -> (identity, sha256)

  void load() {
    if (loaded) return;
    loaded = true;
    file = cache_file();
    if (file.empty()) return;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {  // identity (5 fields) \t sha256 \t path
      const auto a = line.find('\t'), b = a == std::string::npos ? a : line.find('\t', a + 1);
      if (b == std::string::npos || b - a - 1 != 64) continue;  // damaged: ignored
      entries[line.substr(b + 1)] = {line.substr(0, a), line.substr(a + 1, 64)};
    }
  }

  void append(const std::string& path, const std::string& id, const std::string& sha) {
    entries[path] = {id, sha};
    if (file.empty() || path.find('\n') != std::string::npos || path.find('\t') != std::string::npos) return;
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(file).parent_path(), ec);
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return;  // a cache that cannot be written: the next run hashes again
    const std::string line = id + "\t" + sha + "\t" + path + "\n";
    [[maybe_unused]] const ssize_t written = ::write(fd, line.data(), line.size());
    ::close(fd);
  }
};

Cache& cache() {
  static Cache c;
  return c;
}

}  // namespace

std::string sha256_file_cached(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < kSmallest) return sha256_file(path);
  const std::string absolute = std::filesystem::absolute(path).lexically_normal().string();
  const std::string id = identity(st);
  Cache& c = cache();
  {
    std::lock_guard lock(c.mutex);
    c.load();
    const auto it = c.entries.find(absolute);
    if (it != c.entries.end() && it->second.first == id) return it->second.second;
  }
  const std::string sha = sha256_file(path);
  struct stat after {};
  if (::stat(path.c_str(), &after) != 0 || identity(after) != id) return sha;  // written while read: not remembered
  // Racily clean (git's word): the kernel's file times are coarse (a few ms), so a file changed within
  // the last two seconds could change again with the same times; it is not remembered yet.
  if (std::time(nullptr) - after.st_ctim.tv_sec < 2) return sha;
  std::lock_guard lock(c.mutex);
  c.append(absolute, id, sha);
  return sha;
}

std::map<std::string, std::string> sha256_files_cached(const std::vector<std::string>& paths, int threads) {
  std::vector<std::string> files(paths);
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  std::vector<std::string> digests(files.size());
  std::atomic<std::size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto hash_some = [&] {
    for (std::size_t i = next++; i < files.size(); i = next++) {
      try {
        digests[i] = sha256_file_cached(files[i]);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
        next = files.size();  // the others stop after their current file
      }
    }
  };
  std::vector<std::thread> helpers;
  for (int t = 1; t < threads && static_cast<std::size_t>(t) < files.size(); ++t) helpers.emplace_back(hash_some);
  hash_some();
  for (auto& t : helpers) t.join();
  if (error) std::rethrow_exception(error);
  std::map<std::string, std::string> by_path;
  for (std::size_t i = 0; i < files.size(); ++i) by_path.emplace(files[i], std::move(digests[i]));
  return by_path;
}

}  // namespace sco::core
