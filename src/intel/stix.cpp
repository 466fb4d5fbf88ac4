#include "intel/stix.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <map>
#include <cctype>
#include <ctime>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "core/error.hpp"
#include "intel/pattern.hpp"
#include "security/jcs.hpp"
#include "security/keys.hpp"

namespace sco::intel {

using nlohmann::json;

namespace {
// sco's namespace for its objects' UUIDv5 (itself UUIDv5 of "sco" in the RFC 4122 URL namespace).
const std::string kScoNamespace = uuid5("6ba7b811-9dad-11d1-80b4-00c04fd430c8", "https://sco.example/stix");
// The STIX 2.1 namespace for cyber-observable ids (STIX 2.1 section 2.9).
constexpr const char* kStixNamespace = "00abedb4-aa42-466c-9c01-fed23315a9b7";

std::array<unsigned char, 16> uuid_bytes(const std::string& uuid) {
  std::array<unsigned char, 16> out{};
  std::size_t k = 0;
  for (std::size_t i = 0; i + 1 < uuid.size() && k < 16; ++i) {
    if (uuid[i] == '-') continue;
    out[k++] = static_cast<unsigned char>(std::stoi(uuid.substr(i, 2), nullptr, 16));
    ++i;
  }
  return out;
}

bool is_uuid(const std::string& s) {
  static const std::regex re("^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  return std::regex_match(s, re);
}

bool is_identifier(const json& v, const std::string& type = "") {
  if (!v.is_string()) return false;
  const std::string s = v.get<std::string>();
  const auto sep = s.find("--");
  if (sep == std::string::npos || !is_uuid(s.substr(sep + 2))) return false;
  return type.empty() || s.substr(0, sep) == type;
}

bool is_timestamp(const json& v) {
  static const std::regex re(R"(^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?Z$)");
  return v.is_string() && std::regex_match(v.get<std::string>(), re);
}

const std::set<std::string>& observable_types() {
  static const std::set<std::string> t = {"artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message",
                                          "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process",
                                          "software", "url", "user-account", "windows-registry-key", "x509-certificate"};
  return t;
}

// Each STIX 2.1 type's required properties beyond the common ones (sections 4, 5 and 6).
const std::map<std::string, std::vector<const char*>>& required_properties() {
  static const std::map<std::string, std::vector<const char*>> r = {
      {"attack-pattern", {"name"}}, {"campaign", {"name"}}, {"course-of-action", {"name"}},
      {"grouping", {"context", "object_refs"}}, {"identity", {"name"}}, {"incident", {"name"}},
      {"indicator", {"pattern", "pattern_type", "valid_from"}}, {"infrastructure", {"name"}}, {"intrusion-set", {"name"}},
      {"malware", {"is_family"}}, {"malware-analysis", {"product"}}, {"note", {"content", "object_refs"}},
      {"observed-data", {"first_observed", "last_observed", "number_observed"}}, {"opinion", {"opinion", "object_refs"}},
      {"report", {"name", "published", "object_refs"}}, {"threat-actor", {"name"}}, {"tool", {"name"}},
      {"vulnerability", {"name"}}, {"relationship", {"relationship_type", "source_ref", "target_ref"}},
      {"sighting", {"sighting_of_ref"}}, {"marking-definition", {"created"}},
      {"extension-definition", {"name", "schema", "version", "extension_types", "created_by_ref"}}, {"location", {}},
      {"language-content", {"object_ref", "contents"}}, {"ipv4-addr", {"value"}}, {"ipv6-addr", {"value"}},
      {"domain-name", {"value"}}, {"url", {"value"}}, {"mac-addr", {"value"}}, {"email-addr", {"value"}}, {"mutex", {"name"}},
      {"autonomous-system", {"number"}}, {"directory", {"path"}}, {"windows-registry-key", {}}, {"user-account", {}},
      {"file", {}}, {"artifact", {}}, {"email-message", {"is_multipart"}}, {"network-traffic", {"protocols"}},
      {"process", {}}, {"software", {"name"}}, {"x509-certificate", {}}};
  return r;
}

// The common properties' forms; "" when they hold.
std::string check_common(const json& o, const std::string& type) {
  for (auto it = o.begin(); it != o.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    const bool ref = k.size() > 4 && k.compare(k.size() - 4, 4, "_ref") == 0;
    const bool refs = k.size() > 5 && k.compare(k.size() - 5, 5, "_refs") == 0;
    if (ref && !is_identifier(v)) return fmt::format("'{}' is not a STIX identifier", k);
    if (refs && (!v.is_array() || v.empty() || !std::all_of(v.begin(), v.end(), [](const json& x) { return is_identifier(x); }))) {
      return fmt::format("'{}' is not a non-empty list of STIX identifiers", k);
    }
  }
  if (o.contains("created_by_ref") && !is_identifier(o["created_by_ref"], "identity")) return "'created_by_ref' is not an identity";
  if (o.contains("object_marking_refs")) {
    for (const auto& m : o["object_marking_refs"]) {
      if (!is_identifier(m, "marking-definition")) return "'object_marking_refs' names something other than a marking-definition";
    }
  }
  if (o.contains("labels") && (!o["labels"].is_array() || !std::all_of(o["labels"].begin(), o["labels"].end(), [](const json& x) { return x.is_string(); }))) {
    return "'labels' is not a list of strings";
  }
  if (o.contains("confidence") && (!o["confidence"].is_number_integer() || o["confidence"].get<int>() < 0 || o["confidence"].get<int>() > 100)) {
    return "'confidence' is not an integer from 0 to 100";
  }
  if (o.contains("external_references")) {
    const json& refs = o["external_references"];
    if (!refs.is_array()) return "'external_references' is not a list";
    for (const auto& r : refs) {
      if (!r.is_object() || !r.contains("source_name") || !r["source_name"].is_string()) return "an external reference has no 'source_name'";
    }
  }
  if (o.contains("extensions")) {
    if (!o["extensions"].is_object() || o["extensions"].empty()) return "'extensions' is not a non-empty object";
    for (auto it = o["extensions"].begin(); it != o["extensions"].end(); ++it) {
      const std::string& k = it.key();
      const bool defined = k.rfind("extension-definition--", 0) == 0 && is_uuid(k.substr(22));
      if (!defined && !(k.size() > 4 && k.compare(k.size() - 4, 4, "-ext") == 0)) return fmt::format("extension '{}' is neither an extension-definition id nor a predefined '-ext'", k);
      if (!it.value().is_object()) return fmt::format("extension '{}' is not an object", k);
    }
  }
  for (const char* t : {"created", "modified", "valid_from", "valid_until", "first_observed", "last_observed", "first_seen", "last_seen", "published"}) {
    if (o.contains(t) && !is_timestamp(o[t])) return fmt::format("'{}' is not an RFC 3339 UTC timestamp", t);
  }
  if (o.contains("modified") && o.contains("created") && o["modified"].get<std::string>() < o["created"].get<std::string>()) return "'modified' is before 'created'";
  (void)type;
  return "";
}

// What each type adds to the common checks.
std::string check_type(const json& o, const std::string& type) {
  if (type == "indicator") {
    if (!o["pattern"].is_string() || !o["pattern_type"].is_string()) return "'pattern' and 'pattern_type' must be strings";
    if (o.contains("valid_until") && o["valid_until"].get<std::string>() <= o["valid_from"].get<std::string>()) return "'valid_until' is not after 'valid_from'";
    if (o["pattern_type"] == "stix") {
      try {
        parse_stix_pattern(o["pattern"].get<std::string>());
      } catch (const core::Error& e) {
        return e.what();
      }
    }
  } else if (type == "observed-data") {
    const json& n = o["number_observed"];
    if (!n.is_number_integer() || n.get<long long>() < 1 || n.get<long long>() > 999999999) return "'number_observed' is not an integer from 1 to 999,999,999";
    if (o["last_observed"].get<std::string>() < o["first_observed"].get<std::string>()) return "'last_observed' is before 'first_observed'";
    if (!o.contains("object_refs") && !o.contains("objects")) return "observed-data needs 'object_refs'";
  } else if (type == "ipv4-addr" || type == "ipv6-addr") {
    if (!o["value"].is_string() || !parse_range(o["value"].get<std::string>())) return "'value' is not an address or CIDR range";
  } else if (type == "sighting") {
    if (o.contains("count") && (!o["count"].is_number_integer() || o["count"].get<long long>() < 0 || o["count"].get<long long>() > 999999999)) return "'count' is not an integer from 0 to 999,999,999";
  } else if (type == "marking-definition" && o.contains("definition_type") && o["definition_type"] == "tlp") {
    for (Level l : all_levels()) {
      if (o["id"] == tlp_marking_id(l) && json(o) != tlp_marking(l)) return "a TLP marking-definition differs from the one STIX 2.1 predefines";
    }
  }
  return "";
}

}  // namespace

const std::vector<Level>& all_levels() {
  static const std::vector<Level> l = {Level::kWhite, Level::kGreen, Level::kAmber};
  return l;
}

std::string level_name(Level level) { return level == Level::kWhite ? "white" : level == Level::kGreen ? "green" : "amber"; }

std::string tlp_marking_id(Level level) {
  // STIX 2.1 section 7.2.1.4.
  return level == Level::kWhite   ? "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
         : level == Level::kGreen ? "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
                                  : "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";
}

json tlp_marking(Level level) {
  std::string name = level_name(level);
  std::string upper = name;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return {{"type", "marking-definition"}, {"spec_version", "2.1"}, {"id", tlp_marking_id(level)},
          {"created", "2017-01-20T00:00:00.000Z"}, {"definition_type", "tlp"}, {"name", "TLP:" + upper}, {"definition", {{"tlp", name}}}};
}

std::string uuid5(const std::string& namespace_uuid, const std::string& name) {
  const auto ns = uuid_bytes(namespace_uuid);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr);
  EVP_DigestUpdate(ctx, ns.data(), ns.size());
  EVP_DigestUpdate(ctx, name.data(), name.size());
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  md[6] = static_cast<unsigned char>((md[6] & 0x0F) | 0x50);
  md[8] = static_cast<unsigned char>((md[8] & 0x3F) | 0x80);
  return uuid_text(md);
}

std::string uuid_text(const unsigned char* b) {
  std::string hex;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) hex += '-';
    hex += fmt::format("{:02x}", b[i]);
  }
  return hex;
}

