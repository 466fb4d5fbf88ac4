#include <httplib.h>

#include "server/http_server.hpp"

#include <unistd.h>

#include <atomic>
#include <map>
#include <memory>
#include <vector>
#include <mutex>
#include <optional>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include "catalog/store.hpp"
#include "core/digest.hpp"
#include "core/error.hpp"
#include "core/fair_gate.hpp"
#include "io/gdal_session.hpp"
#include "render/tile_renderer.hpp"
#include "server/features_api.hpp"
#include "server/guarded_server.hpp"
#include "security/node_state.hpp"
#include "server/intel_service.hpp"
#include "server/openeo_api.hpp"
#include "server/stac_api.hpp"
#include "server/taxii_api.hpp"
#include "server/tiles_api.hpp"
#include "security/audit.hpp"
#include "security/keys.hpp"
#include "security/tokens.hpp"

namespace sco::server {

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop = true; }

// A file of the node as the response body, read as the client takes it (Range requests included).
void send_file(httplib::Response& res, const std::string& path, const std::string& type, bool temporary = false) {
  auto file = std::make_shared<std::ifstream>(path, std::ios::binary);
  std::error_code ec;
  const auto size = static_cast<std::size_t>(std::filesystem::file_size(path, ec));
  if (temporary) std::filesystem::remove(path, ec);  // open: its bytes stay readable until the stream closes
  if (!*file || ec) {
    res.status = 500;
    res.set_content(json_text({{"code", "ServerError"}, {"description", "cannot read the file"}}), "application/json");
    return;
  }
  res.set_content_provider(size, type.c_str(), [file](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
    std::vector<char> buf(std::min<std::size_t>(length, 1 << 16));
    file->clear();
    file->seekg(static_cast<std::streamoff>(offset));
    std::size_t left = length;
    while (left > 0) {
      file->read(buf.data(), static_cast<std::streamsize>(std::min(left, buf.size())));
      const auto got = static_cast<std::size_t>(file->gcount());
      if (got == 0 || !sink.write(buf.data(), got)) return false;
      left -= got;
    }
    return true;
  });
}

void reply(httplib::Response& res, const ApiResponse& r) {
  res.status = r.status;
  for (const auto& [k, v] : r.headers) res.set_header(k, v);
  if (r.status == 204) return;
  if (!r.file.empty()) return send_file(res, r.file, r.content_type, r.file_temporary);
  res.set_content(r.body, r.content_type.c_str());
}

// Shared caches (a CDN, nginx's proxy_cache) must never hand one caller's answer to another. What
// sco answers depends on the caller only through the Authorization header: every response says so
// (Vary), and one computed for a caller with a token (who may see partners' or private
// collections) is private and not stored; anonymous answers show only public content.
// Set before the handler's work, so that refusals carry it too.
void cache_policy(const httplib::Request& req, httplib::Response& res) {
  res.set_header("Vary", "Authorization");
  if (req.has_header("Authorization")) res.set_header("Cache-Control", "private, no-store");
}

// The address clients reach the node at, for absolute links: behind a reverse proxy that says so
// (--trust-proxy), the proxy's X-Forwarded-Proto / X-Forwarded-Host.
std::string base_url(const httplib::Request& req, const ServerOptions& o) {
  std::string scheme = o.tls_cert.empty() ? "http" : "https";
  std::string host = req.get_header_value("Host");
  if (o.trust_proxy) {
    const std::string fp = req.get_header_value("X-Forwarded-Proto"), fh = req.get_header_value("X-Forwarded-Host");
    if (fp == "http" || fp == "https") scheme = fp;
    if (!fh.empty() && fh.find_first_of("/ \\\"<>") == std::string::npos) host = fh.substr(0, fh.find(','));
  }
  return scheme + "://" + (host.empty() ? fmt::format("{}:{}", o.host, o.port) : host);
}

