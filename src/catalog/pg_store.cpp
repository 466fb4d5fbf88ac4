// The catalog in PostgreSQL with PostGIS, for sites that outgrow one machine's SQLite: the same
// CatalogStore behind `--catalog postgresql://USER@HOST:PORT/DB` (libpq URIs).
//   - items partitioned by collection (LIST), a partition created with its collection, never on the
//     ingest or search paths (concurrent DDL is what deadlocks other STAC stores' ingests); the
//     partitioned table's indexes (SP-GiST on the item's space-time box, GiST on its box, its time interval, its paging key) are
//     made on every partition by PostgreSQL;
//   - ids and times compared as bytes (COLLATE "C"), as SQLite compares them: both stores order and
//     filter alike whatever the database's locale;
//   - one connection per thread inside a transaction or a read snapshot (REPEATABLE READ, read only),
//     otherwise connections borrowed from a pool;
//   - the schema versioned in sco_meta and created or migrated on opening, under an advisory lock.
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "catalog/pg_connection.hpp"
#include "catalog/store.hpp"
#include "core/error.hpp"

namespace sco::catalog {

using core::ErrorCode;
using nlohmann::json;
using pg::one_line;
using pg::Result;
using pg::shown;

namespace {

constexpr int kPgSchemaVersion = 4;

std::string number_text(double v) { return fmt::format("{:.17g}", v); }

// The days since 1970-01-01 of an RFC 3339 time's date (its first 10 characters), or `open` when it
// has none (an open end): the time axis of an item's space-time box. Offsets from UTC move a time by
// less than the day of margin that searches add.
double epoch_days(const std::string& t, double open) {
  if (t.size() < 10 || t[4] != '-' || t[7] != '-') return open;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (t[i] < '0' || t[i] > '9') return open;
  }
  using namespace std::chrono;
  const year_month_day date{year{std::stoi(t.substr(0, 4))}, month{static_cast<unsigned>(std::stoi(t.substr(5, 2)))},
                            day{static_cast<unsigned>(std::stoi(t.substr(8, 2)))}};
  if (!date.ok()) return open;
  return static_cast<double>(sys_days{date}.time_since_epoch().count());
}
constexpr double kOpenStart = -1e7, kOpenEnd = 1e7;

// An item row's columns, one row's values from parameters $B+1..$B+12 (collection, id, start, end,
// minx, miny, maxx, maxy, checksum, doc, start day, end day), and what an upsert replaces: shared by
// put_item and put_items.
constexpr const char* kItemColumns = "items(collection, id, start_dt, end_dt, minx, miny, maxx, maxy, box, checksum, doc, tbox)";
std::string item_values(std::size_t b) {
  return fmt::format("(${1}, ${2}, ${3}, ${4}, ${5}::float8, ${6}::float8, ${7}::float8, ${8}::float8, ST_MakeEnvelope(${5}, ${6}, ${7}, ${8}, 4326), "
                     "${9}, ${10}, ST_MakeLine(ST_MakePoint(${5}, ${6}, ${11}::float8), ST_MakePoint(${7}, ${8}, ${12}::float8)))",
                     0, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10, b + 11, b + 12);
}
// Those twelve parameters of one item.
std::vector<std::string> item_params(const json& item, const std::string& checksum) {
  const auto [start, end] = item_interval(item);
  const json& b = item.at("bbox");
  return {item.at("collection").get<std::string>(), item.at("id").get<std::string>(), start, end,
          number_text(b[0].get<double>()), number_text(b[1].get<double>()), number_text(b[2].get<double>()), number_text(b[3].get<double>()),
          checksum, item.dump(), number_text(epoch_days(start, kOpenStart)), number_text(epoch_days(end, kOpenEnd))};
}
constexpr const char* kItemUpsert =
    " ON CONFLICT (collection, id) DO UPDATE SET start_dt = excluded.start_dt, end_dt = excluded.end_dt, minx = excluded.minx, "
    "miny = excluded.miny, maxx = excluded.maxx, maxy = excluded.maxy, box = excluded.box, checksum = excluded.checksum, doc = excluded.doc, "
    "tbox = excluded.tbox WHERE items.checksum IS DISTINCT FROM excluded.checksum";

// Each item's space-time box (x, y, days), searched with the 3-D overlap operator &/&.
constexpr const char* kSpaceTimeIndex = "CREATE INDEX items_tbox ON items USING spgist (tbox spgist_geometry_ops_3d)";

// The node's shared state (catalog/pg_node_state): its documents (tokens, users), the audit log and
// its signed head, the rate-limit buckets (unlogged: refilled after a crash).
constexpr const char* kNodeStateTables[] = {
    "CREATE TABLE node_docs(name text COLLATE \"C\" PRIMARY KEY, doc text NOT NULL, version bigint NOT NULL)",
    "CREATE TABLE audit_log(seq bigint PRIMARY KEY, line text NOT NULL)",
    "CREATE TABLE audit_head(id int PRIMARY KEY CHECK (id = 1), head text NOT NULL)",
    "CREATE UNLOGGED TABLE rate_buckets(key text COLLATE \"C\" PRIMARY KEY, tokens float8 NOT NULL, at timestamptz NOT NULL)",
};

// Version 1 catalogs' rows get their space-time boxes in SQL (the same days as epoch_days).
constexpr const char* kSpaceTimeFunction =
    "CREATE OR REPLACE FUNCTION pg_temp.sco_days(t text, open float8) RETURNS float8 LANGUAGE plpgsql IMMUTABLE AS $$ "
    "BEGIN RETURN (substr(t, 1, 10)::date - date '1970-01-01')::float8; EXCEPTION WHEN others THEN RETURN open; END $$";

class PgStore : public CatalogStore {
 public:
  explicit PgStore(const std::string& uri) : pool_(uri), shown_(pool_.shown()) {
    Lease c(*this);
    exec(c.conn, "SELECT pg_advisory_lock(hashtext('sco catalog schema'))", {});
    try {
      create_schema(c.conn);
    } catch (...) {
      PQclear(PQexec(c.conn, "SELECT pg_advisory_unlock(hashtext('sco catalog schema'))"));
      throw;
    }
    exec(c.conn, "SELECT pg_advisory_unlock(hashtext('sco catalog schema'))", {});
  }