std::optional<std::int64_t> parse_time_us(const std::string& t) {
  std::tm tm{};
  if (t.size() < 20 || t.back() != 'Z' || t[10] != 'T') return std::nullopt;
  const char* end = ::strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) return std::nullopt;
  std::int64_t us = static_cast<std::int64_t>(::timegm(&tm)) * 1000000;
  std::string frac;
  if (*end == '.') {
    for (++end; *end >= '0' && *end <= '9'; ++end) frac += *end;
    if (frac.empty()) return std::nullopt;
  }
  if (std::string(end) != "Z") return std::nullopt;
  frac = (frac + "000000").substr(0, 6);
  return us + std::stoll(frac);
}

std::string format_time_us(std::int64_t us) {
  const std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:06d}Z", buf, static_cast<int>(us % 1000000));
}

std::int64_t epoch_ms(const std::string& t) {
  const auto us = parse_time_us(t);
  if (!us) core::fail(core::ErrorCode::kInvalidInput, "'{}' is not an RFC 3339 UTC time", t);
  return *us / 1000;
}

std::string format_ms(std::int64_t ms) { return format_time_us(ms * 1000).substr(0, 23) + "Z"; }

std::string sco_id(const std::string& type, const std::string& name) { return type + "--" + uuid5(kScoNamespace, type + ":" + name); }