// The client's address: the proxy's X-Forwarded-For (its last hop) when --trust-proxy.
std::string client_address(const httplib::Request& req, const ServerOptions& o) {
  if (o.trust_proxy) {
    std::string ff = req.get_header_value("X-Forwarded-For");
    if (!ff.empty()) {
      ff = ff.substr(ff.rfind(',') == std::string::npos ? 0 : ff.rfind(',') + 1);
      ff.erase(0, ff.find_first_not_of(' '));
      if (!ff.empty()) return ff;
    }
  }
  return req.remote_addr;
}
// cpp-httplib (as Debian builds it) listens with a backlog of 5: when more clients connect at once
// than the accept loop takes in, the kernel drops their handshakes and they wait a second or more
// for a retransmission (64 clients connecting together lost several requests to 3 s+ stalls). The
// listening socket is found among this process's descriptors and given the system's maximum.
void widen_listen_backlog(int port) {
  for (int fd = 0; fd < 4096; ++fd) {
    int listening = 0;
    socklen_t len = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_storage addr{};
    socklen_t alen = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) continue;
    const int bound = addr.ss_family == AF_INET    ? ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port)
                      : addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                                   : -1;
    if (bound == port) ::listen(fd, SOMAXCONN);
  }
}

// Tokens and rate limits in front of every route. A token's check is remembered while the node's
// tokens are unchanged (their version: one stat of the file, or one indexed row of the database, per
// request), so authorization costs that and a map lookup, not a read and a hash, and a revocation
// takes effect on the next request, on every replica.
class Gatekeeper {
 public:
  Gatekeeper(const ServerOptions& o, const security::NodeKeys& keys, const IntelService& intel) : o_(o), keys_(keys), intel_(intel) {}

  // Fills `caller`; false with `res` set (401 or 429) when the request must stop here.
  // How refusals are said: the STAC / Features error body, or openEO's; openEO's login route, whose
  // Authorization is the user's Basic credentials.
  enum class Dialect { kApi, kOpenEo, kOpenEoLogin, kTaxii };

  bool admit(const httplib::Request& req, httplib::Response& res, Caller& caller, Dialect dialect = Dialect::kApi) {
    const std::string auth = req.get_header_value("Authorization");
    dialect_ = dialect;
    // Addresses denied by partners' indicators (never the allow-list's) stop here.
    const std::string address = client_address(req, o_);
    if (const std::string rule = intel_.denied(address); !rule.empty()) {
      refusal_reply(res, 403, "Forbidden", fmt::format("{} is denied by rule {} (security events shared by partner nodes)", address, rule));
      audit_denied(address, rule, req.path);
      return false;
    }
    if (!auth.empty() && !(dialect == Dialect::kOpenEoLogin && auth.rfind("Basic ", 0) == 0)) {
      if (auth.rfind("Bearer ", 0) != 0) return refuse(req, res, 401, "Unauthorized", "Authorization: use Bearer TOKEN", "");
      std::string token = auth.substr(7);
      if (token.rfind("basic//", 0) == 0) token = token.substr(7);  // openEO clients send Bearer basic//TOKEN
      const std::optional<security::TokenInfo> info = check(token);
      if (!info) return refuse(req, res, 401, "Unauthorized", "the token is unknown, malformed or revoked", credential_hash(token));
      caller.role = parse_role(info->role);
      caller.token_id = info->id;
      caller.owner = info->owner;
      audit_use(req, *info);
    }
    if (o_.rate_limit > 0 && !take(caller.token_id.empty() ? "ip:" + address : "token:" + caller.token_id)) {
      res.set_header("Retry-After", "1");
      refusal_reply(res, 429, "TooManyRequests", fmt::format("more than {} requests per second", o_.rate_limit));
      audit_rate_limited(address, caller.token_id.empty() ? "" : credential_hash("sco_" + caller.token_id + "_"));
      return false;
    }
    return true;
  }

