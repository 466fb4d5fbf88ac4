#pragma once
// API tokens: "sco_ID_SECRET", random (libsodium), shown once; stored in DIR/tokens.json only as a
// keyed BLAKE2b hash of the secret with a random per-token salt. Roles: admin, partner, reader.
#include <optional>
#include <string>
#include <vector>

namespace sco::security {

struct TokenInfo {
  std::string id, owner, role, created;
  bool revoked = false;
};

// Returns the token text (the only time it exists in clear) and records its hash.
std::string create_token(const std::string& dir, const std::string& owner, const std::string& role, TokenInfo* info = nullptr);
std::vector<TokenInfo> list_tokens(const std::string& dir);
void revoke_token(const std::string& dir, const std::string& id);
// The token's record when it is valid and not revoked.
std::optional<TokenInfo> check_token(const std::string& dir, const std::string& token);

}  // namespace sco::security
