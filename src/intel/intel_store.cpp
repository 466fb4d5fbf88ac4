#include "intel/intel_store.hpp"

#include <sqlite3.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <mutex>

#include <fmt/format.h>

#include "core/error.hpp"

namespace sco::intel {

using core::ErrorCode;
using nlohmann::json;

namespace {

// Version 2: `latest` marks each object's newest version in its collection (what TAXII serves by
// default), so that a page is one range of an index instead of a lookup per row; pages are ranges of
// `seq` (date_added increases with it). Version 1 stores are migrated on opening.
constexpr int kSchemaVersion = 2;
constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS objects (seq INTEGER PRIMARY KEY, collection TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,
  version TEXT NOT NULL, date_added INTEGER NOT NULL, media_type TEXT NOT NULL, body TEXT NOT NULL, latest INTEGER NOT NULL DEFAULT 1,
  UNIQUE (collection, id, version));
CREATE INDEX IF NOT EXISTS objects_added ON objects (collection, date_added);
CREATE INDEX IF NOT EXISTS objects_seq ON objects (collection, seq);
CREATE INDEX IF NOT EXISTS objects_latest ON objects (collection, latest, seq);
CREATE TABLE IF NOT EXISTS rules (id TEXT PRIMARY KEY, range TEXT NOT NULL, indicator TEXT NOT NULL, signer TEXT NOT NULL,
  source TEXT NOT NULL, valid_from TEXT NOT NULL, valid_until TEXT NOT NULL, created TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS allow (range TEXT PRIMARY KEY, note TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS statuses (id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
)";
constexpr const char* kMigrate1to2 = R"(
ALTER TABLE objects ADD COLUMN latest INTEGER NOT NULL DEFAULT 1;
UPDATE objects SET latest = (version = (SELECT max(version) FROM objects x WHERE x.collection = objects.collection AND x.id = objects.id));
)";

// One prepared statement: bind by position, step, read columns.
class Query {
 public:
  Query(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st_, nullptr) != SQLITE_OK) fail();
  }
  ~Query() { sqlite3_finalize(st_); }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  Query& text(const std::string& v) {
    sqlite3_bind_text(st_, ++arg_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Query& integer(std::int64_t v) {
    sqlite3_bind_int64(st_, ++arg_, v);
    return *this;
  }
  bool row() {
    const int rc = sqlite3_step(st_);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail();
    return rc == SQLITE_ROW;
  }
  std::string col(int i) const {
    const auto* p = sqlite3_column_text(st_, i);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(st_, i))) : std::string();
  }
  std::int64_t num(int i) const { return sqlite3_column_int64(st_, i); }
  // A text column in place, valid until the next step.
  std::string_view view(int i) const {
    const auto* p = sqlite3_column_text(st_, i);
    return p ? std::string_view(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(st_, i))) : std::string_view();
  }

 private:
  [[noreturn]] void fail() const { core::fail(ErrorCode::kIo, "intel store: {}", sqlite3_errmsg(db_)); }
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
  int arg_ = 0;
};

void exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string what = err ? err : "error";
    sqlite3_free(err);
    core::fail(ErrorCode::kIo, "intel store: {}", what);
  }
}

sqlite3* connect(const std::string& path, bool writer) {
  sqlite3* db = nullptr;
  const int flags = writer ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX : SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    const std::string what = db ? sqlite3_errmsg(db) : "cannot open";
    sqlite3_close(db);
    core::fail(ErrorCode::kIo, "intel store '{}': {}", path, what);
  }
  sqlite3_busy_timeout(db, 10000);
  // Readers map the file: pages of objects are read from the page cache without a copy into SQLite's.
  if (!writer) sqlite3_exec(db, "PRAGMA mmap_size = 4294967296", nullptr, nullptr, nullptr);
  return db;
}

void bump_rules_generation(sqlite3* db) {
  exec(db, "INSERT INTO state (key, value) VALUES ('rules.generation', '1') "
           "ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)");
}