  // Token use goes to the audit log when a token is first seen by this server and then at most once
  // an hour per token (with the address and the path that used it), not on every request.
  void audit_use(const httplib::Request& req, const security::TokenInfo& info) {
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mutex_);
      auto it = used_.find(info.id);
      if (it != used_.end() && now - it->second < std::chrono::hours(1)) return;
      used_[info.id] = now;
    }
    security::audit(o_.catalog_dir, keys_, "token.used",
                    {{"token", info.id}, {"owner", info.owner}, {"role", info.role}, {"address", client_address(req, o_)}, {"path", req.path}});
  }

  void audit_refusal(const httplib::Request& req, int status, const Caller& caller, const std::string& credential = "") {
    nlohmann::json detail = {{"status", status}, {"path", req.path}, {"address", client_address(req, o_)}, {"token", caller.token_id}};
    if (!credential.empty()) detail["credential"] = credential;
    security::audit(o_.catalog_dir, keys_, "access.refused", detail);
  }

 private:
  bool refuse(const httplib::Request& req, httplib::Response& res, int status, const char* code, const std::string& why, const std::string& credential) {
    refusal_reply(res, status, code, why);
    audit_refusal(req, status, Caller{}, credential);
    return false;
  }

  // A refusal in the dialect of the route: the STAC / Features error body, openEO's, or TAXII's.
  void refusal_reply(httplib::Response& res, int status, const std::string& code, const std::string& why) {
    if (dialect_ == Dialect::kTaxii) return reply(res, TaxiiApi::error(status, code, why));
    // openEO's codes: a missing or bad token is AuthenticationRequired / TokenInvalid.
    if (dialect_ != Dialect::kApi) return reply(res, openeo_error(status, code == "Unauthorized" ? "TokenInvalid" : code, why));
    reply(res, error_response(status, code, why));
  }

  // What a presented token is known by in shared security events: a hash of its id part ("sco_ID_..."),
  // never the token itself nor its id (which the node's own records use).
  static std::string credential_hash(const std::string& token) {
    std::string id = token;
    if (token.rfind("sco_", 0) == 0) id = token.substr(0, token.find('_', 4));
    return core::sha256_hex("sco-credential:" + id).substr(0, 16);
  }

  // Rate-limit refusals are audited with how many were refused since the last entry: on the first, then
  // at most once a second, and when a source's total reaches 10, 100, 1000... (so that a short flood
  // is in the log at once): a flood costs a few entries a second, never one per request.
  void audit_rate_limited(const std::string& address, const std::string& credential) {
    const auto now = std::chrono::steady_clock::now();
    std::int64_t refused = 0;
    {
      std::lock_guard lock(mutex_);
      Limited& l = limited_[address + "|" + credential];
      if (now - l.last > std::chrono::minutes(10)) l.total = 0;  // a new episode
      ++l.count;
      ++l.total;
      bool power_of_ten = l.total >= 10;
      for (std::int64_t t = l.total; t > 1 && power_of_ten; t /= 10) power_of_ten = t % 10 == 0;
      if (l.total > 1 && now - l.last < std::chrono::seconds(1) && !power_of_ten) return;
      refused = l.count;
      l.count = 0;
      l.last = now;
    }
    nlohmann::json detail = {{"address", address}, {"refused", refused}};
    if (!credential.empty()) detail["credential"] = credential;
    security::audit(o_.catalog_dir, keys_, "rate.limited", detail);
  }

  // A denied address's requests are audited once a minute per address.
  void audit_denied(const std::string& address, const std::string& rule, const std::string& path) {
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mutex_);
      auto& last = denied_[address];
      if (last.time_since_epoch().count() != 0 && now - last < std::chrono::minutes(1)) return;
      last = now;
    }
    security::audit(o_.catalog_dir, keys_, "intel.denied", {{"address", address}, {"rule", rule}, {"path", path}});
  }

  std::optional<security::TokenInfo> check(const std::string& token) {
    const std::string version = state_->version("tokens.json");
    {
      std::lock_guard lock(mutex_);
      if (!(version == tokens_version_)) {
        tokens_.clear();
        tokens_version_ = version;
      }
      auto it = tokens_.find(token);
      if (it != tokens_.end()) return it->second;
    }
    auto info = security::check_token(o_.catalog_dir, token);
    std::lock_guard lock(mutex_);
    if (tokens_.size() > 10000) tokens_.clear();
    if (version == tokens_version_) tokens_[token] = info;  // not when the file changed meanwhile
    return info;
  }

  // A token bucket per caller: `rate_limit` per second, bursts up to twice that; shared by the
  // replicas of a node whose state is in PostgreSQL.
  // While the database is lost, this process's own buckets limit instead: routes that do not need
  // the database (health, cached tiles) stay up.
  bool take(const std::string& key) {
    try {
      return state_->take(key, o_.rate_limit, 2.0 * o_.rate_limit);
    } catch (const core::Error& e) {
      if (e.code() != core::ErrorCode::kUnavailable) throw;
      return security::folder_state(o_.catalog_dir)->take(key, o_.rate_limit, 2.0 * o_.rate_limit);
    }
  }

  static thread_local Dialect dialect_;
  const ServerOptions& o_;
  const security::NodeKeys& keys_;
  const IntelService& intel_;
  std::mutex mutex_;
  struct Limited {
    std::int64_t count = 0, total = 0;  // since the last entry; in this episode
    std::chrono::steady_clock::time_point last;
  };
  std::map<std::string, Limited> limited_;
  std::map<std::string, std::chrono::steady_clock::time_point> denied_;
  const std::shared_ptr<security::NodeState> state_ = security::node_state(o_.catalog_dir);
  std::string tokens_version_;
  std::map<std::string, std::optional<security::TokenInfo>> tokens_;
  std::map<std::string, std::chrono::steady_clock::time_point> used_;  // token id -> last audited use
};