  void put_collection(const json& c) override {
    const std::string id = c.at("id").get<std::string>();
    run_in_transaction([&](PGconn* conn) {
      // A new collection gets its partition of items now: the only DDL, serialised between writers.
      exec(conn, "SELECT pg_advisory_xact_lock(hashtext('sco catalog partitions'))", {});
      const Result have = exec(conn, "SELECT part FROM collections WHERE id = $1", {id});
      if (have.rows() == 0) {
        const Result n = exec(conn, "SELECT nextval('partition_numbers')", {});
        const std::string part = "items_" + n.text(0, 0);
        char* literal = PQescapeLiteral(conn, id.data(), id.size());
        const std::string sql = fmt::format("CREATE TABLE {} PARTITION OF items FOR VALUES IN ({})", part, literal);
        PQfreemem(literal);
        exec(conn, sql, {});
        exec(conn, "INSERT INTO collections(id, part, doc) VALUES($1, $2, $3)", {id, part, c.dump()});
      } else {
        exec(conn, "UPDATE collections SET doc = $2 WHERE id = $1", {id, c.dump()});
      }
    });
  }

  std::optional<json> collection(const std::string& id) const override { return one_doc("SELECT doc FROM collections WHERE id = $1", {id}); }

  std::vector<json> collections() const override { return docs("SELECT doc FROM collections ORDER BY id", {}); }

  std::vector<std::pair<std::string, std::optional<std::string>>> collection_member(const std::string& key) const override {
    Lease c(*this);
    const Result r = exec(c.conn, "SELECT id, jsonb_typeof(doc::jsonb -> $1), doc::jsonb ->> $1 FROM collections ORDER BY id", {key});
    std::vector<std::pair<std::string, std::optional<std::string>>> out;
    for (int i = 0; i < r.rows(); ++i) {
      if (r.null(i, 1)) out.emplace_back(r.text(i, 0), std::nullopt);
      else out.emplace_back(r.text(i, 0), r.text(i, 1) == "string" ? r.text(i, 2) : std::string());
    }
    return out;
  }

