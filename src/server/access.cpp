#include "server/access.hpp"

namespace sco::server {

Role parse_role(const std::string& role) {
  if (role == "admin") return Role::kAdmin;
  if (role == "partner") return Role::kPartner;
  if (role == "reader") return Role::kReader;
  return Role::kAnonymous;
}

std::string visibility_of(const nlohmann::json& collection) { return collection.value("sco:visibility", std::string("public")); }

bool may_see(const Caller& caller, const std::string& visibility) {
  if (visibility == "public") return true;
  if (visibility == "partners") return caller.role == Role::kPartner || caller.role == Role::kAdmin;
  // "owner:OWNER": one user's (an openEO user's job results), and admins'
  if (visibility.rfind("owner:", 0) == 0) return caller.role == Role::kAdmin || (!caller.owner.empty() && visibility.compare(6, std::string::npos, caller.owner) == 0);
  return caller.role == Role::kAdmin;  // private, or anything unknown
}

int refusal_status(const Caller& caller) { return caller.role == Role::kAnonymous ? 401 : 403; }

}  // namespace sco::server
