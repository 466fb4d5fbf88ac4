#include "intel/derive.hpp"

#include <ctime>

#include <fmt/format.h>

#include "core/error.hpp"
#include "intel/net.hpp"
#include "security/jcs.hpp"

namespace sco::intel {

using nlohmann::json;

namespace {

struct Capec {
  const char* id;
  const char* name;
  const char* description;
};
// The attack patterns sco's events are sightings of (CAPEC, MITRE: https://capec.mitre.org).
const std::vector<Capec>& capecs() {
  static const std::vector<Capec> c = {
      {"CAPEC-112", "Brute Force", "Repeated guesses of a secret: here, API tokens refused by a node."},
      {"CAPEC-125", "Flooding", "More requests than a node's rate limit admits, from one source."},
      {"CAPEC-473", "Signature Spoof", "Items offered by a partner with a signature that does not verify or by an untrusted key."},
      {"CAPEC-477", "Signature Spoofing by Mixing Signed and Unsigned Content", "Assets whose bytes differ from the checksums their signed item states."},
      {"CAPEC-60", "Reusing Session IDs (aka Session Replay)", "An older signed version of an item offered again in place of a newer one."},
  };
  return c;
}

const char* capec_of_reason(const std::string& reason) {
  if (reason == "checksum_mismatch") return "CAPEC-477";
  if (reason == "replayed_version") return "CAPEC-60";
  return "CAPEC-473";
}

json audit_reference(const json& entry) {
  return {{"source_name", "sco-audit"}, {"external_id", std::to_string(entry.value("seq", 0))},
          {"description", "the node's audit log entry this object was derived from"},
          {"hashes", {{"SHA-256", entry.value("hash", "")}}}};
}

// The observable of a client address ("" or unparsable: none).
json address_observable(const std::string& address) {
  const auto a = parse_address(address);
  if (!a) return nullptr;
  return observable({{"type", a->v4 ? "ipv4-addr" : "ipv6-addr"}, {"value", Range{*a, 128}.text()}});
}

}  // namespace

Deriver::Deriver(DeriveOptions options, json state) : o_(std::move(options)), state_(std::move(state)) {
  if (!state_.is_object()) state_ = json::object();
  if (!state_.contains("bursts")) state_["bursts"] = json::object();
}

std::string Deriver::identity_id() const { return sco_id("identity", "node:" + o_.key_id); }

std::string Deriver::attack_pattern_id(const std::string& capec) const { return sco_id("attack-pattern", o_.key_id + ":" + capec); }

json Deriver::sdo(const std::string& type, const std::string& id, const std::string& created, const std::string& modified, const json& entry,
                  Level level) const {
  return {{"type", type}, {"spec_version", "2.1"}, {"id", id}, {"created", created}, {"modified", modified},
          {"created_by_ref", identity_id()}, {"object_marking_refs", json::array({tlp_marking_id(level)})}, {"external_references", json::array({audit_reference(entry)})}};
}

std::vector<Derived> Deriver::reference_objects() const {
  std::vector<Derived> out;
  for (Level l : all_levels()) out.push_back({tlp_marking(l), Level::kWhite});
  out.push_back({sco_project_identity(), Level::kWhite});
  out.push_back({signature_extension_definition(), Level::kWhite});
  const std::string t0 = "2026-12-07T00:00:00.000Z";
  out.push_back({{{"type", "identity"}, {"spec_version", "2.1"}, {"id", identity_id()}, {"created", t0}, {"modified", t0},
                  {"name", o_.node_name}, {"identity_class", "system"},
                  {"description", fmt::format("A sco node (Space Climate Observatory engine), Ed25519 key id {}.", o_.key_id)},
                  {"object_marking_refs", json::array({tlp_marking_id(Level::kWhite)})}},
                 Level::kWhite});
  for (const Capec& c : capecs()) {
    const std::string number = std::string(c.id).substr(6);
    out.push_back({{{"type", "attack-pattern"}, {"spec_version", "2.1"}, {"id", attack_pattern_id(c.id)}, {"created", t0}, {"modified", t0},
                    {"created_by_ref", identity_id()}, {"name", c.name}, {"description", c.description},
                    {"object_marking_refs", json::array({tlp_marking_id(Level::kWhite)})},
                    {"external_references", json::array({json{{"source_name", "capec"}, {"external_id", c.id},
                                                              {"url", fmt::format("https://capec.mitre.org/data/definitions/{}.html", number)}}})}},
                   Level::kWhite});
  }
  return out;
}

std::vector<Derived> Deriver::feed(const json& entry) {
  const std::string event = entry.value("event", "");
  const json& d = entry.contains("detail") && entry["detail"].is_object() ? entry["detail"] : json::object();
  if (event == "access.refused" && d.value("status", 0) == 401) return refusal(entry, "auth", security::string_member(d, "address"), security::string_member(d, "credential"));
  if (event == "rate.limited") return refusal(entry, "rate", security::string_member(d, "address"), security::string_member(d, "credential"));
  if (event == "sync.rejected") return rejected_sync(entry);
  return {};
}

std::vector<Derived> Deriver::refusal(const json& entry, const std::string& kind, const std::string& address, const std::string& credential) {
  if (!parse_address(address)) return {};
  const std::int64_t now = epoch_ms(entry.value("time", ""));
  json& bursts = state_["bursts"];
  const auto gap = static_cast<std::int64_t>(o_.burst_gap_seconds * 1000);
  const auto ended = [&](const json& b) { return now - b["last_ms"].get<std::int64_t>() > gap; };
  // Bursts that ended (no refusal within the gap) are forgotten: all of them at most once a second of
  // the log's time (a flood from many addresses would otherwise scan every open burst per entry), this
  // source's own at once.
  if (now - state_.value("pruned_ms", std::int64_t{0}) >= 1000) {
    for (auto it = bursts.begin(); it != bursts.end();) {
      if (ended(it.value())) it = bursts.erase(it);
      else ++it;
    }
    state_["pruned_ms"] = now;
  }
  const std::string key = kind + "|" + address;
  if (bursts.contains(key) && ended(bursts[key])) bursts.erase(key);
  // Open bursts are bounded: past 10,000 sources at once, new ones wait until others end.
  if (!bursts.contains(key) && bursts.size() >= 10000) return {};
  const int increment = kind == "rate" ? std::max(1, entry["detail"].value("refused", 1)) : 1;
  if (!bursts.contains(key)) {
    bursts[key] = {{"kind", kind}, {"address", address}, {"count", 0}, {"first_ms", now}, {"first_seq", entry.value("seq", 0)},
                   {"first_hash", entry.value("hash", "")}, {"next_at", o_.burst_min}, {"modified_ms", 0}, {"indicated", false},
                   {"credentials", json::array()}};
  }
  json& b = bursts[key];
  b["count"] = b["count"].get<int>() + increment;
  b["last_ms"] = now;
  if (!credential.empty() && b["credentials"].size() < 16 && std::find(b["credentials"].begin(), b["credentials"].end(), credential) == b["credentials"].end()) {
    b["credentials"].push_back(credential);
  }
  std::vector<Derived> out;
  if (b["count"].get<int>() >= b["next_at"].get<int>()) {
    out = burst_version(b, entry);
    b["next_at"] = b["count"].get<int>() * 2;
  }
  if (!b["indicated"].get<bool>() && b["count"].get<int>() >= o_.indicator_min) {
    auto more = indicator(b, entry);
    out.insert(out.end(), more.begin(), more.end());
    b["indicated"] = true;
  }
  return out;
}

// The burst's observed-data and sighting, as a new version when they exist already.
std::vector<Derived> Deriver::burst_version(json& b, const json& entry) {
  std::int64_t modified = epoch_ms(entry.value("time", ""));
  if (modified <= b["modified_ms"].get<std::int64_t>()) modified = b["modified_ms"].get<std::int64_t>() + 1;  // versions strictly ordered
  b["modified_ms"] = modified;
  const std::string first = format_ms(b["first_ms"].get<std::int64_t>()), last = format_ms(b["last_ms"].get<std::int64_t>());

  const std::string burst_name = b["first_hash"].get<std::string>();
  const json origin = {{"seq", b["first_seq"]}, {"hash", b["first_hash"]}};
  std::vector<Derived> out;
  json refs = json::array();
  const json addr = address_observable(b["address"]);
  out.push_back({addr, Level::kAmber});
  refs.push_back(addr["id"]);
  for (const auto& c : b["credentials"]) {
    const json account = observable({{"type", "user-account"}, {"account_type", "sco-api-token"}, {"user_id", c}});
    out.push_back({account, Level::kAmber});
    refs.push_back(account["id"]);
  }
  const std::string created_at = b.contains("created_at") ? b["created_at"].get<std::string>() : format_ms(modified);
  b["created_at"] = created_at;
  const bool auth = b["kind"] == "auth";
  json od = sdo("observed-data", sco_id("observed-data", burst_name), created_at, format_ms(modified), origin, Level::kAmber);
  od["external_references"].push_back(audit_reference(entry));
  od["first_observed"] = first;
  od["last_observed"] = last;
  od["number_observed"] = b["count"];
  od["object_refs"] = refs;
  json s = sdo("sighting", sco_id("sighting", burst_name), created_at, format_ms(modified), origin, Level::kAmber);
  s["external_references"].push_back(audit_reference(entry));
  s["sighting_of_ref"] = attack_pattern_id(auth ? "CAPEC-112" : "CAPEC-125");
  s["observed_data_refs"] = json::array({od["id"]});
  s["where_sighted_refs"] = json::array({identity_id()});
  s["first_seen"] = first;
  s["last_seen"] = last;
  s["count"] = b["count"];
  s["description"] = fmt::format("{} {} from {} between {} and {}", b["count"].get<int>(),
                                 auth ? "refused authentications" : "requests refused by the rate limit", b["address"].get<std::string>(), first, last);

  out.push_back({od, Level::kAmber});
  out.push_back({s, Level::kAmber});
  return out;
}

std::vector<Derived> Deriver::indicator(const json& b, const json& entry) {
  const std::string t = format_ms(b["modified_ms"].get<std::int64_t>());
  const std::string address = b["address"];
  const auto a = parse_address(address);
  const std::string type = a->v4 ? "ipv4-addr" : "ipv6-addr";
  const std::string name = entry.value("hash", "");
  json ind = sdo("indicator", sco_id("indicator", name), t, t, entry, Level::kGreen);
  ind["name"] = fmt::format("{} refused {} times at {}", Range{*a, 128}.text(), b["count"].get<int>(), o_.node_name);
  ind["indicator_types"] = json::array({"malicious-activity"});
  ind["pattern"] = fmt::format("[{}:value = '{}']", type, Range{*a, 128}.text());
  ind["pattern_type"] = "stix";
  ind["pattern_version"] = "2.1";
  ind["valid_from"] = t;
  ind["valid_until"] = format_ms(b["modified_ms"].get<std::int64_t>() + static_cast<std::int64_t>(o_.indicator_hours * 3600 * 1000));
  const bool auth = b["kind"] == "auth";
  json indicates = sdo("relationship", sco_id("relationship", "indicates:" + name), t, t, entry, Level::kGreen);
  indicates["relationship_type"] = "indicates";
  indicates["source_ref"] = ind["id"];
  indicates["target_ref"] = attack_pattern_id(auth ? "CAPEC-112" : "CAPEC-125");
  json based = sdo("relationship", sco_id("relationship", "based-on:" + name), t, t, entry, Level::kAmber);
  based["relationship_type"] = "based-on";
  based["source_ref"] = ind["id"];
  based["target_ref"] = sco_id("observed-data", b["first_hash"].get<std::string>());
  return {{ind, Level::kGreen}, {indicates, Level::kGreen}, {based, Level::kAmber}};
}

std::vector<Derived> Deriver::rejected_sync(const json& entry) {
  const json& d = entry["detail"];
  const std::string from = security::string_member(d, "from");
  if (from.rfind("http://", 0) != 0 && from.rfind("https://", 0) != 0) return {};
  const std::string t = stix_time(entry.value("time", ""));
  std::string reason = "bad_signature";
  if (d.contains("reasons") && d["reasons"].is_object()) {  // the most frequent kind of problem
    int most = 0;
    for (auto it = d["reasons"].begin(); it != d["reasons"].end(); ++it) {
      if (it.value().is_number_integer() && it.value().get<int>() > most) {
        most = it.value().get<int>();
        reason = it.key();
      }
    }
  }
  std::vector<Derived> out;
  const json url = observable({{"type", "url"}, {"value", from}});
  out.push_back({url, Level::kAmber});
  const std::string name = entry.value("hash", "");
  json od = sdo("observed-data", sco_id("observed-data", name), t, t, entry, Level::kAmber);
  od["first_observed"] = t;
  od["last_observed"] = t;
  od["number_observed"] = 1;
  od["object_refs"] = json::array({url["id"]});
  json s = sdo("sighting", sco_id("sighting", name), t, t, entry, Level::kAmber);
  s["sighting_of_ref"] = attack_pattern_id(capec_of_reason(reason));
  s["observed_data_refs"] = json::array({od["id"]});
  s["where_sighted_refs"] = json::array({identity_id()});
  s["first_seen"] = t;
  s["last_seen"] = t;
  s["count"] = std::max(1, d.value("problems", 1));
  s["description"] = fmt::format("sync of collection '{}' from {} rejected ({}): {}", security::string_member(d, "collection"), from, reason,
                                 security::string_member(d, "first"));
  out.push_back({od, Level::kAmber});
  out.push_back({s, Level::kAmber});
  return out;
}

}  // namespace sco::intel
