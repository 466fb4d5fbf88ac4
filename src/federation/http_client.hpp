#pragma once
// Requests to a partner node over HTTP or HTTPS (cpp-httplib with OpenSSL): JSON documents, and file
// downloads that continue where an interrupted one stopped (Range requests). A bearer token is sent
// only to the origin it was given for, never to other hosts an asset's href may name.
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace sco::federation {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;
  int port = 0;
  std::string path;            // "/prefix/stac/..." (with the query), "" for none
  std::string origin() const;  // "https://host:port"
};
// Parses an absolute http(s) URL; throws naming `what` when it is not one.
Url parse_url(const std::string& text, const std::string& what = "URL");
// The origin (scheme://host:port) of a URL; "" when the text is not an http(s) URL.
std::string origin_of(const std::string& text);

struct ClientOptions {
  std::string token;    // Authorization: Bearer TOKEN, for requests to the client's origin only
  std::string user, password;  // or HTTP Basic (TAXII servers such as medallion), to that origin only
  std::string ca_cert;  // PEM file with the CA (or self-signed) certificate of partners' HTTPS; empty: the system's
  bool verify_tls = true;
  int timeout_seconds = 60;
};

class HttpClient {
 public:
  // One keep-alive connection to `origin`; `send_token` says whether options.token goes with requests.
  HttpClient(const Url& origin, const ClientOptions& options, bool send_token);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // GET `target` (path and query) as JSON. Throws with the URL, the status and the server's own
  // description: kNotFound for 404, kInvalidInput for 401 / 403 / 4xx, kIo for the rest.
  nlohmann::json get_json(const std::string& target);
  // GET `target` as JSON of a given media type (Accept), at most `max_bytes` of it; `headers` receives
  // the response's headers (lower-case names) when given.
  nlohmann::json get_json(const std::string& target, const std::string& accept, std::size_t max_bytes,
                          std::map<std::string, std::string>* headers);
  // Appends the bytes of `target` to `file` from the file's current size (a Range request when it is
  // not empty; a server that ignores the range restarts the file). Returns the bytes received. An
  // interrupted transfer throws kIo and leaves what arrived in `file`, to be continued.
  std::uint64_t download(const std::string& target, const std::string& file);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sco::federation
