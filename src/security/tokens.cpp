#include "security/tokens.hpp"

#include <sodium.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "security/node_state.hpp"

namespace sco::security {

using core::ErrorCode;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string hex(const unsigned char* p, std::size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), p, n);
  out.pop_back();
  return out;
}

std::string keyed_hash(const std::string& secret, const std::string& salt_hex) {
  unsigned char salt[32];
  std::size_t n = 0;
  sodium_hex2bin(salt, sizeof salt, salt_hex.data(), salt_hex.size(), nullptr, &n, nullptr);
  unsigned char out[32];
  crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), salt, n);
  return hex(out, sizeof out);
}

json load(const std::string& dir) { return node_state(dir)->load("tokens.json"); }

TokenInfo info_of(const json& t) {
  return {t.value("id", ""), t.value("owner", ""), t.value("role", ""), t.value("created", ""), t.value("revoked", false)};
}

}  // namespace

std::string create_token(const std::string& dir, const std::string& owner, const std::string& role, TokenInfo* info) {
  if (sodium_init() < 0) core::fail(ErrorCode::kInternal, "libsodium could not be initialised");
  if (role != "admin" && role != "partner" && role != "reader") core::fail(ErrorCode::kInvalidInput, "--role: '{}' is not admin, partner or reader", role);
  if (owner.empty()) core::fail(ErrorCode::kInvalidInput, "--owner: who holds the token");
  unsigned char id[6], secret[32], salt[32];
  randombytes_buf(id, sizeof id);
  randombytes_buf(secret, sizeof secret);
  randombytes_buf(salt, sizeof salt);
  const std::string id_hex = hex(id, sizeof id), secret_hex = hex(secret, sizeof secret), salt_hex = hex(salt, sizeof salt);
  const std::string created = core::utc_now();
  const json token = {{"id", id_hex}, {"owner", owner}, {"role", role}, {"created", created}, {"revoked", false}, {"salt", salt_hex},
                      {"hash", keyed_hash(secret_hex, salt_hex)}};
  node_state(dir)->change("tokens.json", [&](json& all) { all.push_back(token); });
  if (info) *info = info_of(token);
  return "sco_" + id_hex + "_" + secret_hex;
}

std::vector<TokenInfo> list_tokens(const std::string& dir) {
  std::vector<TokenInfo> out;
  for (const auto& t : load(dir)) out.push_back(info_of(t));
  return out;
}

void revoke_token(const std::string& dir, const std::string& id) {
  node_state(dir)->change("tokens.json", [&](json& all) {
    for (auto& t : all) {
      if (t.value("id", "") == id) {
        t["revoked"] = true;
        return;
      }
    }
    core::fail(ErrorCode::kNotFound, "no token '{}' (sco token list)", id);
  });
}

std::optional<TokenInfo> check_token(const std::string& dir, const std::string& token) {
  if (token.size() != 4 + 12 + 1 + 64 || token.rfind("sco_", 0) != 0 || token[16] != '_') return std::nullopt;
  const std::string id = token.substr(4, 12), secret = token.substr(17);
  for (const auto& t : load(dir)) {
    if (t.value("id", "") != id) continue;
    const std::string want = t.value("hash", ""), got = keyed_hash(secret, t.value("salt", ""));
    if (want.size() == got.size() && sodium_memcmp(want.data(), got.data(), want.size()) == 0 && !t.value("revoked", false)) return info_of(t);
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace sco::security
