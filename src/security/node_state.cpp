#include "security/node_state.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "core/error.hpp"

namespace sco::security {

using core::ErrorCode;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// An exclusive lock on DIR/NAME.lock (flock): the threads of a server and other sco processes take turns.
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
nlohmann::json load_array_file(const std::string& dir, const std::string& name) {
  const std::filesystem::path p = std::filesystem::path(dir) / name;
  if (!std::filesystem::exists(p)) return nlohmann::json::array();
  std::ifstream f(p);
  nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
  if (j.is_discarded() || !j.is_array()) core::fail(core::ErrorCode::kInvalidInput, "'{}' is corrupt", p.string());
  return j;
}

// DIR/NAME replaced by `j`, readable by the owner only, through a temporary name and a rename.
void save_private_file(const std::string& dir, const std::string& name, const nlohmann::json& j) {
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

// The node's folder: documents as owner-only files changed under flock, the audit log appended to a
// file under its lock, buckets in this process (one server per folder).
class FolderState : public NodeState {
 public:
  explicit FolderState(std::string dir) : dir_(std::move(dir)) {}

  json load(const std::string& name) const override { return load_array_file(dir_, name); }

  void change(const std::string& name, const std::function<void(json&)>& edit) override {
    const FileLock lock(dir_, name);
    json doc = load_array_file(dir_, name);
    edit(doc);
    save_private_file(dir_, name, doc);
  }

  // The file's inode, size and modification time: a rewrite (a new inode by rename) always differs.
  std::string version(const std::string& name) const override {
    struct stat st {};
    if (::stat((fs::path(dir_) / name).c_str(), &st) != 0) return "none";
    return fmt::format("{}:{}:{}.{}", st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  }

  std::vector<std::pair<std::string, std::string>> trusted() const override {
    std::vector<std::pair<std::string, std::string>> out;
    const fs::path td = fs::path(dir_) / "trust";
    if (!fs::is_directory(td)) return out;
    for (const auto& e : fs::directory_iterator(td)) {
      if (e.path().extension() != ".pub") continue;
      std::ifstream f(e.path(), std::ios::binary);
      out.emplace_back(e.path().stem().string(), std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>()));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  void trust(const std::string& name, const std::string& text, const std::function<void(const std::string&)>& check) override {
    const FileLock lock(dir_, "trust");
    const fs::path td = fs::path(dir_) / "trust", target = td / (name + ".pub"), tmp = target.string() + ".tmp";
    std::string old;
    if (std::ifstream f(target, std::ios::binary); f) old.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    check(old);
    fs::create_directories(td);
    {
      std::ofstream f(tmp, std::ios::binary);
      f << text;
      if (!f) core::fail(ErrorCode::kIo, "cannot write '{}'", tmp.string());
    }
    fs::rename(tmp, target);
  }

  void append_audit(const std::function<AuditAppend(const std::string&)>& make) override {
    fs::create_directories(dir_);
    const fs::path log = fs::path(dir_) / "audit.log", head = fs::path(dir_) / "audit.head";
    const int fd = ::open(log.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) core::fail(ErrorCode::kIo, "cannot open the audit log '{}'", log.string());
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }  // releases the lock too
    } closer{fd};
    ::flock(fd, LOCK_EX);
    const AuditAppend next = make(last_line(log));
    const std::string line = next.line + "\n";
    if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()) || ::fsync(fd) != 0) {
      core::fail(ErrorCode::kIo, "cannot append to the audit log '{}'", log.string());
    }
    const fs::path tmp = head.string() + ".tmp";
    {
      std::ofstream f(tmp, std::ios::binary);
      f << next.head << "\n";
      if (!f) core::fail(ErrorCode::kIo, "cannot write '{}'", tmp.string());
    }
    fs::rename(tmp, head);
  }

  // Complete lines only: a line without its newline is still being written.
  std::vector<std::string> audit_lines(std::uint64_t& position) const override {
    std::ifstream f(fs::path(dir_) / "audit.log", std::ios::binary);
    std::vector<std::string> lines;
    if (!f) return lines;
    f.seekg(static_cast<std::streamoff>(position));
    std::string line;
    while (std::getline(f, line)) {
      if (f.eof()) break;
      position += line.size() + 1;
      if (!line.empty()) lines.push_back(line);
    }
    return lines;
  }

