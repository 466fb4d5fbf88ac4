#pragma once
// The node's Ed25519 key pair (libsodium), trusted partner keys, and signatures over STAC items.
//   DIR/keys/node.key   the secret key, base64, file mode 0600, created on first use
//   DIR/keys/node.pub   "sco-ed25519 BASE64 NAME": the public key as partners receive it
//   DIR/trust/NAME.pub  the partner keys this node trusts (in the database for a node whose catalog is
//                       in PostgreSQL: security/node_state)
// An item's signature covers its RFC 8785 canonical JSON without "links" (rewritten by every server),
// without its assets' "href"s (where a copy lives changes from node to node; what it holds is pinned
// by the signed "file:checksum" and "file:size") and without the signature itself; it is stored in the item as "sco:signature":
// {"alg": "Ed25519", "key_id": first 16 hex digits of SHA-256(public key), "signer": NAME, "value": base64}.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sco::security {

struct PublicKey {
  std::string name;
  std::string key;  // 32 raw bytes
  std::string key_id() const;
  std::string line() const;  // "sco-ed25519 BASE64 NAME"
};

// Parses a public key file's line; throws naming `where` when it is not one.
PublicKey parse_public_key(const std::string& text, const std::string& where);

class NodeKeys {
 public:
  // Loads DIR/keys, creating the pair on first use (name: the host name unless given).
  static NodeKeys load_or_create(const std::string& dir, const std::string& name = "");
  const PublicKey& public_key() const { return public_; }
  std::string sign(const std::string& message) const;  // detached, base64

 private:
  PublicKey public_;
  std::string secret_;  // 64 bytes
};

bool verify_signature(const PublicKey& key, const std::string& message, const std::string& signature_base64);

// The keys a node accepts signatures from: its own and the trusted ones (DIR/trust/*.pub).
std::vector<PublicKey> trusted_keys(const std::string& dir);
// Trusts a partner's key file under NAME; throws when NAME is taken by another key.
PublicKey trust_key(const std::string& dir, const std::string& name, const std::string& key_file);

// The bytes an item's signature covers.
std::string item_signing_bytes(const nlohmann::json& item);
// Signs the item, first setting its properties' `updated` to now (with milliseconds): the version
// partners compare, inside the signed content.
void sign_item(nlohmann::json& item, const NodeKeys& keys);
// An item version (`updated`, RFC 3339) as text that orders by time ("" for none or an invalid one,
// which orders first).
std::string version_order(const std::string& updated);

struct Verdict {
  bool ok = false;
  std::string signer;
  std::vector<std::string> problems;  // exactly what fails
};
// Checks the signature against `trusted`, and each asset's file:checksum when its href is a local
// file that exists (`check_files`).
// `signing_bytes`, when the caller has them already (item_signing_bytes(item)), saves computing them again.
Verdict verify_item(const nlohmann::json& item, const std::vector<PublicKey>& trusted, bool check_files,
                    const std::string* signing_bytes = nullptr);

}  // namespace sco::security