  // One statement: the row inserted, or updated when its checksum changed, else left as it is; a
  // collection seen once is not looked up again (a collection removed since is the partition's error).
  UpsertResult put_item(const json& item, const std::string& checksum) override {
    const std::string coll = item.at("collection").get<std::string>(), id = item.at("id").get<std::string>();
    if (!known_collection(coll)) core::fail(ErrorCode::kNotFound, "catalog: no collection '{}'", coll);
    Lease c(*this);
    try {
      // The CTEs share one snapshot: `old` is the row before the upsert.
      const Result r = exec(c.conn,
                            fmt::format("WITH old AS (SELECT checksum FROM items WHERE collection = $1 AND id = $2), "
                                        "up AS (INSERT INTO {} VALUES {}{} RETURNING 1) SELECT (SELECT count(*) FROM old), (SELECT count(*) FROM up)",
                                        kItemColumns, item_values(0), kItemUpsert),
                            item_params(item, checksum));
      if (r.integer(0, 1) == 0) return UpsertResult::kUnchanged;
      return r.integer(0, 0) == 0 ? UpsertResult::kInserted : UpsertResult::kUpdated;
    } catch (const core::Error& e) {
      if (e.code() == ErrorCode::kNotFound) {
        forget_collection(coll);
        core::fail(ErrorCode::kNotFound, "catalog: no collection '{}'", coll);
      }
      throw;
    }
  }

  // Batches of up to 500 rows in one INSERT: one round trip and one plan per batch, not per item. An
  // id given twice keeps its last version, as one put_item after another would.
  void put_items(const std::vector<std::pair<json, std::string>>& items) override {
    constexpr std::size_t kBatch = 500, kColumns = 12;
    std::vector<std::string> params;
    std::set<std::pair<std::string, std::string>> seen;  // the batch's items
    auto flush = [&] {
      if (params.empty()) return;
      std::string sql = fmt::format("INSERT INTO {} VALUES ", kItemColumns);
      for (std::size_t r = 0; r < params.size() / kColumns; ++r) sql += (r ? ", " : "") + item_values(r * kColumns);
      sql += kItemUpsert;
      Lease c(*this);
      exec(c.conn, sql, params);
      params.clear();
      seen.clear();
    };
    for (const auto& [item, checksum] : items) {
      const std::string coll = item.at("collection").get<std::string>(), id = item.at("id").get<std::string>();
      if (!known_collection(coll)) core::fail(ErrorCode::kNotFound, "catalog: no collection '{}'", coll);
      if (seen.count({coll, id})) flush();
      seen.insert({coll, id});
      for (std::string& v : item_params(item, checksum)) params.push_back(std::move(v));
      if (params.size() >= kBatch * kColumns) flush();
    }
    flush();
  }

  bool known_collection(const std::string& id) const {
    {
      std::lock_guard lock(known_mutex_);
      if (known_.count(id)) return true;
    }
    if (!collection(id)) return false;
    std::lock_guard lock(known_mutex_);
    known_.insert(id);
    return true;
  }
  void forget_collection(const std::string& id) const {
    std::lock_guard lock(known_mutex_);
    known_.erase(id);
  }

  void refresh_extent(const std::string& id) override {
    std::optional<json> c = collection(id);
    if (!c) core::fail(ErrorCode::kNotFound, "catalog: no collection '{}'", id);
    Lease l(*this);
    const Result r = exec(l.conn, "SELECT min(minx), min(miny), max(maxx), max(maxy), min(start_dt), max(end_dt), count(*) FROM items WHERE collection = $1", {id});
    if (r.integer(0, 6) == 0) return;
    set_extent(*c, {r.number(0, 0), r.number(0, 1), r.number(0, 2), r.number(0, 3)}, r.text(0, 4), r.text(0, 5));
    put_collection(*c);
  }

