// The embedded catalog store: one SQLite file, WAL journal (readers never wait for the writer),
// items indexed by an R*Tree on their bounding box and by their datetime interval.
#include <sqlite3.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <memory>

#include <fmt/format.h>

#include "catalog/store.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"

namespace sco::catalog {

using core::ErrorCode;
using nlohmann::json;

namespace {

// 2: the R*Tree has time as a third dimension (Julian days of the item's interval, widened by a day
// on each side so that time zones and the tree's 32-bit rounding never leave out an item the exact
// text comparison would keep; an open end is +-1e30), so that a search with a box and an interval
// descends only into branches that match both and reads only those items' rows. Version 1
// catalogs are migrated on opening.
constexpr int kSchemaVersion = 2;
constexpr const char* kBboxTable = "rtree(key, minx, maxx, miny, maxy, mint, maxt)";
// The tree's time bounds from an item's start_dt / end_dt (SQLite's julianday reads RFC 3339).
constexpr const char* kMinT = "coalesce(julianday({}) - 1, -1e30)";
constexpr const char* kMaxT = "coalesce(julianday({}) + 1, 1e30)";

// Prepared statements kept per read-only connection (by SQL text): a search prepares nothing.
struct StatementCache {
  std::unordered_map<std::string, sqlite3_stmt*> statements;
  ~StatementCache() {
    for (auto& [sql, stmt] : statements) sqlite3_finalize(stmt);
  }
};

// A connection to read through, with its statement cache (none for the writer).
struct ReadHandle {
  sqlite3* db;
  StatementCache* cache;
};

class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql, const std::string& path) : db_(db), path_(path) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) {
      core::fail(ErrorCode::kIo, "catalog '{}': {} ({})", path, sqlite3_errmsg(db), sql.substr(0, 60));
    }
  }
  Statement(ReadHandle h, const std::string& sql, const std::string& path) : db_(h.db), path_(path) {
    if (h.cache) {
      auto it = h.cache->statements.find(sql);
      if (it != h.cache->statements.end() && it->second) {
        stmt_ = it->second;
        it->second = nullptr;  // borrowed until this statement ends (a nested use prepares its own)
        cache_ = h.cache;
        sql_ = sql;
        return;
      }
    }
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) {
      core::fail(ErrorCode::kIo, "catalog '{}': {} ({})", path, sqlite3_errmsg(db_), sql.substr(0, 60));
    }
    if (h.cache && h.cache->statements.size() < 256) {
      cache_ = h.cache;
      sql_ = sql;
    }
  }
  ~Statement() {
    if (cache_) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
      sqlite3_stmt*& slot = cache_->statements[sql_];
      if (!slot) {
        slot = stmt_;
        return;
      }
    }
    sqlite3_finalize(stmt_);
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  Statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    core::fail(rc == SQLITE_BUSY ? ErrorCode::kIo : ErrorCode::kIo, "catalog '{}': {}", path_, sqlite3_errmsg(db_));
  }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : "";
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  sqlite3_stmt* raw() const { return stmt_; }

 private:
  sqlite3* db_;
  std::string path_;
  sqlite3_stmt* stmt_ = nullptr;
  StatementCache* cache_ = nullptr;
  std::string sql_;
};

// Who writes to a catalog: DIR/catalog.writer holds the writing process's id, command line and
// start time while a transaction is open, so that another writer can say whom it waits for.
std::string describe_writer(const std::string& file) {
  std::ifstream f(file);
  long pid = 0;
  std::string since, command;
  if (!(f >> pid >> since) || !std::getline(f >> std::ws, command) || pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) != 0) {
    return "another process";
  }
  return fmt::format("process {} ({}, writing since {})", pid, command, since);
}

void record_writer(const std::string& file) {
  std::string command;
  std::ifstream cmdline("/proc/self/cmdline", std::ios::binary);
  for (char c; cmdline.get(c);) command += c == '\0' ? ' ' : (c == '\n' ? ' ' : c);
  while (!command.empty() && command.back() == ' ') command.pop_back();
  std::ofstream(file, std::ios::trunc) << ::getpid() << ' ' << core::utc_now() << ' ' << command.substr(0, 200) << '\n';
}

