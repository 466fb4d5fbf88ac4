#include "security/users.hpp"

#include <sodium.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

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

void init() {
  if (sodium_init() < 0) core::fail(ErrorCode::kInternal, "libsodium could not be initialised");
}

json load(const std::string& dir) { return node_state(dir)->load("users.json"); }

std::string hash_password(const std::string& password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    core::fail(ErrorCode::kInternal, "hashing the password failed (out of memory)");
  }
  return out;
}

// A hash of a password nobody has, verified when the name is unknown so that a login takes as long.
const std::string& decoy_hash() {
  static const std::string h = hash_password("sco: no such user");
  return h;
}

UserInfo info_of(const json& u) { return {u.value("name", ""), u.value("role", ""), u.value("created", "")}; }

}  // namespace

void add_user(const std::string& dir, const std::string& name, const std::string& role, const std::string& password) {
  init();
  static const std::regex name_re("^[A-Za-z0-9._@-]{1,64}$");
  if (!std::regex_match(name, name_re)) core::fail(ErrorCode::kInvalidInput, "user '{}': a name is 1-64 letters, digits, '.', '_', '-' or '@'", name);
  if (role != "admin" && role != "partner" && role != "reader") core::fail(ErrorCode::kInvalidInput, "--role: '{}' is not admin, partner or reader", role);
  if (password.size() < 8) core::fail(ErrorCode::kInvalidInput, "user '{}': the password must have at least 8 characters", name);
  const std::string hash = hash_password(password);
  node_state(dir)->change("users.json", [&](json& all) {
    for (const auto& u : all) {
      if (u.value("name", "") == name) core::fail(ErrorCode::kInvalidInput, "user '{}' exists (sco user remove {} first)", name, name);
    }
    all.push_back({{"name", name}, {"role", role}, {"created", core::utc_now()}, {"argon2id", hash}});
  });
}

std::vector<UserInfo> list_users(const std::string& dir) {
  std::vector<UserInfo> out;
  for (const auto& u : load(dir)) out.push_back(info_of(u));
  return out;
}

void remove_user(const std::string& dir, const std::string& name) {
  node_state(dir)->change("users.json", [&](json& all) {
    json kept = json::array();
    for (const auto& u : all) {
      if (u.value("name", "") != name) kept.push_back(u);
    }
    if (kept.size() == all.size()) core::fail(ErrorCode::kNotFound, "no user '{}'", name);
    all = std::move(kept);
  });
}

std::optional<UserInfo> check_password(const std::string& dir, const std::string& name, const std::string& password) {
  init();
  for (const auto& u : load(dir)) {
    if (u.value("name", "") != name) continue;
    const std::string hash = u.value("argon2id", "");
    if (crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0) return info_of(u);
    return std::nullopt;
  }
  if (crypto_pwhash_str_verify(decoy_hash().c_str(), password.data(), password.size()) == 0) return std::nullopt;  // never matches
  return std::nullopt;
}

}  // namespace sco::security