thread_local Gatekeeper::Dialect Gatekeeper::dialect_ = Gatekeeper::Dialect::kApi;

}  // namespace

namespace {

// What the routes serve from: one of each per server.
struct Services {
  const ServerOptions& o;
  Gatekeeper& gate;
  catalog::CatalogStore& store;
  StacApi& stac;
  FeaturesApi& features;
  TilesApi& tiles;
  OpenEoApi& openeo;
  TaxiiApi& taxii;
  core::FairGate& api_gate;  // STAC and Features requests, in arrival order
};

// The request as the APIs read it (the caller is filled by the gatekeeper).
void fill_request(ApiRequest& r, const Services& s, const httplib::Request& req) {
  r.method = req.method;
  r.path = req.path;
  for (const auto& [k, v] : req.params) r.query[k] = v;
  r.body = req.body;
  r.base_url = base_url(req, s.o);
}

// STAC and Features: one snapshot of the catalog per request, so that the caller's rights and what
// is served agree.
void api_route(Services& s, const httplib::Request& req, httplib::Response& res) {
  ApiRequest r;
  cache_policy(req, res);
  if (!s.gate.admit(req, res, r.caller)) return;
  fill_request(r, s, req);
  if (req.path.find("..") != std::string::npos) {
    reply(res, error_response(400, "BadRequest", "'..' is not allowed in paths"));
    return;
  }
  ApiResponse a;
  {
    const core::FairGate::Pass pass(s.api_gate);
    s.store.read_snapshot([&] { a = r.path.rfind("/features", 0) == 0 ? s.features.handle(r) : s.stac.handle(r); });
  }
  if (a.status == 401 || a.status == 403) s.gate.audit_refusal(req, a.status, r.caller);
  reply(res, a);
}

const char* media_type_of(const std::string& path) {
  const std::string ext = std::filesystem::path(path).extension().string();
  return ext == ".html" ? "text/html; charset=utf-8" : ext == ".json" ? "application/json" : ext == ".geojson" ? "application/geo+json"
         : ext == ".csv" ? "text/csv" : ext == ".tif" ? "image/tiff; application=geotiff" : ext == ".gpkg" ? "application/geopackage+sqlite3"
         : "application/octet-stream";
}

// The run outputs behind the district tables: reports and downloads.
void output_route(Services& s, const httplib::Request& req, httplib::Response& res) {
  Caller caller;
  cache_policy(req, res);
  if (!s.gate.admit(req, res, caller)) return;
  std::string path;
  ApiResponse check;
  s.store.read_snapshot([&] { check = s.features.output_file(req.matches[1], req.matches[2], path, caller); });
  if (check.status != 200) {
    if (check.status == 401 || check.status == 403) s.gate.audit_refusal(req, check.status, caller);
    reply(res, check);
    return;
  }
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  res.set_content(ss.str(), media_type_of(path));
}

// Item assets, streamed from their files; httplib answers Range requests (206) on content providers
// of known length, which GDAL's /vsicurl/ and resumed syncs rely on.
void asset_route(Services& s, const httplib::Request& req, httplib::Response& res) {
  Caller caller;
  cache_policy(req, res);
  if (!s.gate.admit(req, res, caller)) return;
  std::string path, type;
  ApiResponse check;
  s.store.read_snapshot([&] { check = s.stac.asset_file(req.matches[1], req.matches[2], req.matches[3], caller, path, type); });
  if (check.status != 200) {
    if (check.status == 401 || check.status == 403) s.gate.audit_refusal(req, check.status, caller);
    reply(res, check);
    return;
  }
  send_file(res, path, type);}

void tile_route(Services& s, const httplib::Request& req, httplib::Response& res) {
  ApiRequest r;
  cache_policy(req, res);
  if (!s.gate.admit(req, res, r.caller)) return;
  r.path = req.path;
  for (const auto& [k, v] : req.params) r.query[k] = v;
  r.base_url = base_url(req, s.o);
  ApiResponse a;
  s.store.read_snapshot([&] { a = s.tiles.handle(r, req.target); });
  if (a.status == 401 || a.status == 403) s.gate.audit_refusal(req, a.status, r.caller);
  res.status = a.status;
  res.set_content(a.body, a.content_type.c_str());
  // Public tiles may be kept by shared caches for an hour.
  if (a.status == 200 && a.content_type == "image/png" && !req.has_header("Authorization")) res.set_header("Cache-Control", "public, max-age=3600");
}

// The openEO API: its own error format; the login route reads Basic credentials.
void openeo_route(Services& s, const httplib::Request& req, httplib::Response& res) {
  ApiRequest r;
  cache_policy(req, res);
  const bool login = req.path == "/openeo/1.2/credentials/basic";
  if (!s.gate.admit(req, res, r.caller, login ? Gatekeeper::Dialect::kOpenEoLogin : Gatekeeper::Dialect::kOpenEo)) return;
  fill_request(r, s, req);
  ApiResponse a;
  const std::string authorization = login ? req.get_header_value("Authorization") : "";
  if (OpenEoApi::writes_records(req.path)) {
    a = s.openeo.handle(r, authorization);  // jobs and process graphs: each read sees the latest commit
  } else {
    const core::FairGate::Pass pass(s.api_gate);
    s.store.read_snapshot([&] { a = s.openeo.handle(r, authorization); });
  }
  if (a.status == 401 || a.status == 403) s.gate.audit_refusal(req, a.status, r.caller);
  reply(res, a);
}

// TAXII 2.1: its media type and error messages.
void taxii_route(Services& s, const httplib::Request& req, httplib::Response& res) {
  ApiRequest r;
  cache_policy(req, res);
  if (!s.gate.admit(req, res, r.caller, Gatekeeper::Dialect::kTaxii)) return;
  fill_request(r, s, req);
  ApiResponse a;
  {
    const core::FairGate::Pass pass(s.api_gate);  // pages are built in arrival order, a few at a time
    a = s.taxii.handle(r, req.get_header_value("Accept"), req.get_header_value("Content-Type"));
  }
  if (a.status == 401 || a.status == 403) s.gate.audit_refusal(req, a.status, r.caller);
  // Pages of objects are large: their body is moved into the response, not copied.
  res.status = a.status;
  for (const auto& [k, v] : a.headers) res.set_header(k, v);
  res.set_header("Content-Type", a.content_type);
  res.body = std::move(a.body);
}

struct Route {
  const char* method;
  const char* pattern;
  void (*handler)(Services&, const httplib::Request&, httplib::Response&);
};

// The node's routes (the OpenAPI document at /api describes them).
const std::vector<Route>& route_table() {
  static const std::vector<Route> routes = {
      {"GET", R"(/stac(/.*)?)", api_route},
      {"POST", R"(/stac(/.*)?)", api_route},
      {"GET", R"(/features(/.*)?)", api_route},
      {"GET", R"(/outputs/([^/]+)/([^/]+))", output_route},
      {"GET", R"(/assets/([^/]+)/([^/]+)/([^/]+))", asset_route},
      {"GET", R"(/tiles/.*)", tile_route},
      {"GET", R"(/\.well-known/openeo)", openeo_route},
      {"GET", R"(/openeo/1\.2(/.*)?)", openeo_route},
      {"POST", R"(/openeo/1\.2/.*)", openeo_route},
      {"PUT", R"(/openeo/1\.2/.*)", openeo_route},
      {"PATCH", R"(/openeo/1\.2/.*)", openeo_route},
      {"DELETE", R"(/openeo/1\.2/.*)", openeo_route},
      {"GET", R"(/taxii2(/.*)?)", taxii_route},
      {"POST", R"(/taxii2(/.*)?)", taxii_route},
      {"PUT", R"(/taxii2/.*)", taxii_route},
      {"DELETE", R"(/taxii2/.*)", taxii_route},
  };
  return routes;
}

// Timeouts, default headers, the check of Content-Length, the access log, and the error replies.
void configure(httplib::Server& svr, const ServerOptions& o, int pool) {
  svr.new_task_queue = [pool] { return new httplib::ThreadPool(static_cast<std::size_t>(pool)); };
  svr.set_tcp_nodelay(true);  // small JSON answers must not wait for delayed ACKs
  svr.set_keep_alive_max_count(1000);
  svr.set_keep_alive_timeout(5);
  svr.set_read_timeout(o.timeout_seconds, 0);
  svr.set_write_timeout(o.timeout_seconds, 0);
  svr.set_payload_max_length(o.max_body_bytes);
  svr.set_default_headers({{"Access-Control-Allow-Origin", "*"}, {"Access-Control-Allow-Headers", "Content-Type, Authorization"},
                           {"Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS"},
                           {"Access-Control-Expose-Headers", "Location, OpenEO-Identifier, OpenEO-Costs, Link"}, {"Server", "sco"}});
  // Each request's time from routing to the end of its response, in ms (a connection is served by
  // one thread at a time, so the start is kept per thread).
  static thread_local std::chrono::steady_clock::time_point t_start;
  svr.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    t_start = std::chrono::steady_clock::now();
    // Content-Length must be a plain decimal count: anything else ("-1", "1e3", two values) is
    // answered at once and the connection closed, as its body cannot be delimited.
    if (req.has_header("Content-Length")) {
      const std::string v = req.get_header_value("Content-Length");
      const bool digits = !v.empty() && v.size() <= 19 && v.find_first_not_of("0123456789") == std::string::npos;
      if (!digits || req.get_header_value_count("Content-Length") != 1) {
        GuardedServer::close_after_response();
        res.set_header("Connection", "close");
        reply(res, error_response(400, "BadRequest", fmt::format("Content-Length: '{}' is not a byte count", v)));
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  if (o.access_log) {
    svr.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_start).count();
      std::fprintf(stderr, "%s \"%s %s\" %d %zu %.1fms\n", req.remote_addr.c_str(), req.method.c_str(), req.target.c_str(), res.status,
                   res.body.size(), ms);
    });
  }
  svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const core::Error& e) {
      reply(res, error_response(e));
    } catch (const std::exception& e) {
      reply(res, error_response(500, "ServerError", e.what()));
    } catch (...) {
      reply(res, error_response(500, "ServerError", "internal error"));
    }
  });
  svr.set_error_handler([&o](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;  // an API's own error
    if (res.status == 400 || res.status == 413 || res.status == 414) {
      // After httplib refused a malformed request, what follows on the connection cannot be trusted
      // to start a new request (an unread body, the rest of a long line): the connection ends here.
      GuardedServer::close_after_response();
      res.set_header("Connection", "close");
    }
    // httplib's own refusals, each said in words (a malformed request has no method or path to name).
    std::string code = "Error", why = fmt::format("{} {}: status {}", req.method, req.path, res.status);
    switch (res.status) {
      case 400: code = "BadRequest", why = "the request is malformed (request line, headers or body)"; break;
      case 404: code = "NotFound", why = fmt::format("{} {}: no such resource", req.method, req.path); break;
      case 405: code = "MethodNotAllowed", why = fmt::format("{} is not allowed on {}", req.method, req.path); break;
      case 413: code = "PayloadTooLarge", why = fmt::format("the request body is larger than {} bytes", o.max_body_bytes); break;
      case 414: code = "URITooLong", why = "the request line is longer than 8192 bytes"; break;
      case 416: code = "RangeNotSatisfiable", why = "the requested byte range lies outside the file"; break;
      default: break;
    }
    if (req.path.rfind("/taxii2", 0) == 0) return reply(res, TaxiiApi::error(res.status, code, why));
    reply(res, error_response(res.status, code, why));
  });
}