  std::optional<json> item(const std::string& collection, const std::string& id) const override {
    return one_doc("SELECT doc FROM items WHERE collection = $1 AND id = $2", {collection, id});
  }

  std::optional<std::string> item_checksum(const std::string& collection, const std::string& id) const override {
    Lease c(*this);
    const Result r = exec(c.conn, "SELECT checksum FROM items WHERE collection = $1 AND id = $2", {collection, id});
    if (r.rows() == 0) return std::nullopt;
    return r.text(0, 0);
  }

  std::map<std::string, std::string> item_checksums(const std::string& collection) const override {
    Lease c(*this);
    const Result r = exec(c.conn, "SELECT id, checksum FROM items WHERE collection = $1", {collection});
    std::map<std::string, std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.emplace(r.text(i, 0), r.text(i, 1));
    return out;
  }

  bool delete_item(const std::string& collection, const std::string& id) override {
    Lease c(*this);
    const Result r = exec(c.conn, "DELETE FROM items WHERE collection = $1 AND id = $2", {collection, id});
    return r.affected() != "0";
  }

  SearchPage search(const SearchQuery& q) const override {
    std::vector<std::string> params;
    const auto p = [&params](const std::string& v) {
      params.push_back(v);
      return fmt::format("${}", params.size());
    };
    std::string where = " WHERE true";
    if (q.bbox || !q.datetime_start.empty() || !q.datetime_end.empty()) {
      // The space-time index finds the candidates of the box and interval (a day of margin on time);
      // the exact comparisons below decide, as on SQLite.
      const double w = q.bbox ? q.bbox->west : -1e9, s = q.bbox ? q.bbox->south : -1e9, e = q.bbox ? q.bbox->east : 1e9,
                   n = q.bbox ? q.bbox->north : 1e9;
      const double t0 = epoch_days(q.datetime_start, kOpenStart) - 1, t1 = epoch_days(q.datetime_end, kOpenEnd) + 1;
      where += fmt::format(" AND tbox &/& ST_MakeLine(ST_MakePoint({}::float8, {}::float8, {}::float8), ST_MakePoint({}::float8, {}::float8, {}::float8))",
                           p(number_text(w)), p(number_text(s)), p(number_text(t0)), p(number_text(e)), p(number_text(n)), p(number_text(t1)));
    }
    if (q.bbox) {
      const std::string w = p(number_text(q.bbox->west)), s = p(number_text(q.bbox->south)), e = p(number_text(q.bbox->east)),
                        n = p(number_text(q.bbox->north));
      where += fmt::format(" AND maxx >= {0}::float8 AND minx <= {2}::float8 AND maxy >= {1}::float8 AND miny <= {3}::float8", w, s, e, n);
    }
    const auto in_list = [&](const char* column, const std::vector<std::string>& values) {
      std::string s = fmt::format(" AND {} IN (", column);
      for (std::size_t k = 0; k < values.size(); ++k) {
        if (k) s += ',';
        s += p(values[k]);
      }
      return s + ")";
    };
    if (!q.collections.empty()) where += in_list("collection", q.collections);
    if (!q.ids.empty()) where += in_list("id", q.ids);
    if (!q.datetime_start.empty()) where += " AND end_dt >= " + p(q.datetime_start);
    if (!q.datetime_end.empty()) where += " AND start_dt <= " + p(q.datetime_end);
    Lease c(*this);
    SearchPage page;
    // The page and the count of every match in one statement; a page past the last match counts apart.
    const std::string after = p(std::to_string(q.after)), limit = p(std::to_string(q.limit + 1));
    const Result r = exec(c.conn, fmt::format("SELECT key, doc, matched FROM (SELECT key, doc, count(*) OVER () AS matched FROM items{}) m "
                                              "WHERE key > {}::bigint ORDER BY key LIMIT {}::bigint", where, after, limit), params);
    if (r.rows() > 0) {
      page.matched = r.integer(0, 2);
    } else {
      params.resize(params.size() - 2);
      page.matched = exec(c.conn, "SELECT count(*) FROM items" + where, params).integer(0, 0);
    }
    for (int i = 0; i < r.rows(); ++i) {
      if (i == q.limit) {
        page.next = page.keys.back();
        break;
      }
      page.keys.push_back(r.integer(i, 0));
      if (q.raw) page.documents.push_back(r.text(i, 1));
      else page.items.push_back(json::parse(r.text(i, 1)));
    }
    return page;
  }

