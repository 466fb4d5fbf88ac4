#pragma once
// What moves between the audit log, the intel store and partners:
//   - derive_from_audit: the audit log's entries since the last call, through the Deriver, signed by
//     the node and stored in the collections of their sharing level and every more restricted one;
//   - accept_objects: objects arriving from a partner (a pull, or a POST to the inbound collection),
//     each checked (STIX 2.1 forms, signature by a trusted key) before any is stored: one failure and
//     nothing is; the indicators of addresses become deny rules unless they touch the allow-list;
//   - the collections: one per sharing level and the inbound one, with ids fixed by the node's key.
#include <cstddef>
#include <functional>
#include <limits>
#include <map>
#include <unordered_map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "intel/derive.hpp"
#include "intel/intel_store.hpp"
#include "intel/net.hpp"
#include "security/keys.hpp"

namespace sco::intel {

struct CollectionInfo {
  std::string id, alias, title, description;
  bool partners_read = false, partners_write = false;
  std::optional<Level> level;  // none: the inbound collection
};
// The node's collections (alias: "white", "green", "amber", "inbound").
std::vector<CollectionInfo> collections(const std::string& key_id);

struct DeriveReport {
  std::size_t entries = 0, objects = 0;
};
DeriveReport derive_from_audit(IntelStore& store, const std::string& catalog_dir, const security::NodeKeys& keys, const DeriveOptions& options);

struct AcceptOptions {
  std::string collection;  // where the objects go
  std::string source;      // "pull from URL", "inbound from TOKEN-ID": recorded with the rules
  std::vector<Range> allow;
  double max_rule_days = 30;  // an indicator without valid_until gives a rule this long
};
struct AcceptReport {
  std::size_t stored = 0, duplicates = 0;
  std::vector<std::string> ids;           // in the order received
  std::vector<Rule> rules;                // new deny rules
  std::vector<std::string> refused_rules; // ranges kept off by the allow-list, with why
};
// Throws AcceptRejected listing every problem when any object fails; nothing is stored then.
// `also` runs inside the same transaction (e.g. the pull's new `added_after`).
AcceptReport accept_objects(IntelStore& store, const std::vector<nlohmann::json>& objects, const std::vector<security::PublicKey>& trusted,
                            const AcceptOptions& options, const std::function<void(IntelWriter&)>& also = {});

class AcceptRejected : public core::Error {
 public:
  AcceptRejected(const std::string& what, std::vector<std::string> problems)
      : core::Error(core::ErrorCode::kInvalidInput, what), problems_(std::move(problems)) {}
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

// Ranges never denied: loopback, the store's allow entries, and the addresses `hosts` resolve to.
std::vector<Range> allow_ranges(IntelStore& store, const std::vector<std::string>& hosts);

// The active deny rules (not revoked, within validity, clear of the allow-list), checked per request
// in time independent of their number: one hash lookup per distinct prefix length in use.
class DenyList {
 public:
  void load(const std::vector<Rule>& rules, const std::vector<Range>& allow, const std::string& now);
  // The rule that denies `address` ("" when none).
  std::string denied(const std::string& address) const;
  std::size_t size() const { return count_; }
  // When the earliest active rule ends (ms since 1970; max when none): the list must be loaded again then.
  std::int64_t next_expiry_ms() const { return next_expiry_ms_; }

 private:
  std::map<int, std::unordered_map<std::string, std::string>> by_prefix_;  // prefix -> masked base bytes -> rule id
  std::vector<Range> allow_;
  std::size_t count_ = 0;
  std::int64_t next_expiry_ms_ = std::numeric_limits<std::int64_t>::max();
};

}  // namespace sco::intel