void add_routes(httplib::Server& svr, Services& s) {
  svr.Options(R"(/.*)", [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  svr.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content(R"({"status":"ok"})", "application/json"); });
  svr.Get("/api", [&s](const httplib::Request& req, httplib::Response& res) {
    res.set_content(openapi_json(base_url(req, s.o)), "application/vnd.oai.openapi+json;version=3.0");
  });
  for (const Route& r : route_table()) {
    auto h = [&s, handler = r.handler](const httplib::Request& req, httplib::Response& res) { handler(s, req, res); };
    const std::string_view m = r.method;
    if (m == "GET") svr.Get(r.pattern, h);
    else if (m == "POST") svr.Post(r.pattern, h);
    else if (m == "PUT") svr.Put(r.pattern, h);
    else if (m == "PATCH") svr.Patch(r.pattern, h);
    else if (m == "DELETE") svr.Delete(r.pattern, h);
  }
  if (!s.o.web_dir.empty() && std::filesystem::is_directory(s.o.web_dir)) {
    svr.set_mount_point("/", s.o.web_dir);  // httplib refuses paths that leave the folder
  } else {
    svr.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("<!DOCTYPE html><title>sco</title><p>The web map is not built (web/dist): run scripts/build.sh. "
                      "APIs: <a href=\"/stac\">/stac</a>, <a href=\"/features\">/features</a>, <a href=\"/api\">/api</a>.</p>",
                      "text/html; charset=utf-8");
    });
  }
}

