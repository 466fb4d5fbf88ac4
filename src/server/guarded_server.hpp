#pragma once
// cpp-httplib's server with sco's own connection loop (plain TCP or TLS through OpenSSL), which
// httplib's leaves out:
// - a deadline for receiving each whole request (request line, headers and body): httplib's read
//   timeout applies to each read, so a client sending one header line every few seconds held a
//   worker for as long as it liked, and about 130 of them held every worker of the pool;
// - a cap on the connections one address holds at once (the pool is shared by everyone): further
//   connections from that address get 503 at once and are closed;
// - a request handler can ask for the connection to be closed after its answer (a request whose
//   body cannot be trusted, such as one with an invalid Content-Length).
// Keep-alive, the keep-alive limit and timeout, and the write timeout stay httplib's settings.
#include <httplib.h>

#include <map>
#include <mutex>
#include <string>

#include <openssl/ssl.h>

namespace sco::server {

struct ConnectionLimits {
  int request_seconds = 20;  // to receive one whole request, from its first byte
  int per_address = 64;      // open connections per client address; 0: no cap (behind a proxy)
};

class GuardedServer : public httplib::Server {
 public:
  // TLS when `tls` is given (the server takes a reference on it).
  GuardedServer(ConnectionLimits limits, SSL_CTX* tls = nullptr);
  ~GuardedServer() override;

  // From a handler: close this connection once the current answer is sent.
  static void close_after_response();

 private:
  bool process_and_close_socket(socket_t sock) override;
  bool take_place(const std::string& address);
  void give_back(const std::string& address);

  ConnectionLimits limits_;
  SSL_CTX* tls_ = nullptr;
  std::mutex mutex_;
  std::map<std::string, int> open_;  // address -> connections
};

// An OpenSSL server context from PEM files; throws naming them when they do not load or match.
SSL_CTX* tls_context(const std::string& cert_file, const std::string& key_file);

}  // namespace sco::server
