#pragma once
// sco's HTTP/1.1 server (HTTPS with a certificate and key): keep-alive, a thread pool on all cores, read/write timeouts, a body size
// limit (413), gzip for JSON when the client accepts it, CORS, an access log, JSON errors, and a
// graceful stop on SIGTERM / SIGINT (requests in flight finish).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "intel/derive.hpp"
#include "server/openeo_limits.hpp"
#include "server/slurm.hpp"

namespace sco::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 0;                  // 0: all cores
  std::string catalog_dir;
  std::string web_dir;  // the built web map (web/dist); empty or absent: no map at /
  std::size_t max_body_bytes = 1 << 20;
  int timeout_seconds = 30;          // per read and per write
  int request_timeout_seconds = 20;  // to receive one whole request (line, headers, body) from its first byte
  int max_connections_per_address = 0;  // 0: three quarters of the connection pool; with trust_proxy no cap (the proxy's job)
  double rate_limit = 5000;  // requests per second per token or address (bursts of twice); 0: no limit
  std::size_t tile_cache_bytes = 256u << 20;  // rendered tiles kept in memory
  std::size_t raster_cache_bytes = 512u << 20;  // decoded raster blocks for tiles (3/4 shared blocks, 1/4 GDAL's cache)
  bool access_log = true;
  std::string tls_cert, tls_key;  // PEM files: HTTPS (OpenSSL) when given
  bool trust_proxy = false;       // behind a reverse proxy: links and client addresses from X-Forwarded-*
  OpenEoLimits openeo;
  std::optional<SlurmOptions> slurm;  // --executor slurm: batch jobs on a Slurm cluster
  intel::DeriveOptions intel;  // bursts and indicators from the audit log (node_name, key_id filled by serve)  // synchronous limits and the batch queue (zeros: sized from the machine)
};

// Blocks until stopped by a signal. Throws naming the catalog when it cannot be opened, or the
// address when it cannot be bound.
void serve(const ServerOptions& options, const std::function<void(int port)>& on_listening = {});

}  // namespace sco::server