  std::optional<std::string> audit_head() const override {
    std::ifstream f(fs::path(dir_) / "audit.head", std::ios::binary);
    if (!f) return std::nullopt;
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  }

  std::uint64_t audit_end() const override {
    std::error_code ec;
    const auto size = fs::file_size(fs::path(dir_) / "audit.log", ec);
    return ec ? 0 : size;
  }

  std::string audit_location() const override { return (fs::path(dir_) / "audit.log").string(); }

  bool take(const std::string& key, double rate, double burst) override {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    auto& [tokens, last] = buckets_[key];
    if (last.time_since_epoch().count() == 0) tokens = burst;
    tokens = std::min(burst, tokens + std::chrono::duration<double>(now - last).count() * rate);
    last = now;
    if (tokens < 1.0) return false;
    tokens -= 1.0;
    return true;
  }

 private:
  // The log's last non-empty line, read backwards from its end.
  static std::string last_line(const fs::path& log) {
    std::ifstream f(log, std::ios::binary | std::ios::ate);
    if (!f) return "";
    std::streamoff end = f.tellg();
    std::string tail;
    for (std::streamoff step = 4096;; step *= 2) {
      const std::streamoff from = std::max<std::streamoff>(0, end - step);
      tail.resize(static_cast<std::size_t>(end - from));
      f.seekg(from);
      f.read(tail.data(), static_cast<std::streamsize>(tail.size()));
      while (!tail.empty() && tail.back() == '\n') tail.pop_back();
      const auto nl = tail.rfind('\n');
      if (nl != std::string::npos) return tail.substr(nl + 1);
      if (from == 0) return tail;
    }
  }

  std::string dir_;
  std::mutex mutex_;
  std::map<std::string, std::pair<double, std::chrono::steady_clock::time_point>> buckets_;
};

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
NodeStateResolver& resolver() {
  static NodeStateResolver r;
  return r;
}
std::map<std::string, std::shared_ptr<NodeState>>& states() {
  static std::map<std::string, std::shared_ptr<NodeState>> s;
  return s;
}
std::map<std::string, std::shared_ptr<NodeState>>& folders() {
  static std::map<std::string, std::shared_ptr<NodeState>> s;
  return s;
}

}  // namespace

std::shared_ptr<NodeState> folder_state(const std::string& dir) {
  std::lock_guard lock(registry_mutex());
  auto& s = folders()[dir];
  if (!s) s = std::make_shared<FolderState>(dir);
  return s;
}

std::shared_ptr<NodeState> node_state(const std::string& dir) {
  {
    std::lock_guard lock(registry_mutex());
    if (auto it = states().find(dir); it != states().end()) return it->second;
  }
  std::shared_ptr<NodeState> s = resolver() ? resolver()(dir) : nullptr;
  if (!s) s = folder_state(dir);
  std::lock_guard lock(registry_mutex());
  return states().emplace(dir, s).first->second;  // the first one made wins
}

void set_node_state_resolver(NodeStateResolver r) {
  std::lock_guard lock(registry_mutex());
  resolver() = std::move(r);
  states().clear();
}

std::size_t copy_node_state(const NodeState& from, NodeState& to) {
  std::uint64_t start = 0, position = 0;
  if (!to.audit_lines(start).empty()) core::fail(ErrorCode::kInvalidInput, "the audit log at {} is not empty: not copied over", to.audit_location());
  for (const char* name : {"tokens.json", "users.json"}) {
    const json doc = from.load(name);
    to.change(name, [&](json& d) { d = doc; });
  }
  for (const auto& [name, text] : from.trusted()) to.trust(name, text, [](const std::string&) {});
  const std::vector<std::string> lines = from.audit_lines(position);
  const std::string head = from.audit_head().value_or("");
  for (const auto& line : lines) to.append_audit([&](const std::string&) { return NodeState::AuditAppend{line, head}; });
  return lines.size();
}

}  // namespace sco::security