  void put_feature_table(const json& t) override {
    Lease c(*this);
    exec(c.conn, "INSERT INTO feature_tables(id, doc) VALUES($1, $2) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc", {t.at("id").get<std::string>(), t.dump()});
  }
  std::vector<json> feature_tables() const override { return docs("SELECT doc FROM feature_tables ORDER BY id", {}); }
  std::optional<json> feature_table(const std::string& id) const override { return one_doc("SELECT doc FROM feature_tables WHERE id = $1", {id}); }

  void put_record(const std::string& kind, const std::string& id, const std::string& owner, const json& doc) override {
    Lease c(*this);  // `created` keeps the first insertion's order: a record updated keeps its place
    exec(c.conn, "INSERT INTO records(kind, id, owner, doc) VALUES($1, $2, $3, $4) ON CONFLICT (kind, id) DO UPDATE SET owner = excluded.owner, doc = excluded.doc",
         {kind, id, owner, doc.dump()});
  }
  std::optional<json> record(const std::string& kind, const std::string& id) const override {
    return one_doc("SELECT doc FROM records WHERE kind = $1 AND id = $2", {kind, id});
  }
  std::vector<json> records(const std::string& kind, const std::string& owner) const override {
    return owner.empty() ? docs("SELECT doc FROM records WHERE kind = $1 ORDER BY created", {kind})
                         : docs("SELECT doc FROM records WHERE kind = $1 AND owner = $2 ORDER BY created", {kind, owner});
  }
  std::vector<RecordEntry> record_entries(const std::string& kind) const override {
    Lease c(*this);
    const Result r = exec(c.conn, "SELECT id, owner, doc FROM records WHERE kind = $1 ORDER BY created", {kind});
    std::vector<RecordEntry> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back({r.text(i, 0), r.text(i, 1), json::parse(r.text(i, 2))});
    return out;
  }

  bool delete_record(const std::string& kind, const std::string& id) override {
    Lease c(*this);
    return exec(c.conn, "DELETE FROM records WHERE kind = $1 AND id = $2", {kind, id}).affected() != "0";
  }

  void confirm_audit(std::uint64_t seq, const std::string& hash) override {
    Lease c(*this);
    exec(c.conn, "INSERT INTO audit_confirmations(seq, hash) VALUES($1, $2) ON CONFLICT (seq) DO UPDATE SET hash = excluded.hash",
         {std::to_string(seq), hash});
  }
  std::map<std::uint64_t, std::string> audit_confirmations() const override {
    Lease c(*this);
    const Result r = exec(c.conn, "SELECT seq, hash FROM audit_confirmations ORDER BY seq", {});
    std::map<std::uint64_t, std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.emplace(static_cast<std::uint64_t>(r.integer(i, 0)), r.text(i, 1));
    return out;
  }

  void transaction(const std::function<void()>& work) override {
    run_in_transaction([&](PGconn*) { work(); });
  }

  void read_snapshot(const std::function<void()>& work) const override {
    bound_work("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", [&](PGconn*) { work(); });
  }

 private:
  // The connection this thread uses for this store: the one bound by a transaction or a snapshot,
  // else one from the pool until the lease ends.
  struct Lease {
    explicit Lease(const PgStore& s) : store(s) {
      auto it = bound().find(s.serial_);
      if (it != bound().end()) {
        conn = it->second;
        return;
      }
      conn = s.pool_.borrow();
      owned = true;
    }
    ~Lease() {
      if (owned) store.pool_.give_back(conn);
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    const PgStore& store;
    PGconn* conn = nullptr;
    bool owned = false;
  };