json observable(json object) {
  const std::string type = object.value("type", "");
  static const std::map<std::string, std::vector<const char*>> contributing = {
      {"ipv4-addr", {"value"}}, {"ipv6-addr", {"value"}}, {"url", {"value"}}, {"domain-name", {"value"}},
      {"user-account", {"account_type", "user_id", "account_login"}}};
  json key = json::object();
  for (const char* p : contributing.at(type)) {
    if (object.contains(p)) key[p] = object[p];
  }
  object["spec_version"] = "2.1";
  object["id"] = type + "--" + uuid5(kStixNamespace, security::canonical_json(key));
  return object;
}

std::string stix_time(const std::string& t) {
  // "YYYY-MM-DDTHH:MM:SS[.fff...]Z": three fraction digits exactly.
  const std::string base = t.substr(0, 19);
  std::string frac = "000";
  const auto dot = t.find('.');
  if (dot != std::string::npos) {
    std::string digits;
    for (std::size_t i = dot + 1; i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])); ++i) digits += t[i];
    frac = (digits + "000").substr(0, 3);
  }
  return base + "." + frac + "Z";
}

const char* const kSignatureExtension = "extension-definition--4d7f0c8e-3e5d-5b7a-9f3c-2a1e6d9b8c70";

json sco_project_identity() {
  return {{"type", "identity"}, {"spec_version", "2.1"}, {"id", sco_id("identity", "sco project")},
          {"created", "2026-12-07T00:00:00.000Z"}, {"modified", "2026-12-07T00:00:00.000Z"}, {"name", "sco"},
          {"identity_class", "organization"}, {"description", "The sco Space Climate Observatory engine's authors: definer of its STIX extensions."}};
}

