#pragma once
// STIX 2.1 objects as sco makes, signs and checks them (OASIS STIX Version 2.1, 10 June 2021):
//   - deterministic ids: sco's objects are UUIDv5 in sco's namespace from what they are derived from
//     (an audit entry's hash, the node's key); cyber-observables use the specification's own rule
//     (UUIDv5 in the STIX namespace over the canonical JSON of their id-contributing properties);
//   - the TLP 1.0 marking definitions as the specification predefines them (section 7.2.1.4);
//   - signatures: a property extension (defined by an `extension-definition` object of sco's) holding
//     an Ed25519 signature over the object's RFC 8785 canonical JSON without that extension, so that
//     every object a partner receives can be verified on its own, page by page, whatever the transport;
//   - checks of what partners send: the common properties and each type's required properties as the
//     specification states them, indicators' patterns parsed.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sco::security {
class NodeKeys;
struct PublicKey;
}  // namespace sco::security

namespace sco::intel {

// Sharing levels: one TAXII collection each.
enum class Level { kWhite, kGreen, kAmber };
const std::vector<Level>& all_levels();
std::string level_name(Level level);  // "white", "green", "amber"
std::string tlp_marking_id(Level level);
nlohmann::json tlp_marking(Level level);  // the predefined marking-definition object

// RFC 4122 name-based (SHA-1) UUID.
std::string uuid5(const std::string& namespace_uuid, const std::string& name);
// TYPE--UUIDv5(sco's namespace, name).
std::string sco_id(const std::string& type, const std::string& name);
// A cyber-observable (ipv4-addr, ipv6-addr, user-account, url, domain-name) with its id set as the
// specification derives it.
nlohmann::json observable(nlohmann::json object);
// An RFC 3339 UTC time with milliseconds ("2026-12-07T10:00:00.000Z") from sco's times (with or without
// fractions).
std::string stix_time(const std::string& rfc3339);

// Microseconds since 1970 of an RFC 3339 UTC time (any fraction), and back ("...T..:..:..123456Z").
std::optional<std::int64_t> parse_time_us(const std::string& text);
std::string format_time_us(std::int64_t us);
// Milliseconds, for STIX times: throws (kInvalidInput) for a text that is not an RFC 3339 UTC time;
// back in STIX form, three fraction digits.
std::int64_t epoch_ms(const std::string& rfc3339);
std::string format_ms(std::int64_t ms);
// 16 bytes as a UUID's text (8-4-4-4-12 lower-case hex digits).
std::string uuid_text(const unsigned char* bytes);

// The signature extension.
extern const char* const kSignatureExtension;  // its extension-definition id
nlohmann::json sco_project_identity();         // who defines the extension
nlohmann::json signature_extension_definition();
std::string object_signing_bytes(const nlohmann::json& object);
void sign_object(nlohmann::json& object, const security::NodeKeys& keys);
struct ObjectVerdict {
  bool signed_ = false;  // carries sco's signature extension
  bool ok = false;       // ... by a trusted key, matching the content
  std::string signer;
  std::string problem;  // why not ok
};
ObjectVerdict verify_object(const nlohmann::json& object, const std::vector<security::PublicKey>& trusted);

// The objects every node holds as constants: the TLP markings STIX predefines, sco's project identity
// and its signature extension's definition. Accepted unsigned when they equal the constants exactly.
bool is_predefined(const nlohmann::json& object);

// "" when the object is well-formed STIX 2.1, else what is wrong (naming the property).
std::string check_object(const nlohmann::json& object);
// An object's version: `modified` (SDOs, SROs), else `created` (markings), else "" (observables).
std::string object_version(const nlohmann::json& object);
// Whether a type is a cyber-observable (no created / modified, not versioned).
bool is_observable_type(const std::string& type);

}  // namespace sco::intel