  static std::map<std::uint64_t, PGconn*>& bound() {
    thread_local std::map<std::uint64_t, PGconn*> b;
    return b;
  }

  Result exec(PGconn* c, const std::string& sql, const std::vector<std::string>& params) const { return pool_.exec(c, sql, params); }

  void migrate_v1(PGconn* c) const;
  void migrate_v2(PGconn* c) const;
  void migrate_v3(PGconn* c) const;
  void run_steps(PGconn* c, const char* const* steps, std::size_t n, const char* what) const;
  void run_in_transaction(const std::function<void(PGconn*)>& work) { bound_work("BEGIN", work); }

  // `work` on this thread's bound connection (joining a transaction or snapshot already open), else
  // on one leased, bound and inside `begin` ... COMMIT (ROLLBACK when work throws).
  void bound_work(const char* begin, const std::function<void(PGconn*)>& work) const {
    auto it = bound().find(serial_);
    if (it != bound().end()) {
      work(it->second);
      return;
    }
    Lease c(*this);
    exec(c.conn, begin, {});
    bound()[serial_] = c.conn;
    try {
      work(c.conn);
    } catch (...) {
      bound().erase(serial_);
      PQclear(PQexec(c.conn, "ROLLBACK"));
      throw;
    }
    bound().erase(serial_);
    exec(c.conn, "COMMIT", {});
  }

  std::optional<json> one_doc(const std::string& sql, const std::vector<std::string>& params) const {
    Lease c(*this);
    const Result r = exec(c.conn, sql, params);
    if (r.rows() == 0) return std::nullopt;
    return json::parse(r.text(0, 0));
  }

  std::vector<json> docs(const std::string& sql, const std::vector<std::string>& params) const {
    Lease c(*this);
    const Result r = exec(c.conn, sql, params);
    std::vector<json> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(json::parse(r.text(i, 0)));
    return out;
  }

  void create_schema(PGconn* c) const;

