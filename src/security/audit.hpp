#pragma once
// The append-only, hash-chained audit log (DIR/audit.log, one JSON entry per line):
//   {"seq": N, "time": ..., "event": ..., "detail": {...}, "prev": HASH(N-1), "hash": SHA-256 of the
//    entry's RFC 8785 canonical JSON without "hash"}
// and DIR/audit.head, the last entry's seq and hash signed by the node key, so that removing entries
// at the end is detected too. Appends take an exclusive lock and are flushed before returning.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sco::security {

class NodeKeys;

void audit(const std::string& dir, const NodeKeys& keys, const std::string& event, const nlohmann::json& detail);

struct AuditCheck {
  bool ok = true;
  std::size_t entries = 0;
  std::vector<std::string> problems;  // "line 7: ..." for each broken link
};
AuditCheck verify_audit(const std::string& dir);
std::vector<std::string> audit_tail(const std::string& dir, std::size_t n);

}  // namespace sco::security