json signature_extension_definition() {
  return {{"type", "extension-definition"}, {"spec_version", "2.1"}, {"id", kSignatureExtension},
          {"created_by_ref", sco_project_identity()["id"]}, {"created", "2026-12-07T00:00:00.000Z"},
          {"modified", "2026-12-07T00:00:00.000Z"}, {"name", "sco Ed25519 object signature"},
          {"description", "An Ed25519 signature (RFC 8032) by a sco node over the object's RFC 8785 canonical JSON without this "
                          "extension: alg 'Ed25519', key_id (the first 16 hex digits of SHA-256 of the 32-byte public key), signer "
                          "(the key's name), value (base64)."},
          {"schema", "docs/intel.md#signature-extension"}, {"version", "1.0.0"}, {"extension_types", json::array({"property-extension"})}};
}

std::string object_signing_bytes(const json& object) {
  json copy = object;
  if (copy.contains("extensions") && copy["extensions"].is_object()) {
    copy["extensions"].erase(kSignatureExtension);
    if (copy["extensions"].empty()) copy.erase("extensions");
  }
  return security::canonical_json(copy);
}

void sign_object(json& object, const security::NodeKeys& keys) {
  const std::string value = keys.sign(object_signing_bytes(object));
  object["extensions"][kSignatureExtension] = {{"extension_type", "property-extension"}, {"alg", "Ed25519"},
                                               {"key_id", keys.public_key().key_id()}, {"signer", keys.public_key().name}, {"value", value}};
}

ObjectVerdict verify_object(const json& object, const std::vector<security::PublicKey>& trusted) {
  ObjectVerdict v;
  const std::string id = security::string_member(object, "id", "?");
  const json* sig = nullptr;
  if (object.is_object() && object.contains("extensions") && object["extensions"].is_object() && object["extensions"].contains(kSignatureExtension)) {
    sig = &object["extensions"][kSignatureExtension];
  }
  if (!sig || !sig->is_object()) {
    v.problem = fmt::format("{} is not signed", id);
    return v;
  }
  v.signed_ = true;
  const std::string key_id = security::string_member(*sig, "key_id"), alg = security::string_member(*sig, "alg");
  if (alg != "Ed25519") {
    v.problem = fmt::format("{}: signature algorithm '{}' is not Ed25519", id, alg);
    return v;
  }
  for (const auto& k : trusted) {
    if (k.key_id() != key_id) continue;
    v.signer = k.name;
    v.ok = security::verify_signature(k, object_signing_bytes(object), security::string_member(*sig, "value"));
    if (!v.ok) v.problem = fmt::format("{}: the signature by '{}' does not match its content (changed after signing)", id, k.name);
    return v;
  }
  v.problem = fmt::format("{} is signed by key {} ('{}'), which this node does not trust", id, key_id, security::string_member(*sig, "signer"));
  return v;
}

bool is_predefined(const json& o) {
  if (!o.is_object()) return false;
  const std::string id = security::string_member(o, "id");
  for (Level l : all_levels()) {
    if (id == tlp_marking_id(l)) return o == tlp_marking(l);
  }
  if (id == kSignatureExtension) return o == signature_extension_definition();
  static const json project = sco_project_identity();
  return id == project["id"] && o == project;
}

std::string check_object(const json& o) {
  if (!o.is_object()) return "an object that is not a JSON object";
  static const std::regex type_re("^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]$");
  if (!o.contains("type") || !o["type"].is_string() || !std::regex_match(o["type"].get<std::string>(), type_re)) return "'type' is missing or malformed";
  const std::string type = o["type"].get<std::string>();
  if (!is_identifier(o.value("id", json()), type)) return fmt::format("{}: 'id' is not '{}--' and a UUID", type, type);
  const std::string id = o["id"].get<std::string>();
  const bool observable = is_observable_type(type);
  if ((!observable || o.contains("spec_version")) && o.value("spec_version", json()) != "2.1") return id + ": 'spec_version' is not \"2.1\"";
  const auto req = required_properties().find(type);
  std::vector<const char*> needed;
  if (!observable && type != "marking-definition") needed = {"created", "modified"};
  if (req != required_properties().end()) needed.insert(needed.end(), req->second.begin(), req->second.end());
  for (const char* p : needed) {
    if (!o.contains(p)) return fmt::format("{}: the required property '{}' is missing", id, p);
  }
  std::string problem = check_common(o, type);
  if (problem.empty()) problem = check_type(o, type);
  return problem.empty() ? "" : id + ": " + problem;
}

std::string object_version(const json& o) {
  if (o.contains("modified") && o["modified"].is_string()) return o["modified"].get<std::string>();
  if (o.contains("created") && o["created"].is_string()) return o["created"].get<std::string>();
  return "";
}

bool is_observable_type(const std::string& type) { return observable_types().count(type) > 0; }

}  // namespace sco::intel