class SqliteWriter final : public IntelWriter {
 public:
  SqliteWriter(sqlite3* db, std::int64_t last_added) : db_(db), last_added_(last_added) {}
  bool add_object(const std::string& collection, const json& object, const std::string& text) override {
    const std::string id = object.value("id", ""), type = object.value("type", "");
    std::string version = object.contains("modified") ? object.value("modified", "") : object.value("created", "");
    const bool versioned = !version.empty();
    // Observables have no version: one row per id, its version the time it was added.
    if (!versioned) {
      Query q(db_, "SELECT 1 FROM objects WHERE collection = ? AND id = ?");
      if (q.text(collection).text(id).row()) return false;
    }
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const std::int64_t added = std::max<std::int64_t>(now, last_added_ + 1);
    if (!versioned) version = format_time_us(added);
    // The newest version so far keeps the `latest` mark; an older one arriving late does not take it.
    Query newest(db_, "SELECT max(version) FROM objects WHERE collection = ? AND id = ?");
    newest.text(collection).text(id).row();
    const std::string held = newest.col(0);
    if (held == version) return false;
    const bool latest = held.empty() || version > held;
    Query q(db_, "INSERT OR IGNORE INTO objects (collection, id, type, version, date_added, media_type, body, latest) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    q.text(collection).text(id).text(type).text(version).integer(added).text("application/stix+json;version=2.1").text(text).integer(latest ? 1 : 0).row();
    if (sqlite3_changes(db_) == 0) return false;
    if (latest && !held.empty()) {
      Query(db_, "UPDATE objects SET latest = 0 WHERE collection = ? AND id = ? AND version <> ? AND latest = 1").text(collection).text(id).text(version).row();
    }
    last_added_ = added;
    return true;
  }
  void set_state(const std::string& key, const std::string& value) override {
    Query(db_, "INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)").text(key).text(value).row();
  }
  void put_status(const std::string& id, const std::string& text) override {
    Query(db_, "INSERT OR REPLACE INTO statuses (id, body) VALUES (?, ?)").text(id).text(text).row();
  }
  bool add_rule(const Rule& r) override {
    Query q(db_, "INSERT OR IGNORE INTO rules (id, range, indicator, signer, source, valid_from, valid_until, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    q.text(r.id).text(r.range).text(r.indicator).text(r.signer).text(r.source).text(r.valid_from).text(r.valid_until).text(r.created).row();
    if (sqlite3_changes(db_) == 0) return false;
    bump_rules_generation(db_);
    return true;
  }
  std::string last_date_added() const override { return last_added_ > 0 ? format_time_us(last_added_) : ""; }

 private:
  sqlite3* db_;
  std::int64_t last_added_;
};

class SqliteIntelStore final : public IntelStore {
 public:
  explicit SqliteIntelStore(const std::string& dir) : path_((std::filesystem::path(dir) / "intel.sqlite").string()) {
    std::filesystem::create_directories(dir);
    writer_ = connect(path_, true);
    exec(writer_, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
    exec(writer_, "BEGIN IMMEDIATE");
    try {
      Query v(writer_, "PRAGMA user_version");
      v.row();
      if (v.num(0) == 1) exec(writer_, kMigrate1to2);
      if (v.num(0) > kSchemaVersion) core::fail(ErrorCode::kInvalidInput, "intel store '{}' has schema {}, newer than this sco's {}", path_, v.num(0), kSchemaVersion);
      exec(writer_, kSchema);
      exec(writer_, fmt::format("PRAGMA user_version = {}", kSchemaVersion).c_str());
      exec(writer_, "COMMIT");
    } catch (...) {
      sqlite3_exec(writer_, "ROLLBACK", nullptr, nullptr, nullptr);
      sqlite3_close(writer_);
      throw;
    }
  }
  ~SqliteIntelStore() override {
    for (sqlite3* db : readers_) sqlite3_close(db);
    sqlite3_close(writer_);
  }

  void write(const std::function<void(IntelWriter&)>& work) override {
    std::lock_guard lock(write_mutex_);
    exec(writer_, "BEGIN IMMEDIATE");
    try {
      Query last(writer_, "SELECT coalesce(max(date_added), 0) FROM objects");
      last.row();
      SqliteWriter w(writer_, last.num(0));
      work(w);
      exec(writer_, "COMMIT");
    } catch (...) {
      sqlite3_exec(writer_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

  ObjectPage objects(const ObjectQuery& q) override {
    ObjectPage page;
    page.more = each_object(q, [&](const StoredObject& o, std::string_view text) {
      page.objects.push_back(o);
      page.objects.back().text.assign(text);
    });
    return page;
  }

  bool each_object(const ObjectQuery& q, const std::function<void(const StoredObject&, std::string_view)>& each) override {
    // added_after as a lower bound of seq (date_added increases with seq): every page is a seq range.
    std::int64_t after_seq = q.after_seq;
    if (q.added_after_us) {
      Reader r(*this);
      Query first(r.db, "SELECT coalesce(min(seq), 9223372036854775807) FROM objects WHERE collection = ? AND date_added > ?");
      first.text(q.collection).integer(*q.added_after_us).row();
      after_seq = std::max(after_seq, first.num(0) - 1);
    }
    std::string sql = fmt::format("SELECT seq, id, version, date_added{} FROM objects o WHERE collection = ? AND seq > ?",
                                  q.with_text ? ", body" : "");
    const auto in_list = [](std::size_t n) { return fmt::format("({})", fmt::join(std::vector<std::string>(n, "?"), ", ")); };
    if (!q.ids.empty()) sql += " AND id IN " + in_list(q.ids.size());
    if (!q.types.empty()) sql += " AND type IN " + in_list(q.types.size());
    std::vector<std::string> exact;
    std::vector<std::string> kinds;
    for (const auto& v : q.versions.empty() ? std::vector<std::string>{"last"} : q.versions) {
      if (v == "all") kinds = {"all"};
      if (kinds.size() == 1 && kinds[0] == "all") break;
      if (v == "last") kinds.push_back("o.latest = 1");
      else if (v == "first") kinds.push_back("o.version = (SELECT min(version) FROM objects x WHERE x.collection = o.collection AND x.id = o.id)");
      else exact.push_back(v);
    }
    if (!(kinds.size() == 1 && kinds[0] == "all")) {
      if (!exact.empty()) kinds.push_back("o.version IN " + in_list(exact.size()));
      sql += " AND (" + fmt::format("{}", fmt::join(kinds, " OR ")) + ")";
    } else {
      exact.clear();
    }
    sql += " ORDER BY seq LIMIT ?";
    Reader r(*this);
    Query s(r.db, sql);
    s.text(q.collection).integer(after_seq);
    for (const auto& v : q.ids) s.text(v);
    for (const auto& v : q.types) s.text(v);
    for (const auto& v : exact) s.text(v);
    s.integer(static_cast<std::int64_t>(q.limit) + 1);
    std::size_t n = 0;
    StoredObject row;
    while (s.row()) {
      if (n++ == q.limit) return true;
      row.seq = s.num(0);
      row.id = s.col(1);
      row.version = s.col(2);
      row.date_added_us = s.num(3);
      each(row, q.with_text ? s.view(4) : std::string_view());
    }
    return false;
  }

  std::optional<std::string> state(const std::string& key) override { return one("SELECT value FROM state WHERE key = ?", key); }
  std::vector<std::pair<std::string, std::string>> states(const std::string& prefix) override {
    Reader r(*this);
    Query q(r.db, "SELECT key, value FROM state WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key");
    q.text(prefix);
    std::vector<std::pair<std::string, std::string>> out;
    while (q.row()) out.emplace_back(q.col(0), q.col(1));
    return out;
  }
  std::optional<std::string> status(const std::string& id) override { return one("SELECT body FROM statuses WHERE id = ?", id); }

  std::vector<Rule> rules() override {
    Reader r(*this);
    Query q(r.db, "SELECT id, range, indicator, signer, source, valid_from, valid_until, created, revoked FROM rules ORDER BY created, id");
    std::vector<Rule> out;
    while (q.row()) out.push_back({q.col(0), q.col(1), q.col(2), q.col(3), q.col(4), q.col(5), q.col(6), q.col(7), q.num(8) != 0});
    return out;
  }

  std::int64_t rules_generation() override {
    const auto v = one("SELECT value FROM state WHERE key = ?", "rules.generation");
    return v ? std::stoll(*v) : 0;
  }

  bool revoke_rule(const std::string& id) override {
    std::lock_guard lock(write_mutex_);
    exec(writer_, "BEGIN IMMEDIATE");
    Query(writer_, "UPDATE rules SET revoked = 1 WHERE id = ? AND revoked = 0").text(id).row();
    const bool changed = sqlite3_changes(writer_) > 0;
    if (changed) bump_rules_generation(writer_);
    exec(writer_, "COMMIT");
    return changed;
  }

  void add_allow(const AllowEntry& e) override {
    std::lock_guard lock(write_mutex_);
    Query(writer_, "INSERT OR REPLACE INTO allow (range, note) VALUES (?, ?)").text(e.range).text(e.note).row();
  }

  std::vector<AllowEntry> allow_list() override {
    Reader r(*this);
    Query q(r.db, "SELECT range, note FROM allow ORDER BY range");
    std::vector<AllowEntry> out;
    while (q.row()) out.push_back({q.col(0), q.col(1)});
    return out;
  }

  std::uint64_t checkpoint(std::uint64_t above_bytes) override {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path_ + "-wal", ec);
    if (ec || size <= above_bytes) return ec ? 0 : size;
    std::lock_guard lock(write_mutex_);
    sqlite3_busy_timeout(writer_, 200);
    sqlite3_exec(writer_, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);  // busy: tried again later
    sqlite3_busy_timeout(writer_, 10000);
    return size;
  }

  std::int64_t object_count(const std::string& collection) override {
    Reader r(*this);
    Query q(r.db, "SELECT count(*) FROM objects WHERE collection = ?");
    q.text(collection).row();
    return q.num(0);
  }

 private:
  // A read connection borrowed from the pool for one query.
  struct Reader {
    explicit Reader(SqliteIntelStore& s) : store(s) {
      {
        std::lock_guard lock(s.pool_mutex_);
        if (!s.readers_.empty()) {
          db = s.readers_.back();
          s.readers_.pop_back();
        }
      }
      if (!db) db = connect(s.path_, false);
    }
    ~Reader() {
      std::lock_guard lock(store.pool_mutex_);
      store.readers_.push_back(db);
    }
    SqliteIntelStore& store;
    sqlite3* db = nullptr;
  };

  std::optional<std::string> one(const char* sql, const std::string& key) {
    Reader r(*this);
    Query q(r.db, sql);
    q.text(key);
    if (!q.row()) return std::nullopt;
    return q.col(0);
  }

  std::string path_;
  sqlite3* writer_ = nullptr;
  std::mutex write_mutex_, pool_mutex_;
  std::vector<sqlite3*> readers_;
};

}  // namespace

std::unique_ptr<IntelStore> open_intel_store(const std::string& catalog_dir) { return std::make_unique<SqliteIntelStore>(catalog_dir); }

}  // namespace sco::intel
