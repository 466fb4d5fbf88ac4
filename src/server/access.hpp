#pragma once
// Who may see what. Every collection has a visibility ("sco:visibility" in its document: public,
// partners or private; public when absent); callers are anonymous or hold a token with a role.
//   public    everyone          partners  partner and admin tokens          private  admin tokens
//   owner:OWNER  the tokens of that owner ("user:NAME": an openEO user's job results) and admin tokens
// Routes that name a collection the caller may not see answer 401 (no token) or 403 (a valid token
// without the right); listings and searches leave such collections out entirely (results, counts,
// links), so nothing of them leaks.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sco::server {

enum class Role { kAnonymous, kReader, kPartner, kAdmin };

struct Caller {
  Role role = Role::kAnonymous;
  std::string token_id;
  std::string owner;  // who holds the token ("user:NAME" for a login's)
};

Role parse_role(const std::string& role);
std::string visibility_of(const nlohmann::json& collection);
bool may_see(const Caller& caller, const std::string& visibility);
// 401 or 403 for a collection the caller may not see.
int refusal_status(const Caller& caller);

}  // namespace sco::server