// The TLS context when a certificate and key are given (both, as files), else null.
SSL_CTX* tls_of(const ServerOptions& o) {
  if (o.tls_cert.empty() && o.tls_key.empty()) return nullptr;
  if (o.tls_cert.empty() || o.tls_key.empty()) core::fail(core::ErrorCode::kInvalidInput, "HTTPS needs both --tls-cert and --tls-key");
  for (const auto& [opt, file] : {std::pair{"--tls-cert", o.tls_cert}, std::pair{"--tls-key", o.tls_key}}) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) core::fail(core::ErrorCode::kNotFound, "{}: no file '{}'", opt, file);
  }
  return tls_context(o.tls_cert, o.tls_key);
}

// Binds, says where, and serves until SIGTERM or SIGINT.
void listen(httplib::Server& svr, const ServerOptions& o, const std::function<void(int)>& on_listening) {
  g_stop = false;
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  int port = o.port;
  if (port == 0) {
    port = svr.bind_to_any_port(o.host.c_str());
    if (port < 0) core::fail(core::ErrorCode::kIo, "cannot listen on {}: no free port", o.host);
  } else if (!svr.bind_to_port(o.host.c_str(), port)) {
    core::fail(core::ErrorCode::kIo, "cannot listen on {}:{} (in use, or not an address of this machine)", o.host, port);
  }
  widen_listen_backlog(port);
  std::thread watcher([&svr] {
    while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    svr.stop();
  });
  if (on_listening) on_listening(port);
  svr.listen_after_bind();
  g_stop = true;
  watcher.join();
}

}  // namespace

