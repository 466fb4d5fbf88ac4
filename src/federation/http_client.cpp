#include "federation/http_client.hpp"

#include <fmt/format.h>
#include <httplib.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>

#include "core/error.hpp"

namespace sco::federation {

using core::ErrorCode;
using nlohmann::json;

std::string Url::origin() const {
  const bool default_port = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
  return default_port ? fmt::format("{}://{}", scheme, host) : fmt::format("{}://{}:{}", scheme, host, port);
}

Url parse_url(const std::string& text, const std::string& what) {
  static const std::regex re(R"(^(https?)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?(/[^\s#]*)?$)");
  std::smatch m;
  if (!std::regex_match(text, m, re)) core::fail(ErrorCode::kInvalidInput, "{}: '{}' is not an http:// or https:// URL", what, text);
  Url u;
  u.scheme = m[1];
  u.host = m[2];
  u.port = m[3].matched ? std::stoi(m[3]) : (u.scheme == "https" ? 443 : 80);
  if (u.port < 1 || u.port > 65535) core::fail(ErrorCode::kInvalidInput, "{}: '{}' has no valid port", what, text);
  u.path = m[4].matched ? m[4].str() : "";
  return u;
}

std::string origin_of(const std::string& text) {
  try {
    return parse_url(text).origin();
  } catch (const core::Error&) {
    return "";
  }
}

struct HttpClient::Impl {
  std::string origin;
  httplib::Client client;
  explicit Impl(const std::string& o) : origin(o), client(o) {}
};

namespace {

std::string describe_error(const httplib::Result& r) {
  switch (r.error()) {
    case httplib::Error::SSLServerVerification:
      return "the partner's TLS certificate could not be verified (give its CA or self-signed certificate with --ca-cert)";
    case httplib::Error::SSLConnection:
      return "the TLS handshake failed (is it an https:// server?)";
    case httplib::Error::Connection:
      return "cannot connect (is the partner's node running at that address?)";
    case httplib::Error::Read:
      return "the connection closed before the answer was complete";
    default:
      return httplib::to_string(r.error());
  }
}

// The server's own words when it answered with a JSON error ({"code", "description"}).
std::string server_words(const std::string& body) {
  try {
    const json j = json::parse(body);
    if (j.is_object() && j.contains("description") && j["description"].is_string()) return j["description"].get<std::string>();
  } catch (const json::exception&) {
  }
  return body.size() > 200 ? body.substr(0, 200) + "..." : body;
}

[[noreturn]] void fail_status(const std::string& url, int status, const std::string& body) {
  const std::string words = server_words(body);
  const std::string msg = fmt::format("{} answered {}{}{}", url, status, words.empty() ? "" : ": ", words);
  if (status == 404) core::fail(ErrorCode::kNotFound, "{}", msg);
  if (status == 401) core::fail(ErrorCode::kInvalidInput, "{} (the partner needs a valid token: --token)", msg);
  if (status == 403) core::fail(ErrorCode::kInvalidInput, "{} (this token may not read it; ask the partner for a partner token)", msg);
  if (status >= 400 && status < 500) core::fail(ErrorCode::kInvalidInput, "{}", msg);
  core::fail(ErrorCode::kIo, "{}", msg);
}

}  // namespace

HttpClient::HttpClient(const Url& origin, const ClientOptions& options, bool send_token) : impl_(std::make_unique<Impl>(origin.origin())) {
  auto& c = impl_->client;
  if (!c.is_valid()) core::fail(ErrorCode::kInvalidInput, "cannot make a client for '{}'", impl_->origin);
  c.set_keep_alive(true);
  c.set_tcp_nodelay(true);
  c.set_connection_timeout(options.timeout_seconds, 0);
  c.set_read_timeout(options.timeout_seconds, 0);
  c.set_write_timeout(options.timeout_seconds, 0);
  c.set_follow_location(false);  // a redirect could carry the token elsewhere
  c.set_default_headers({{"User-Agent", "sco-sync"}});
  if (send_token && !options.token.empty()) c.set_bearer_token_auth(options.token);
  if (send_token && options.token.empty() && !options.user.empty()) c.set_basic_auth(options.user, options.password);
  if (origin.scheme == "https") {
    if (!options.ca_cert.empty()) {
      std::error_code ec;
      if (!std::filesystem::is_regular_file(options.ca_cert, ec)) core::fail(ErrorCode::kNotFound, "--ca-cert: no file '{}'", options.ca_cert);
      c.set_ca_cert_path(options.ca_cert);
    }
    c.enable_server_certificate_verification(options.verify_tls);
  }
}

HttpClient::~HttpClient() = default;

json HttpClient::get_json(const std::string& target) { return get_json(target, "application/json, application/geo+json", 0, nullptr); }

json HttpClient::get_json(const std::string& target, const std::string& accept, std::size_t max_bytes, std::map<std::string, std::string>* headers) {
  const std::string url = impl_->origin + target;
  std::string body;
  bool too_large = false;
  auto r = impl_->client.Get(target, {{"Accept", accept}}, [&](const char* data, std::size_t n) {
    if (max_bytes > 0 && body.size() + n > max_bytes) {
      too_large = true;
      return false;
    }
    body.append(data, n);
    return true;
  });
  if (too_large) core::fail(ErrorCode::kInvalidInput, "{}: the answer is larger than {} bytes", url, max_bytes);
  if (!r) core::fail(ErrorCode::kIo, "{}: {}", url, describe_error(r));
  if (r->status != 200) fail_status(url, r->status, body);
  if (headers) {
    for (const auto& [k, v] : r->headers) {
      std::string key = k;
      for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      (*headers)[key] = v;
    }
  }
  try {
    return json::parse(body);
  } catch (const json::parse_error& e) {
    core::fail(ErrorCode::kInvalidInput, "{}: the answer is not JSON (byte {}: {})", url, e.byte, e.what());
  } catch (const json::exception& e) {
    core::fail(ErrorCode::kInvalidInput, "{}: the answer is not usable JSON ({})", url, e.what());
  }
}

std::uint64_t HttpClient::download(const std::string& target, const std::string& file) {
  const std::string url = impl_->origin + target;
  std::error_code ec;
  std::uint64_t have = std::filesystem::exists(file, ec) ? std::filesystem::file_size(file, ec) : 0;
  httplib::Headers headers;
  if (have > 0) headers.emplace("Range", fmt::format("bytes={}-", have));
  std::ofstream out;
  std::uint64_t received = 0;
  int status = 0;
  std::string error_body;
  auto r = impl_->client.Get(
      target, headers,
      [&](const httplib::Response& res) {
        status = res.status;
        if (status == 200 || status == 206) {
          // 200 to a range request: the server sends the whole file; start it again.
          out.open(file, std::ios::binary | (status == 206 ? std::ios::app : std::ios::trunc));
          if (status == 200) have = 0;
          return static_cast<bool>(out);
        }
        return true;  // read the error body
      },
      [&](const char* data, std::size_t n) {
        if (status != 200 && status != 206) {
          if (error_body.size() < 4096) error_body.append(data, n);
          return true;
        }
        out.write(data, static_cast<std::streamsize>(n));
        received += n;
        return static_cast<bool>(out);
      });
  out.close();
  if (status == 416 && have > 0) return 0;  // nothing left to send: the file is already whole
  if (status != 0 && status != 200 && status != 206) fail_status(url, status, error_body);
  if (!r) {
    core::fail(ErrorCode::kIo,
               "{}: transfer interrupted after {} bytes ({}); what arrived is "
               "kept and the next sync continues it",
               url, have + received, describe_error(r));
  }
  return received;
}

}  // namespace sco::federation