  pg::Pool pool_;
  std::string shown_;
  mutable std::mutex known_mutex_;
  mutable std::set<std::string> known_;  // collections this store has seen (put_item's check)
  const std::uint64_t serial_ = [] {
    static std::atomic<std::uint64_t> n{0};
    return ++n;
  }();
};

// Version 1 to 2: each item's space-time box (x, y, days) indexed in 3 dimensions, so that searches
// by box and interval read only the items in both.
void PgStore::migrate_v1(PGconn* c) const {
  static const char* const kSteps[] = {
      "BEGIN",
      kSpaceTimeFunction,
      "ALTER TABLE items ADD COLUMN tbox geometry",
      "UPDATE items SET tbox = ST_MakeLine(ST_MakePoint(minx, miny, pg_temp.sco_days(start_dt, -1e7)), "
      "ST_MakePoint(maxx, maxy, pg_temp.sco_days(end_dt, 1e7)))",
      "ALTER TABLE items ALTER COLUMN tbox SET NOT NULL",
      "UPDATE sco_meta SET value = '2' WHERE key = 'schema'",
      "COMMIT",
  };
  run_steps(c, kSteps, std::size(kSteps), "cannot migrate the schema from version 1");
}

// Version 2 to 3: the node's shared state (catalog/pg_node_state) beside its catalog.
void PgStore::migrate_v2(PGconn* c) const {
  static const char* const kSteps[] = {
      "BEGIN", kNodeStateTables[0], kNodeStateTables[1], kNodeStateTables[2], kNodeStateTables[3], "UPDATE sco_meta SET value = '3' WHERE key = 'schema'", "COMMIT",
  };
  run_steps(c, kSteps, std::size(kSteps), "cannot migrate the schema from version 2");
}

// Version 3 to 4: the space-time boxes under SP-GiST (PostGIS's 3-D octree-like partitioning) instead
// of GiST: at 1,000,000 items a box-and-interval search reads 29 index pages in 0.1 ms, not 187
// pages in 1.8-2.3 ms (EXPLAIN ANALYZE, bench/catalog's searches); built in 5 s instead of minutes.
void PgStore::migrate_v3(PGconn* c) const {
  static const char* const kSteps[] = {
      "BEGIN", "DROP INDEX IF EXISTS items_tbox", kSpaceTimeIndex, "UPDATE sco_meta SET value = '4' WHERE key = 'schema'", "COMMIT",
  };
  run_steps(c, kSteps, std::size(kSteps), "cannot migrate the schema from version 3");
}

void PgStore::run_steps(PGconn* c, const char* const* steps, std::size_t n, const char* what) const {
  for (std::size_t i = 0; i < n; ++i) {
    PGresult* r = PQexec(c, steps[i]);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
      const std::string msg = one_line(PQresultErrorMessage(r));
      PQclear(r);
      PQclear(PQexec(c, "ROLLBACK"));
      core::fail(ErrorCode::kIo, "catalog {}: {}: {}", shown_, what, msg);
    }
    PQclear(r);
  }
}

void PgStore::create_schema(PGconn* c) const {
  const Result meta = exec(c, "SELECT to_regclass('sco_meta') IS NOT NULL", {});
  if (meta.text(0, 0) == "t") {
    const Result v = exec(c, "SELECT value FROM sco_meta WHERE key = 'schema'", {});
    const std::string version = v.rows() ? v.text(0, 0) : "";
    if (version == "1") migrate_v1(c);
    if (version == "1" || version == "2") migrate_v2(c);
    if (version == "1" || version == "2" || version == "3") {
      migrate_v3(c);
      return;
    }
    if (version != std::to_string(kPgSchemaVersion)) {
      core::fail(ErrorCode::kInvalidInput, "catalog {} has schema version '{}', this sco reads version {}", shown_, version, kPgSchemaVersion);
    }
    return;
  }
  static const char* const kSchema[] = {
      "BEGIN",
      "CREATE EXTENSION IF NOT EXISTS postgis",
      "CREATE TABLE sco_meta(key text PRIMARY KEY, value text NOT NULL)",
      "CREATE SEQUENCE partition_numbers",
      "CREATE TABLE collections(id text COLLATE \"C\" PRIMARY KEY, part text NOT NULL, doc text NOT NULL)",
      "CREATE SEQUENCE item_keys",
      "CREATE TABLE items(key bigint NOT NULL DEFAULT nextval('item_keys'), collection text COLLATE \"C\" NOT NULL, id text COLLATE \"C\" NOT NULL, "
      "start_dt text COLLATE \"C\" NOT NULL, end_dt text COLLATE \"C\" NOT NULL, minx float8 NOT NULL, miny float8 NOT NULL, "
      "maxx float8 NOT NULL, maxy float8 NOT NULL, box geometry(Polygon, 4326) NOT NULL, checksum text NOT NULL, doc text NOT NULL, "
      "tbox geometry NOT NULL, PRIMARY KEY (collection, id)) PARTITION BY LIST (collection)",
      kSpaceTimeIndex,
      "CREATE INDEX items_box ON items USING gist (box)",
      "CREATE INDEX items_time ON items (end_dt, start_dt)",
      "CREATE INDEX items_key ON items (key)",
      "CREATE TABLE feature_tables(id text COLLATE \"C\" PRIMARY KEY, doc text NOT NULL)",
      "CREATE TABLE records(kind text COLLATE \"C\" NOT NULL, id text COLLATE \"C\" NOT NULL, owner text COLLATE \"C\" NOT NULL, "
      "created bigserial, doc text NOT NULL, PRIMARY KEY (kind, id))",
      "CREATE INDEX records_owner ON records (kind, owner, created)",
      "CREATE TABLE audit_confirmations(seq bigint PRIMARY KEY, hash text NOT NULL)",
      kNodeStateTables[0], kNodeStateTables[1], kNodeStateTables[2], kNodeStateTables[3],
      "INSERT INTO sco_meta VALUES ('schema', '4')",
      "COMMIT",
  };
  run_steps(c, kSchema, std::size(kSchema), "cannot create the schema");
}

}  // namespace