void serve(const ServerOptions& o, const std::function<void(int)>& on_listening) {
  io::init_gdal();
  auto store = catalog::open_node_store(o.catalog_dir);  // fails at start-up on a locked or corrupt catalog
  const auto keys = security::NodeKeys::load_or_create(o.catalog_dir);
  intel::DeriveOptions derive = o.intel;
  derive.node_name = keys.public_key().name;
  derive.key_id = keys.public_key().key_id();
  IntelService intel(o.catalog_dir, keys, derive);
  Gatekeeper gate(o, keys, intel);
  StacApi stac(*store);
  core::FairGate api_gate(2 * std::max(1u, std::thread::hardware_concurrency()));
  FeaturesApi features(*store);
  // Three quarters to the decoded blocks shared by the rendering slots (nearest, bilinear), a quarter
  // to GDAL's per-handle block cache (its warper: cubic, average, mode).
  render::set_block_cache_bytes(o.raster_cache_bytes / 4 * 3);
  io::set_gdal_cache_bytes(o.raster_cache_bytes / 4);
  TilesApi tiles(*store, o.tile_cache_bytes);
  const std::uint64_t ram = static_cast<std::uint64_t>(::sysconf(_SC_PHYS_PAGES)) * static_cast<std::uint64_t>(::sysconf(_SC_PAGE_SIZE));
  SSL_CTX* tls = tls_of(o);
  const int threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const OpenEoLimits openeo_limits = o.openeo.sized(ram, threads);
  if (o.slurm) {
    if (const std::string why = SlurmClient(*o.slurm).check(); !why.empty()) {
      core::fail(core::ErrorCode::kUnavailable, "--executor slurm: Slurm does not answer here: {}", why);
    }
  }
  JobService jobs(*store, o.catalog_dir, openeo_limits, threads, o.slurm);
  OpenEoApi openeo(*store, o.catalog_dir, openeo_limits, threads, &jobs);
  // A keep-alive connection holds one pool thread: the pool bounds open connections, the cores
  // bound the work (threads waiting on a socket cost a stack, no CPU). 64 threads per core, at least
  // 256; one address may hold three quarters of them (a client's 64 connections reopened while its
  // previous 64 still close stay far within it), the rest is kept for everyone else.
  const int pool = std::max(threads * 64, 256);
  ConnectionLimits limits{.request_seconds = o.request_timeout_seconds,
                          .per_address = o.trust_proxy ? 0 : o.max_connections_per_address > 0 ? o.max_connections_per_address : pool - pool / 4};
  auto server = std::make_unique<GuardedServer>(limits, tls);
  if (tls) SSL_CTX_free(tls);  // the server holds its own reference
  configure(*server, o, pool);
  TaxiiApi taxii(intel.store(), o.catalog_dir, keys, {.max_content_length = o.max_body_bytes});
  intel.start(&taxii);
  // The refreshing thread hands the allow-list to `taxii`: it ends before `taxii` goes away, also
  // when listening fails.
  struct StopIntel {
    IntelService& intel;
    ~StopIntel() { intel.stop(); }
  } stop_intel{intel};
  Services services{o, gate, *store, stac, features, tiles, openeo, taxii, api_gate};
  add_routes(*server, services);
  listen(*server, o, on_listening);
}

}  // namespace sco::server
