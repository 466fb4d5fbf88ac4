#include "catalog/pg_node_state.hpp"

#include <algorithm>
#include <atomic>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "catalog/pg_connection.hpp"
#include "catalog/store.hpp"
#include "core/error.hpp"

namespace sco::catalog {

using core::ErrorCode;
using nlohmann::json;

namespace {

class PgNodeState : public security::NodeState {
 public:
  explicit PgNodeState(const std::string& uri) : pool_(uri) {}

  json load(const std::string& name) const override {
    pg::Lease c(pool_);
    const pg::Result r = pool_.exec(c.conn, "SELECT doc FROM node_docs WHERE name = $1", {name});
    return r.rows() ? json::parse(r.text(0, 0)) : json::array();
  }

  void change(const std::string& name, const std::function<void(json&)>& edit) override {
    in_transaction([&](PGconn* c) {
      pool_.exec(c, "INSERT INTO node_docs(name, doc, version) VALUES ($1, '[]', 0) ON CONFLICT (name) DO NOTHING", {name});
      json doc = json::parse(pool_.exec(c, "SELECT doc FROM node_docs WHERE name = $1 FOR UPDATE", {name}).text(0, 0));
      edit(doc);
      pool_.exec(c, "UPDATE node_docs SET doc = $2, version = version + 1 WHERE name = $1", {name, doc.dump()});
    });
  }

  std::string version(const std::string& name) const override {
    pg::Lease c(pool_);
    const pg::Result r = pool_.exec(c.conn, "SELECT version FROM node_docs WHERE name = $1", {name});
    return r.rows() ? r.text(0, 0) : "none";
  }

  // Trusted keys: the document "trust" ([{"name", "text"}], by name).
  std::vector<std::pair<std::string, std::string>> trusted() const override {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& k : load("trust")) out.emplace_back(k.value("name", ""), k.value("text", ""));
    std::sort(out.begin(), out.end());
    return out;
  }

  void trust(const std::string& name, const std::string& text, const std::function<void(const std::string&)>& check) override {
    change("trust", [&](json& all) {
      for (auto& k : all) {
        if (k.value("name", "") != name) continue;
        check(k.value("text", ""));
        k["text"] = text;
        return;
      }
      check("");
      all.push_back({{"name", name}, {"text", text}});
    });
  }

  void append_audit(const std::function<AuditAppend(const std::string&)>& make) override {
    in_transaction([&](PGconn* c) {
      pool_.exec(c, "SELECT pg_advisory_xact_lock(hashtext('sco audit log'))", {});
      const pg::Result last = pool_.exec(c, "SELECT line FROM audit_log ORDER BY seq DESC LIMIT 1", {});
      const AuditAppend next = make(last.rows() ? last.text(0, 0) : "");
      const json entry = json::parse(next.line, nullptr, false);
      if (entry.is_discarded() || !entry.contains("seq")) core::fail(ErrorCode::kInternal, "an audit entry without its seq");
      pool_.exec(c, "INSERT INTO audit_log(seq, line) VALUES ($1, $2)", {entry["seq"].dump(), next.line});
      pool_.exec(c, "INSERT INTO audit_head(id, head) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET head = excluded.head", {next.head});
    });
  }

  std::vector<std::string> audit_lines(std::uint64_t& position) const override {
    pg::Lease c(pool_);
    const pg::Result r = pool_.exec(c.conn, "SELECT seq, line FROM audit_log WHERE seq >= $1 ORDER BY seq", {std::to_string(position)});
    std::vector<std::string> lines;
    for (int i = 0; i < r.rows(); ++i) {
      lines.push_back(r.text(i, 1));
      position = static_cast<std::uint64_t>(r.integer(i, 0)) + 1;
    }
    return lines;
  }

  std::optional<std::string> audit_head() const override {
    pg::Lease c(pool_);
    const pg::Result r = pool_.exec(c.conn, "SELECT head FROM audit_head WHERE id = 1", {});
    if (r.rows() == 0) return std::nullopt;
    return r.text(0, 0);
  }

  std::uint64_t audit_end() const override {
    pg::Lease c(pool_);
    return static_cast<std::uint64_t>(pool_.exec(c.conn, "SELECT coalesce(max(seq) + 1, 0) FROM audit_log", {}).integer(0, 0));
  }

  std::string audit_location() const override { return "the audit log of " + pool_.shown(); }

  // One statement: the bucket refilled for the time since its last request and one taken when there
  // is one; a refused request leaves the bucket as it was. Buckets idle for a minute are full again:
  // every thousandth request removes them.
  bool take(const std::string& key, double rate, double burst) override {
    pg::Lease c(pool_);
    if (++takes_ % 1000 == 0) pool_.exec(c.conn, "DELETE FROM rate_buckets WHERE at < clock_timestamp() - interval '1 minute'", {});
    const std::string r = fmt::format("{:.17g}", rate), b = fmt::format("{:.17g}", burst);
    return pool_
               .exec(c.conn,
                     "INSERT INTO rate_buckets AS k (key, tokens, at) VALUES ($1, $3::float8 - 1, clock_timestamp()) "
                     "ON CONFLICT (key) DO UPDATE SET tokens = least($3::float8, k.tokens + extract(epoch FROM clock_timestamp() - k.at) * $2::float8) - 1, "
                     "at = clock_timestamp() WHERE least($3::float8, k.tokens + extract(epoch FROM clock_timestamp() - k.at) * $2::float8) >= 1 "
                     "RETURNING 1",
                     {key, r, b})
               .rows() == 1;
  }

 private:
  void in_transaction(const std::function<void(PGconn*)>& work) {
    pg::Lease c(pool_);
    pool_.exec(c.conn, "BEGIN", {});
    try {
      work(c.conn);
    } catch (...) {
      PQclear(PQexec(c.conn, "ROLLBACK"));
      throw;
    }
    pool_.exec(c.conn, "COMMIT", {});
  }

  pg::Pool pool_;
  std::atomic<std::uint64_t> takes_{0};
};

}  // namespace

std::shared_ptr<security::NodeState> open_postgres_node_state(const std::string& uri) {
  open_postgres_store(uri);  // the schema, created or migrated
  return std::make_shared<PgNodeState>(uri);
}

security::NodeStateResolver node_state_in_catalog() {
  return [](const std::string& dir) -> std::shared_ptr<security::NodeState> {
    const std::string uri = node_catalog_uri(dir);
    return uri.empty() ? nullptr : open_postgres_node_state(uri);
  };
}

std::shared_ptr<security::NodeState> location_node_state(const std::string& location) {
  return is_postgres_uri(location) ? open_postgres_node_state(location) : security::folder_state(location);
}

}  // namespace sco::catalog