// How long a writer waits for another one (SCO_CATALOG_WAIT seconds, default 600).
int writer_wait_seconds() {
  static const int s = [] {
    const char* v = std::getenv("SCO_CATALOG_WAIT");
    const int n = v ? std::atoi(v) : 600;
    return n >= 0 ? n : 600;
  }();
  return s;
}

class SqliteStore : public CatalogStore {
 public:
  explicit SqliteStore(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) core::fail(ErrorCode::kIo, "cannot create the catalog folder '{}': {}", dir, ec.message());
    path_ = (std::filesystem::path(dir) / "catalog.sqlite").string();
    if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
      const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      core::fail(ErrorCode::kIo, "cannot open the catalog '{}': {}", path_, why);
    }
    writer_file_ = (std::filesystem::path(dir) / "catalog.writer").string();
    sqlite3_busy_handler(db_, &SqliteStore::on_busy, this);
    try {
      exec("PRAGMA journal_mode=WAL");
      exec("PRAGMA foreign_keys=ON");
      exec("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)");
      exec("CREATE TABLE IF NOT EXISTS collections(id TEXT PRIMARY KEY, doc TEXT NOT NULL)");
      exec("CREATE TABLE IF NOT EXISTS items(key INTEGER PRIMARY KEY, collection TEXT NOT NULL REFERENCES collections(id), "
           "id TEXT NOT NULL, start_dt TEXT NOT NULL, end_dt TEXT NOT NULL, checksum TEXT NOT NULL, doc TEXT NOT NULL, "
           "UNIQUE(collection, id))");
      exec("CREATE INDEX IF NOT EXISTS items_start ON items(start_dt)");
      exec("CREATE INDEX IF NOT EXISTS items_end ON items(end_dt)");
      exec(fmt::format("CREATE VIRTUAL TABLE IF NOT EXISTS items_bbox USING {}", kBboxTable));
      exec("CREATE TABLE IF NOT EXISTS feature_tables(id TEXT PRIMARY KEY, doc TEXT NOT NULL)");
      exec("CREATE TABLE IF NOT EXISTS records(kind TEXT NOT NULL, id TEXT NOT NULL, owner TEXT NOT NULL, created INTEGER NOT NULL, "
           "doc TEXT NOT NULL, PRIMARY KEY(kind, id))");
      exec("CREATE INDEX IF NOT EXISTS records_owner ON records(kind, owner, created)");
      exec("CREATE TABLE IF NOT EXISTS audit_confirmations(seq INTEGER PRIMARY KEY, hash TEXT NOT NULL)");
      std::string version;
      {
        Statement v(db_, "SELECT value FROM meta WHERE key = 'sco_catalog_schema'", path_);
        if (v.step()) version = v.text(0);
      }
      if (version.empty()) {
        exec(fmt::format("INSERT INTO meta VALUES('sco_catalog_schema', '{}')", kSchemaVersion));
      } else if (version == "1") {
        migrate_from_1();
      } else if (version != std::to_string(kSchemaVersion)) {
        core::fail(ErrorCode::kInvalidInput, "catalog '{}' has schema version {}, this sco reads version {}", path_, version, kSchemaVersion);
      }
    } catch (const core::Error& e) {
      sqlite3_close(db_);
      db_ = nullptr;
      const std::string msg = e.what();
      if (msg.find("file is not a database") != std::string::npos || msg.find("malformed") != std::string::npos) {
        core::fail(ErrorCode::kInvalidInput, "the catalog '{}' is corrupt or not a SQLite database: {}", path_, msg);
      }
      throw;
    }
  }
  ~SqliteStore() override { sqlite3_close(db_); }

  void put_collection(const json& c) override {
    Statement s(db_, "INSERT INTO collections(id, doc) VALUES(?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc", path_);
    s.bind(1, c.at("id").get<std::string>()).bind(2, c.dump());
    s.step();
  }

  std::optional<json> collection(const std::string& id) const override {
    Statement s(reader(), "SELECT doc FROM collections WHERE id = ?", path_);
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return json::parse(s.text(0));
  }

  std::vector<json> collections() const override {
    Statement s(reader(), "SELECT doc FROM collections ORDER BY id", path_);
    std::vector<json> out;
    while (s.step()) out.push_back(json::parse(s.text(0)));
    return out;
  }

  std::vector<std::pair<std::string, std::optional<std::string>>> collection_member(const std::string& key) const override {
    Statement s(reader(), "SELECT id, json_type(doc, ?1), json_extract(doc, ?1) FROM collections ORDER BY id", path_);
    std::string path = "$.\"";
    for (const char ch : key) {
      if (ch == '"' || ch == '\\') path += '\\';
      path += ch;
    }
    s.bind(1, path + "\"");
    std::vector<std::pair<std::string, std::optional<std::string>>> out;
    while (s.step()) {
      const bool absent = sqlite3_column_type(s.raw(), 1) == SQLITE_NULL;
      out.emplace_back(s.text(0), absent ? std::nullopt : std::optional<std::string>(s.text(1) == "text" ? s.text(2) : std::string()));
    }
    return out;
  }

  UpsertResult put_item(const json& item, const std::string& checksum) override {
    const std::string coll = item.at("collection").get<std::string>(), id = item.at("id").get<std::string>();
    if (!collection(coll)) core::fail(ErrorCode::kNotFound, "catalog: no collection '{}'", coll);
    const auto old = item_checksum(coll, id);
    if (old && *old == checksum) return UpsertResult::kUnchanged;
    const auto [start, end] = item_interval(item);
    const json& b = item.at("bbox");
    std::int64_t key = 0;
    {
      Statement s(db_,
                  "INSERT INTO items(collection, id, start_dt, end_dt, checksum, doc) VALUES(?, ?, ?, ?, ?, ?) "
                  "ON CONFLICT(collection, id) DO UPDATE SET start_dt = excluded.start_dt, end_dt = excluded.end_dt, "
                  "checksum = excluded.checksum, doc = excluded.doc RETURNING key",
                  path_);
      s.bind(1, coll).bind(2, id).bind(3, start).bind(4, end).bind(5, checksum).bind(6, item.dump());
      s.step();
      key = s.integer(0);
      while (s.step()) {
      }
    }
    {
      Statement s(db_,
                  fmt::format("INSERT OR REPLACE INTO items_bbox(key, minx, maxx, miny, maxy, mint, maxt) VALUES(?, ?, ?, ?, ?, {}, {})",
                              fmt::format(kMinT, "nullif(?, '')"), fmt::format(kMaxT, "nullif(?, '')")),
                  path_);
      s.bind(1, key).bind(2, b[0].get<double>()).bind(3, b[2].get<double>()).bind(4, b[1].get<double>()).bind(5, b[3].get<double>());
      s.bind(6, start).bind(7, end);
      s.step();
    }
    return old ? UpsertResult::kUpdated : UpsertResult::kInserted;
  }

  void refresh_extent(const std::string& id) override {
    std::optional<json> c = collection(id);
    if (!c) core::fail(ErrorCode::kNotFound, "catalog: no collection '{}'", id);
    Statement s(db_,
                "SELECT min(b.minx), min(b.miny), max(b.maxx), max(b.maxy), min(i.start_dt), max(i.end_dt), count(*) "
                "FROM items i JOIN items_bbox b ON b.key = i.key WHERE i.collection = ?",
                path_);
    s.bind(1, id);
    s.step();
    if (s.integer(6) == 0) return;
    set_extent(*c, {sqlite3_column_double(s.raw(), 0), sqlite3_column_double(s.raw(), 1), sqlite3_column_double(s.raw(), 2),
                    sqlite3_column_double(s.raw(), 3)}, s.text(4), s.text(5));
    put_collection(*c);
  }

  void put_feature_table(const json& t) override {
    Statement s(db_, "INSERT INTO feature_tables(id, doc) VALUES(?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc", path_);
    s.bind(1, t.at("id").get<std::string>()).bind(2, t.dump());
    s.step();
  }

  std::vector<json> feature_tables() const override {
    Statement s(reader(), "SELECT doc FROM feature_tables ORDER BY id", path_);
    std::vector<json> out;
    while (s.step()) out.push_back(json::parse(s.text(0)));
    return out;
  }

  std::optional<json> feature_table(const std::string& id) const override {
    Statement s(reader(), "SELECT doc FROM feature_tables WHERE id = ?", path_);
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return json::parse(s.text(0));
  }

  void put_record(const std::string& kind, const std::string& id, const std::string& owner, const json& doc) override {
    // `created` keeps the first insertion's order: a record updated keeps its place.
    Statement s(db_,
                "INSERT INTO records(kind, id, owner, created, doc) VALUES(?, ?, ?, (SELECT coalesce(max(created), 0) + 1 FROM records), ?) "
                "ON CONFLICT(kind, id) DO UPDATE SET owner = excluded.owner, doc = excluded.doc",
                path_);
    s.bind(1, kind).bind(2, id).bind(3, owner).bind(4, doc.dump());
    s.step();
  }

  std::optional<json> record(const std::string& kind, const std::string& id) const override {
    Statement s(reader(), "SELECT doc FROM records WHERE kind = ? AND id = ?", path_);
    s.bind(1, kind).bind(2, id);
    if (!s.step()) return std::nullopt;
    return json::parse(s.text(0));
  }

  std::vector<json> records(const std::string& kind, const std::string& owner) const override {
    Statement s(reader(), owner.empty() ? "SELECT doc FROM records WHERE kind = ? ORDER BY created"
                                        : "SELECT doc FROM records WHERE kind = ? AND owner = ? ORDER BY created", path_);
    s.bind(1, kind);
    if (!owner.empty()) s.bind(2, owner);
    std::vector<json> out;
    while (s.step()) out.push_back(json::parse(s.text(0)));
    return out;
  }

  std::vector<RecordEntry> record_entries(const std::string& kind) const override {
    Statement s(reader(), "SELECT id, owner, doc FROM records WHERE kind = ? ORDER BY created", path_);
    s.bind(1, kind);
    std::vector<RecordEntry> out;
    while (s.step()) out.push_back({s.text(0), s.text(1), json::parse(s.text(2))});
    return out;
  }

  bool delete_record(const std::string& kind, const std::string& id) override {
    Statement s(db_, "DELETE FROM records WHERE kind = ? AND id = ?", path_);
    s.bind(1, kind).bind(2, id);
    s.step();
    return sqlite3_changes(db_) > 0;
  }

  std::optional<json> item(const std::string& collection, const std::string& id) const override {
    Statement s(reader(), "SELECT doc FROM items WHERE collection = ? AND id = ?", path_);
    s.bind(1, collection).bind(2, id);
    if (!s.step()) return std::nullopt;
    return json::parse(s.text(0));
  }

  std::optional<std::string> item_checksum(const std::string& collection, const std::string& id) const override {
    Statement s(reader(), "SELECT checksum FROM items WHERE collection = ? AND id = ?", path_);
    s.bind(1, collection).bind(2, id);
    if (!s.step()) return std::nullopt;
    return s.text(0);
  }

  std::map<std::string, std::string> item_checksums(const std::string& collection) const override {
    Statement s(reader(), "SELECT id, checksum FROM items WHERE collection = ?", path_);
    s.bind(1, collection);
    std::map<std::string, std::string> out;
    while (s.step()) out.emplace(s.text(0), s.text(1));
    return out;
  }

  bool delete_item(const std::string& collection, const std::string& id) override {
    Statement s(db_, "DELETE FROM items WHERE collection = ? AND id = ? RETURNING key", path_);
    s.bind(1, collection).bind(2, id);
    if (!s.step()) return false;
    const std::int64_t key = s.integer(0);
    while (s.step()) {
    }
    Statement b(db_, "DELETE FROM items_bbox WHERE key = ?", path_);
    b.bind(1, key);
    b.step();
    return true;
  }

  SearchPage search(const SearchQuery& q) const override {
    // With a box, the R*Tree drives the search (CROSS JOIN keeps SQLite from scanning the items and
    // probing the tree row by row).
    // probing the tree row by row); an interval also bounds the tree's time dimension, so that only
    // items near both are joined, then compared exactly.
    std::string from = "FROM items i";
    std::string where = " WHERE 1";
    if (q.bbox) {
      from = "FROM items_bbox b CROSS JOIN items i ON i.key = b.key AND b.maxx >= ? AND b.minx <= ? AND b.maxy >= ? AND b.miny <= ?";
      if (!q.datetime_start.empty()) from += " AND b.maxt >= coalesce(julianday(?), -1e30)";
      if (!q.datetime_end.empty()) from += " AND b.mint <= coalesce(julianday(?), 1e30)";
    }
    auto in_list = [](const char* column, std::size_t n) {
      std::string s = fmt::format(" AND {} IN (", column);
      for (std::size_t k = 0; k < n; ++k) s += k ? ",?" : "?";
      return s + ")";
    };
    if (!q.collections.empty()) where += in_list("i.collection", q.collections.size());
    if (!q.ids.empty()) where += in_list("i.id", q.ids.size());
    if (!q.datetime_start.empty()) where += " AND i.end_dt >= ?";
    if (!q.datetime_end.empty()) where += " AND i.start_dt <= ?";
    auto bind_all = [&](Statement& s) {
      int i = 1;
      if (q.bbox) {
        for (const double v : {q.bbox->west, q.bbox->east, q.bbox->south, q.bbox->north}) s.bind(i++, v);
        if (!q.datetime_start.empty()) s.bind(i++, q.datetime_start);
        if (!q.datetime_end.empty()) s.bind(i++, q.datetime_end);
      }
      for (const auto& c : q.collections) s.bind(i++, c);
      for (const auto& id : q.ids) s.bind(i++, id);
      if (!q.datetime_start.empty()) s.bind(i++, q.datetime_start);
      if (!q.datetime_end.empty()) s.bind(i++, q.datetime_end);
      return i;
    };
    SearchPage page;
    {
      Statement s(reader(), "SELECT count(*) " + from + where, path_);
      bind_all(s);
      s.step();
      page.matched = s.integer(0);
    }
    Statement s(reader(), "SELECT i.key, i.doc " + from + where + " AND i.key > ? ORDER BY i.key LIMIT ?", path_);
    int i = bind_all(s);
    s.bind(i, q.after);
    s.bind(i + 1, static_cast<std::int64_t>(q.limit) + 1);
    std::int64_t last = 0;
    while (s.step()) {
      if (static_cast<int>(page.keys.size()) == q.limit) {
        page.next = last;
        break;
      }
      last = s.integer(0);
      page.keys.push_back(last);
      if (q.raw) {
        page.documents.push_back(s.text(1));
      } else {
        page.items.push_back(json::parse(s.text(1)));
      }
    }
    return page;
  }

  void read_snapshot(const std::function<void()>& work) const override {
    thread_local int depth = 0;
    const ReadHandle h = reader();
    if (depth > 0 || h.db == db_) {  // joined, or this thread reads through the writer (in its transaction)
      work();
      return;
    }
    // WAL: the snapshot is taken at the first read after BEGIN and kept until COMMIT.
    sqlite3_exec(h.db, "BEGIN", nullptr, nullptr, nullptr);
    ++depth;
    try {
      work();
    } catch (...) {
      --depth;
      sqlite3_exec(h.db, "COMMIT", nullptr, nullptr, nullptr);
      throw;
    }
    --depth;
    sqlite3_exec(h.db, "COMMIT", nullptr, nullptr, nullptr);
  }

  void confirm_audit(std::uint64_t seq, const std::string& hash) override {
    Statement s(db_, "INSERT OR REPLACE INTO audit_confirmations(seq, hash) VALUES(?, ?)", path_);
    s.bind(1, static_cast<std::int64_t>(seq)).bind(2, hash);
    s.step();
  }

  std::map<std::uint64_t, std::string> audit_confirmations() const override {
    Statement s(reader(), "SELECT seq, hash FROM audit_confirmations ORDER BY seq", path_);
    std::map<std::uint64_t, std::string> out;
    while (s.step()) out.emplace(static_cast<std::uint64_t>(s.integer(0)), s.text(1));
    return out;
  }

  void transaction(const std::function<void()>& work) override {
    std::lock_guard lock(tx_mutex_);
    exec("BEGIN IMMEDIATE");
    tx_thread_ = std::this_thread::get_id();
    record_writer(writer_file_);
    try {
      work();
      exec("COMMIT");
      tx_thread_ = std::thread::id();
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      tx_thread_ = std::thread::id();
      std::remove(writer_file_.c_str());
      throw;
    }
    std::remove(writer_file_.c_str());
  }

 private:
  // Version 1 -> 2: the R*Tree rebuilt with the auxiliary columns, in one transaction.
  void migrate_from_1() {
    exec("BEGIN IMMEDIATE");
    try {
      exec("DROP TABLE IF EXISTS items_bbox_v2");
      exec(fmt::format("CREATE VIRTUAL TABLE items_bbox_v2 USING {}", kBboxTable));
      exec(fmt::format("INSERT INTO items_bbox_v2(key, minx, maxx, miny, maxy, mint, maxt) "
                       "SELECT b.key, b.minx, b.maxx, b.miny, b.maxy, {}, {} FROM items_bbox b JOIN items i ON i.key = b.key",
                       fmt::format(kMinT, "nullif(i.start_dt, '')"), fmt::format(kMaxT, "nullif(i.end_dt, '')")));
      exec("DROP TABLE items_bbox");
      exec("ALTER TABLE items_bbox_v2 RENAME TO items_bbox");
      exec(fmt::format("UPDATE meta SET value = '{}' WHERE key = 'sco_catalog_schema'", kSchemaVersion));
      exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

  // Reads go through one read-only connection per thread (WAL lets them run beside the writer and
  // each other); the thread inside a transaction reads through the writer, to see its own changes.
  ReadHandle reader() const {
    if (tx_thread_.load() == std::this_thread::get_id()) return {db_, nullptr};
    struct Connection {
      sqlite3* db = nullptr;
      std::unique_ptr<StatementCache> cache = std::make_unique<StatementCache>();
    };
    struct Connections {
      std::map<std::uint64_t, Connection> open;
      ~Connections() {
        for (auto& [k, c] : open) {
          c.cache.reset();  // statements before their connection
          sqlite3_close(c.db);
        }
      }
    };
    thread_local Connections conns;
    auto it = conns.open.find(serial_);
    if (it != conns.open.end()) return {it->second.db, it->second.cache.get()};
    sqlite3* c = nullptr;
    if (sqlite3_open_v2(path_.c_str(), &c, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      sqlite3_close(c);
      return {db_, nullptr};  // fall back to the shared connection
    }
    sqlite3_busy_timeout(c, 5000);
    // A small page cache per reader: the server may run a hundred threads; the OS caches the file.
    sqlite3_exec(c, "PRAGMA cache_size=-512", nullptr, nullptr, nullptr);
    Connection& conn = conns.open[serial_];
    conn.db = c;
    return {conn.db, conn.cache.get()};
  }

  void exec(const std::string& sql) {
    char* err = nullptr;
    if (const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err); rc != SQLITE_OK) {
      const std::string msg = err ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
        core::fail(ErrorCode::kIo, "the catalog '{}' is busy: {} has held it for over {} s; retry when it has finished (SCO_CATALOG_WAIT sets the wait)",
                   path_, describe_writer(writer_file_), writer_wait_seconds());
      }
      core::fail(ErrorCode::kIo, "catalog '{}': {}", path_, msg);
    }
  }

  // SQLite's busy handler for the writing connection: waits for another writer up to
  // SCO_CATALOG_WAIT seconds, saying once on a terminal whom it waits for.
  static int on_busy(void* self, int count) {
    auto* s = static_cast<SqliteStore*>(self);
    const auto now = std::chrono::steady_clock::now();
    if (count == 0) {
      s->busy_since_ = now;
      s->busy_said_ = false;
    }
    const double waited = std::chrono::duration<double>(now - s->busy_since_).count();
    if (waited >= writer_wait_seconds()) return 0;
    if (waited >= 1.0 && !s->busy_said_ && ::isatty(2)) {
      std::fprintf(stderr, "sco: waiting for the catalog '%s': %s is writing to it\n", s->path_.c_str(), describe_writer(s->writer_file_).c_str());
      s->busy_said_ = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(count < 10 ? 2 : 25));
    return 1;
  }
  std::string path_, writer_file_;
  sqlite3* db_ = nullptr;
  std::chrono::steady_clock::time_point busy_since_;
  bool busy_said_ = false;
  std::recursive_mutex tx_mutex_;
  std::atomic<std::thread::id> tx_thread_{};
  const std::uint64_t serial_ = next_serial();
  static std::uint64_t next_serial() {
    static std::atomic<std::uint64_t> n{0};
    return ++n;
  }
};

}  // namespace

std::unique_ptr<CatalogStore> open_sqlite_store(const std::string& dir) { return std::make_unique<SqliteStore>(dir); }

}  // namespace sco::catalog
