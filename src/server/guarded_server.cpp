#include "server/guarded_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include <openssl/err.h>

#include "core/error.hpp"

namespace sco::server {

namespace {

using Clock = std::chrono::steady_clock;

thread_local bool t_close_after = false;

std::string address_of(const sockaddr_storage& a, int& port) {
  char text[INET6_ADDRSTRLEN] = "";
  port = 0;
  if (a.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
    ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
    port = ntohs(v4->sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    port = ntohs(v6->sin6_port);
  }
  return text;
}

// One connection's byte stream: reads buffered (httplib reads request lines byte by byte) and
// bounded by the request's deadline as well as the per-read timeout; TLS through OpenSSL.
class GuardedStream : public httplib::Stream {
 public:
  GuardedStream(int fd, SSL* ssl, time_t read_timeout_sec, time_t write_timeout_sec)
      : fd_(fd), ssl_(ssl), read_timeout_(std::chrono::seconds(read_timeout_sec)), write_timeout_(std::chrono::seconds(write_timeout_sec)) {}

  void set_deadline(Clock::time_point t) { deadline_ = t; }
  bool buffered() const { return pos_ < end_ || (ssl_ && SSL_pending(ssl_) > 0); }

  // Waits up to `ms` for something to read; false when nothing came or the peer closed.
  bool wait(int ms) const {
    if (buffered()) return true;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, ms) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR));
  }

  bool is_readable() const override { return buffered() || wait(remaining_ms()); }
  bool is_writable() const override {
    pollfd p{fd_, POLLOUT, 0};
    return ::poll(&p, 1, static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(write_timeout_).count())) > 0 &&
           (p.revents & POLLOUT);
  }

  ssize_t read(char* ptr, size_t size) override {
    if (pos_ == end_) {
      pos_ = end_ = 0;
      const ssize_t n = fill();
      if (n <= 0) return n;
      end_ = static_cast<std::size_t>(n);
    }
    const std::size_t n = std::min(size, end_ - pos_);
    std::memcpy(ptr, buf_ + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    if (ssl_) {
      const int n = SSL_write(ssl_, ptr, static_cast<int>(std::min<size_t>(size, 1 << 30)));
      return n > 0 ? n : -1;
    }
    ssize_t n;
    do {
      n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { ip = peer(true, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { ip = peer(false, port); }
  socket_t socket() const override { return fd_; }

 private:
  int remaining_ms() const {
    const auto left = std::min(read_timeout_, std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()));
    return static_cast<int>(std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(left).count()));
  }

  // Reads what is there into the buffer, waiting no longer than the deadline allows.
  ssize_t fill() {
    if (ssl_ && SSL_pending(ssl_) > 0) return SSL_read(ssl_, buf_, sizeof buf_);
    const int ms = remaining_ms();
    if (ms <= 0 || !wait(ms)) return -1;  // the deadline or the read timeout passed
    if (ssl_) {
      // A TLS record may arrive in pieces: the socket's own receive timeout bounds SSL_read by what
      // is left of the deadline.
      timeval tv{remaining_ms() / 1000, (remaining_ms() % 1000) * 1000};
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      const int n = SSL_read(ssl_, buf_, sizeof buf_);
      return n > 0 ? n : -1;
    }
    ssize_t n;
    do {
      n = ::recv(fd_, buf_, sizeof buf_, 0);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  std::string peer(bool remote, int& port) const {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    const int rc = remote ? ::getpeername(fd_, reinterpret_cast<sockaddr*>(&a), &len) : ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    if (rc != 0) {
      port = 0;
      return "";
    }
    return address_of(a, port);
  }

  int fd_;
  SSL* ssl_;
  std::chrono::milliseconds read_timeout_, write_timeout_;
  Clock::time_point deadline_ = Clock::time_point::max();
  char buf_[16384];
  std::size_t pos_ = 0, end_ = 0;
};

constexpr const char kBusy[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 95\r\n\r\n"
    R"json({"code":"TooManyConnections","description":"too many open connections from this address (503)"})json";

}  // namespace

GuardedServer::GuardedServer(ConnectionLimits limits, SSL_CTX* tls) : limits_(limits), tls_(tls) {
  if (tls_) SSL_CTX_up_ref(tls_);
}

GuardedServer::~GuardedServer() {
  if (tls_) SSL_CTX_free(tls_);
}

void GuardedServer::close_after_response() { t_close_after = true; }

bool GuardedServer::take_place(const std::string& address) {
  if (limits_.per_address <= 0) return true;
  std::lock_guard lock(mutex_);
  int& n = open_[address];
  if (n >= limits_.per_address) return false;
  ++n;
  return true;
}

void GuardedServer::give_back(const std::string& address) {
  if (limits_.per_address <= 0) return;
  std::lock_guard lock(mutex_);
  if (auto it = open_.find(address); it != open_.end() && --it->second <= 0) open_.erase(it);
}

bool GuardedServer::process_and_close_socket(socket_t sock) {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  int port = 0;
  const std::string address = ::getpeername(sock, reinterpret_cast<sockaddr*>(&a), &len) == 0 ? address_of(a, port) : std::string();
  if (!take_place(address)) {
    (void)!::send(sock, kBusy, sizeof kBusy - 1, MSG_NOSIGNAL);
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return false;
  }
  const int read_ms = static_cast<int>(read_timeout_sec_ * 1000 + read_timeout_usec_ / 1000);
  SSL* ssl = nullptr;
  bool ok = true;
  if (tls_) {
    ssl = SSL_new(tls_);
    // The handshake is part of the first request's time.
    const int ms = std::min(read_ms, limits_.request_seconds * 1000);
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    ::setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ok = ssl && SSL_set_fd(ssl, sock) == 1 && SSL_accept(ssl) == 1;
  }
  if (ok) {
    GuardedStream stream(sock, ssl, read_timeout_sec_, write_timeout_sec_);
    for (std::size_t left = keep_alive_max_count_; left > 0 && svr_sock_ != INVALID_SOCKET; --left) {
      // Idle between requests: up to the keep-alive timeout, watching for the server's stop.
      bool ready = false;
      for (auto idle = Clock::now() + std::chrono::seconds(keep_alive_timeout_sec_); !ready && Clock::now() < idle && svr_sock_ != INVALID_SOCKET;) {
        ready = stream.wait(100);
      }
      if (!ready) break;
      stream.set_deadline(Clock::now() + std::chrono::seconds(limits_.request_seconds));
      t_close_after = false;
      bool closed = false;
      ok = process_request(stream, left == 1, closed, nullptr);
      if (!ok || closed || t_close_after) break;
    }
  }
  if (ssl) {
    if (ok) SSL_shutdown(ssl);
    SSL_free(ssl);
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  give_back(address);
  return ok;
}

SSL_CTX* tls_context(const std::string& cert_file, const std::string& key_file) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) core::fail(core::ErrorCode::kInternal, "OpenSSL: cannot create a TLS context");
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1 || SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    SSL_CTX_free(ctx);
    ERR_clear_error();
    core::fail(core::ErrorCode::kInvalidInput, "--tls-cert '{}' / --tls-key '{}': not a PEM certificate and its matching private key", cert_file,
               key_file);
  }
  return ctx;
}

}  // namespace sco::server
