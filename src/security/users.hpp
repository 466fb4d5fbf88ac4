#pragma once
// The node's users, for the logins of the openEO API (HTTP Basic on /credentials/basic): a name, a
// role (admin, partner, reader: the token roles) and the password only as a libsodium Argon2id hash
// (crypto_pwhash_str, interactive limits) in DIR/users.json (owner-only, replaced atomically under
// a lock). A successful login hands out a token of the token system (tokens.hpp).
#include <optional>
#include <string>
#include <vector>

namespace sco::security {

struct UserInfo {
  std::string name, role, created;
};

// Throws kInvalidInput for a bad name (letters, digits, '.', '_', '-', '@'; 1-64), role or a password
// shorter than 8 bytes, and for a name already taken.
void add_user(const std::string& dir, const std::string& name, const std::string& role, const std::string& password);
std::vector<UserInfo> list_users(const std::string& dir);
// Throws kNotFound for an unknown name.
void remove_user(const std::string& dir, const std::string& name);
// The user when the password is theirs (constant work whether or not the name exists).
std::optional<UserInfo> check_password(const std::string& dir, const std::string& name, const std::string& password);

// The owner recorded on the tokens a user's logins are given: "user:NAME".
inline std::string login_owner(const std::string& name) { return "user:" + name; }

}  // namespace sco::security
