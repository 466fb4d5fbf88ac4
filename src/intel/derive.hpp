#pragma once
// Security events of the audit log as STIX 2.1 objects. A pure translation, no I/O: entries go in in
// log order, objects come out, and what must be remembered between runs (open bursts) is a JSON
// state. The same log always gives the same objects (ids from the entries' hashes, times from theirs).
//   - a burst: refusals of one kind from one source, each within `burst_gap_seconds` of the previous.
//     Refused authentications (401, "access.refused") and rate-limit refusals ("rate.limited"). At
//     `burst_min` refusals the burst becomes an observed-data (the address, the presented tokens' id
//     hashes as user-accounts) and a sighting of its attack-pattern (CAPEC-112 Brute Force, CAPEC-125
//     Flooding) where the node saw it; new versions at twice, four times... as many; at
//     `indicator_min` an indicator ([ipv4-addr:value = '...']) valid `indicator_hours`, with
//     relationships to the attack-pattern (indicates) and the observed-data (based-on);
//   - a rejected sync ("sync.rejected"): the partner's URL observed, a sighting of CAPEC-473 Signature
//     Spoof (bad or untrusted signatures), CAPEC-477 Signature Spoofing by Mixing Signed and Unsigned
//     Content (assets that differ from their signed checksums) or CAPEC-60 Reusing Session IDs (an older
//     version replayed), with the reason;
//   - every object markings (TLP), created_by_ref the node's identity, and an external reference to the
//     audit entry that made it (its seq and SHA-256 hash).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "intel/stix.hpp"

namespace sco::intel {

struct DeriveOptions {
  std::string node_name;  // the identity's name
  std::string key_id;     // the node key's id: what makes the node's ids its own
  int burst_min = 5;
  double burst_gap_seconds = 60;
  int indicator_min = 20;
  double indicator_hours = 24;
};

struct Derived {
  nlohmann::json object;
  Level level;  // the least restricted collection it goes to (and every more restricted one)
};

class Deriver {
 public:
  Deriver(DeriveOptions options, nlohmann::json state);
  // The objects (and new versions) an audit entry makes.
  std::vector<Derived> feed(const nlohmann::json& entry);
  nlohmann::json state() const { return state_; }
  // The node's identity, its attack-patterns, sco's project identity and signature extension, and the
  // TLP markings: what derived objects refer to.
  std::vector<Derived> reference_objects() const;
  std::string identity_id() const;

 private:
  std::vector<Derived> refusal(const nlohmann::json& entry, const std::string& kind, const std::string& address, const std::string& credential);
  std::vector<Derived> burst_version(nlohmann::json& burst, const nlohmann::json& entry);
  std::vector<Derived> indicator(const nlohmann::json& burst, const nlohmann::json& entry);
  std::vector<Derived> rejected_sync(const nlohmann::json& entry);
  nlohmann::json sdo(const std::string& type, const std::string& id, const std::string& created, const std::string& modified,
                     const nlohmann::json& entry, Level level) const;
  std::string attack_pattern_id(const std::string& capec) const;

  DeriveOptions o_;
  nlohmann::json state_;
};


}  // namespace sco::intel
