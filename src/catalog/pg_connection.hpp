#pragma once
// PostgreSQL connections for the catalog's stores (libpq): URIs shown without their password, libpq's
// messages on one line, query results that throw naming the database (kUnavailable when the
// connection is lost: 503 with Retry-After), and a pool of connections reused between queries, each
// keeping its queries prepared.
#include <libpq-fe.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace sco::catalog::pg {

// The URI without its password, for messages: postgresql://USER@HOST:PORT/DB.
std::string shown(const std::string& uri);
// libpq's message as one line (it may hold several, with tabs).
std::string one_line(std::string msg);

// A query's result; throws naming the catalog when the query failed.
class Result {
 public:
  Result(PGresult* r, PGconn* c, const std::string& where);
  ~Result() {
    if (r_) PQclear(r_);
  }
  Result(Result&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  int rows() const { return PQntuples(r_); }
  bool null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
  std::string text(int row, int col) const { return std::string(PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col))); }
  std::int64_t integer(int row, int col) const { return std::stoll(text(row, col)); }
  double number(int row, int col) const { return std::stod(text(row, col)); }
  std::string affected() const { return PQcmdTuples(r_); }

 private:
  PGresult* r_;
};

// Connections to one database: borrowed for a query or a transaction, given back when idle and
// sound (at most 64 kept), made anew when none is idle. Thread-safe.
class Pool {
 public:
  explicit Pool(std::string uri);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  // Throws kUnavailable naming the database when it cannot be reached.
  PGconn* borrow() const;
  void give_back(PGconn* c) const;
  // One statement with text parameters $1..$N.
  Result exec(PGconn* c, const std::string& sql, const std::vector<std::string>& params) const;
  const std::string& shown() const { return shown_; }

 private:
  void finish(PGconn* c) const;
  // The name `sql` is prepared under on `c` (prepared now if needed), "" to run it unnamed.
  std::string statement_name(PGconn* c, const std::string& sql, int params) const;

  std::string uri_, shown_;
  mutable std::mutex mutex_;
  mutable std::vector<PGconn*> idle_;
  mutable std::unordered_map<const PGconn*, std::unordered_map<std::string, std::string>> prepared_;  // name -> text
};

// A connection borrowed from a pool for a scope.
class Lease {
 public:
  explicit Lease(const Pool& pool) : pool_(pool), conn(pool.borrow()) {}
  ~Lease() { pool_.give_back(conn); }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

 private:
  const Pool& pool_;

 public:
  PGconn* const conn;
};

}  // namespace sco::catalog::pg
