#pragma once
// A real PostgreSQL server for the tests that need one: Debian's binaries (initdb, pg_ctl), a cluster
// of this test process in a temporary folder, run as the unprivileged `postgres` user when the tests
// run as root, on a free local port, with a fresh database per request (PostGIS created by sco). Not
// available (the reason says why) when PostgreSQL or PostGIS is not installed: tests SKIP then.
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>

namespace sco::test {

class PgCluster {
 public:
  static PgCluster& shared() {
    static PgCluster c;
    return c;
  }
  bool available() const { return why_.empty(); }
  const std::string& why() const { return why_; }
  // postgresql://sco@127.0.0.1:PORT/DB of a new, empty database.
  std::string new_database() {
    const std::string db = fmt::format("t{}", ++databases_);
    run(fmt::format("{}/psql -q -h 127.0.0.1 -p {} -U sco -d postgres -c 'CREATE DATABASE {}' >/dev/null", bin_, port_, db));
    return fmt::format("postgresql://sco@127.0.0.1:{}/{}", port_, db);
  }
  int port() const { return port_; }
  // Stops the server (the tests of a lost database); start() brings it back on the same port.
  void stop() { run(as_owner(fmt::format("{}/pg_ctl -D {}/data -m immediate -w stop >/dev/null", bin_, dir_))); }
  void start() {
    run(as_owner(fmt::format("{}/pg_ctl -D {}/data -l {}/log -w -o \"-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off "
                             "-c max_connections=200\" start >/dev/null", bin_, dir_, dir_, port_, dir_)));
  }
  ~PgCluster() {
    if (!started_) return;
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

 private:
  PgCluster() {
    for (const char* v : {"17", "16", "15", "14", "13"}) {
      const std::string b = fmt::format("/usr/lib/postgresql/{}/bin", v);
      if (std::filesystem::exists(b + "/initdb")) {
        bin_ = b;
        if (!std::filesystem::exists(fmt::format("/usr/share/postgresql/{}/extension/postgis.control", v))) {
          why_ = fmt::format("PostGIS for PostgreSQL {} is not installed (postgresql-{}-postgis-3)", v, v);
          return;
        }
        break;
      }
    }
    if (bin_.empty()) {
      why_ = "PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb)";
      return;
    }
    std::string tmpl = (std::filesystem::temp_directory_path() / "sco-pg-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    if (::geteuid() == 0) {
      const passwd* pw = ::getpwnam("postgres");
      if (!pw) {
        why_ = "running as root and there is no 'postgres' user to run PostgreSQL as";
        return;
      }
      owner_ = "postgres";
      if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        why_ = "cannot give " + dir_ + " to postgres";
        return;
      }
    }
    port_ = free_port();
    if (!run(as_owner(fmt::format("{}/initdb -D {}/data -U sco -A trust --no-sync -E UTF8 --locale=C.UTF-8 >{}/initdb.log 2>&1", bin_, dir_, dir_)))) {
      why_ = "initdb failed (see " + dir_ + "/initdb.log)";
      return;
    }
    start();
    started_ = true;
  }
  static int free_port() {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(s);
    return ntohs(a.sin_port);
  }
  std::string as_owner(const std::string& cmd) const { return owner_.empty() ? cmd : fmt::format("runuser -u {} -- sh -c '{}'", owner_, cmd); }
  static bool run(const std::string& cmd) { return std::system(cmd.c_str()) == 0; }

  std::string bin_, dir_, owner_, why_;
  int port_ = 0, databases_ = 0;
  bool started_ = false;
};

}  // namespace sco::test