bool is_postgres_uri(const std::string& location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

std::unique_ptr<CatalogStore> open_postgres_store(const std::string& uri) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(uri.c_str(), &err);
  if (!opts) {
    const std::string msg = one_line(err ? err : "unreadable");
    PQfreemem(err);
    core::fail(ErrorCode::kInvalidInput, "--catalog: '{}' is not a PostgreSQL URI: {}", uri, msg);
  }
  std::string port;
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    if (std::string(o->keyword) == "port" && o->val) port = o->val;
  }
  PQconninfoFree(opts);
  // libpq reads the port only when it connects: a malformed one is said here, before any attempt.
  for (std::size_t i = 0, j = 0; i <= port.size() && !port.empty(); i = j + 1) {  // "5432" or "5432,5433" (several hosts)
    j = std::min(port.find(',', i), port.size());
    const std::string one = port.substr(i, j - i);
    if (one.empty() || one.size() > 5 || one.find_first_not_of("0123456789") != std::string::npos || std::stoi(one) < 1 || std::stoi(one) > 65535) {
      core::fail(ErrorCode::kInvalidInput, "--catalog: '{}': port '{}' is not a port number (1-65535)", shown(uri), one);
    }
  }
  return std::make_unique<PgStore>(uri);
}

std::unique_ptr<CatalogStore> open_store(const std::string& location) {
  return is_postgres_uri(location) ? open_postgres_store(location) : open_sqlite_store(location);
}

std::string node_catalog_uri(const std::string& node_dir) {
  if (const char* env = std::getenv("SCO_CATALOG_URI"); env && *env) return env;
  std::ifstream f(std::filesystem::path(node_dir) / "catalog.uri");
  std::string uri;
  if (f >> uri && !is_postgres_uri(uri)) {
    core::fail(ErrorCode::kInvalidInput, "{}/catalog.uri: '{}' is not a postgresql:// URI", node_dir, uri);
  }
  return uri;
}

std::unique_ptr<CatalogStore> open_node_store(const std::string& node_dir) {
  const std::string uri = node_catalog_uri(node_dir);
  return uri.empty() ? open_sqlite_store(node_dir) : open_postgres_store(uri);
}

std::string node_store_location(const std::string& node_dir) {
  const std::string uri = node_catalog_uri(node_dir);
  return uri.empty() ? node_dir : shown(uri);
}

CopyReport copy_catalog(const CatalogStore& from, CatalogStore& to, const std::function<void(std::size_t)>& progress) {
  CopyReport r;
  from.read_snapshot([&] {
    to.transaction([&] {
      for (const auto& c : from.collections()) {
        to.put_collection(c);
        ++r.collections;
        const auto sums = from.item_checksums(c.at("id").get<std::string>());
        SearchQuery q;
        q.collections = {c.at("id").get<std::string>()};
        q.limit = 1000;
        for (;;) {
          const SearchPage page = from.search(q);
          std::vector<std::pair<json, std::string>> batch;
          batch.reserve(page.items.size());
          for (const auto& item : page.items) batch.emplace_back(item, sums.at(item.at("id").get<std::string>()));
          to.put_items(batch);
          r.items += page.items.size();
          if (progress) progress(r.items);
          if (!page.next) break;
          q.after = *page.next;
        }
      }
      for (const auto& t : from.feature_tables()) {
        to.put_feature_table(t);
        ++r.feature_tables;
      }
      for (const char* kind : {"job", "process_graph"}) {
        for (const auto& e : from.record_entries(kind)) {
          to.put_record(kind, e.id, e.owner, e.doc);
          ++r.records;
        }
      }
      for (const auto& [seq, hash] : from.audit_confirmations()) {
        to.confirm_audit(seq, hash);
        ++r.audit_confirmations;
      }
    });
  });
  if (progress) progress(r.items);
  return r;
}

}  // namespace sco::catalog
