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

// An entry's place in the chain.
struct AuditEntry {
  std::size_t seq = 0;
  std::string hash;
};

AuditEntry audit(const std::string& dir, const NodeKeys& keys, const std::string& event, const nlohmann::json& detail);

// Written ahead of a catalog transaction (`"commit": "catalog"` in the entry): the entry is durable
// before the transaction commits, and the transaction records the entry's hash beside the data it
// changes (CatalogStore::confirm_audit), so that no committed change lacks its entry and an entry
// whose transaction did not commit is known as such (see AuditCheck::written_ahead).
AuditEntry audit_ahead(const std::string& dir, const NodeKeys& keys, const std::string& event, const nlohmann::json& detail);

struct AuditCheck {
  bool ok = true;
  std::size_t entries = 0;
  std::vector<std::string> problems;  // "line 7: ..." for each broken link
  struct Ahead {
    AuditEntry entry;
    std::string event;
  };
  std::vector<Ahead> written_ahead;  // entries written ahead of a catalog transaction
};
AuditCheck verify_audit(const std::string& dir);
std::vector<std::string> audit_tail(const std::string& dir, std::size_t n);

}  // namespace sco::security
