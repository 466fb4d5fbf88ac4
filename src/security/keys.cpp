#include "security/keys.hpp"

#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/digest.hpp"
#include "core/error.hpp"
#include "core/parse.hpp"
#include "security/jcs.hpp"
#include "security/node_state.hpp"

namespace sco::security {

using core::ErrorCode;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

void init() {
  if (sodium_init() < 0) core::fail(ErrorCode::kInternal, "libsodium could not be initialised");
}

std::string b64(const std::string& raw) { return core::base64(raw); }

std::string unb64(const std::string& text, const std::string& where) {
  std::string out(text.size(), '\0');
  std::size_t n = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), " \n\r", &n, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    core::fail(ErrorCode::kInvalidInput, "{}: not base64", where);
  }
  out.resize(n);
  return out;
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) core::fail(ErrorCode::kNotFound, "cannot read '{}'", p.string());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Written under a temporary name with `mode`, then renamed.
void write_file(const fs::path& p, const std::string& text, mode_t mode) {
  const fs::path tmp = p.string() + fmt::format(".tmp-{}", ::getpid());
  {
    const mode_t old = ::umask(0077);
    std::ofstream f(tmp, std::ios::binary);
    ::umask(old);
    f << text;
    if (!f) core::fail(ErrorCode::kIo, "cannot write '{}'", tmp.string());
  }
  ::chmod(tmp.c_str(), mode);
  fs::rename(tmp, p);
}

std::string host_name() {
  char buf[256] = {0};
  ::gethostname(buf, sizeof buf - 1);
  return buf[0] ? buf : "sco-node";
}

}  // namespace

std::string PublicKey::key_id() const { return core::sha256_hex(key).substr(0, 16); }
std::string PublicKey::line() const { return "sco-ed25519 " + b64(key) + " " + name + "\n"; }

PublicKey parse_public_key(const std::string& text, const std::string& where) {
  std::istringstream in(text);
  std::string tag, key64, name;
  in >> tag >> key64 >> name;
  if (tag != "sco-ed25519" || key64.empty()) core::fail(ErrorCode::kInvalidInput, "{}: not a sco public key (sco-ed25519 BASE64 NAME)", where);
  PublicKey k{name, unb64(key64, where)};
  if (k.key.size() != crypto_sign_PUBLICKEYBYTES) core::fail(ErrorCode::kInvalidInput, "{}: an Ed25519 public key has 32 bytes", where);
  return k;
}

NodeKeys NodeKeys::load_or_create(const std::string& dir, const std::string& name) {
  init();
  const fs::path kd = fs::path(dir) / "keys";
  fs::create_directories(kd);
  ::chmod(kd.c_str(), 0700);
  NodeKeys k;
  const fs::path sec = kd / "node.key", pub = kd / "node.pub";
  if (!fs::exists(sec)) {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    k.secret_.assign(reinterpret_cast<char*>(sk), sizeof sk);
    k.public_ = {name.empty() ? host_name() : name, std::string(reinterpret_cast<char*>(pk), sizeof pk)};
    sodium_memzero(sk, sizeof sk);
    write_file(sec, b64(k.secret_) + "\n", 0600);
    write_file(pub, k.public_.line(), 0644);
    return k;
  }
  struct stat st{};
  if (::stat(sec.c_str(), &st) == 0 && (st.st_mode & 0077) != 0) {
    core::fail(ErrorCode::kInvalidInput, "'{}' is readable by others (mode {:o}): chmod 600 it", sec.string(), st.st_mode & 0777);
  }
  std::string text = read_file(sec);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  k.secret_ = unb64(text, sec.string());
  if (k.secret_.size() != crypto_sign_SECRETKEYBYTES) core::fail(ErrorCode::kInvalidInput, "'{}' is not an Ed25519 secret key", sec.string());
  k.public_ = parse_public_key(read_file(pub), pub.string());
  return k;
}

std::string NodeKeys::sign(const std::string& message) const {
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       reinterpret_cast<const unsigned char*>(secret_.data()));
  return b64(std::string(reinterpret_cast<char*>(sig), sizeof sig));
}

bool verify_signature(const PublicKey& key, const std::string& message, const std::string& signature_base64) {
  init();
  std::string sig;
  try {
    sig = unb64(signature_base64, "signature");
  } catch (const core::Error&) {
    return false;
  }
  return sig.size() == crypto_sign_BYTES &&
         crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig.data()), reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), reinterpret_cast<const unsigned char*>(key.key.data())) == 0;
}

std::vector<PublicKey> trusted_keys(const std::string& dir) {
  std::vector<PublicKey> keys;
  const fs::path pub = fs::path(dir) / "keys" / "node.pub";
  if (fs::exists(pub)) keys.push_back(parse_public_key(read_file(pub), pub.string()));
  for (const auto& [name, text] : node_state(dir)->trusted()) {
    PublicKey k = parse_public_key(text, fmt::format("the trusted key '{}'", name));
    k.name = name;
    keys.push_back(k);
  }
  return keys;
}

PublicKey trust_key(const std::string& dir, const std::string& name, const std::string& key_file) {
  if (name.empty() || name.find_first_of("/\\. ") != std::string::npos) {
    core::fail(ErrorCode::kInvalidInput, "trust: '{}' is not a name (letters, digits, '-', '_')", name);
  }
  PublicKey k = parse_public_key(read_file(key_file), key_file);
  k.name = name;
  node_state(dir)->trust(name, k.line(), [&](const std::string& old_text) {
    if (old_text.empty()) return;
    const PublicKey old = parse_public_key(old_text, name);
    if (old.key != k.key) core::fail(ErrorCode::kInvalidInput, "trust: '{}' already names another key ({}); remove it from the trusted keys first", name, old.key_id());
  });
  return k;
}

std::string version_order(const std::string& updated) {
  std::string utc;
  try {
    utc = core::parse_rfc3339(updated, "updated");
  } catch (const core::Error&) {
    return "";
  }
  // YYYY-MM-DDThh:mm:ss[.f]Z with the fraction padded to nine digits: ordered as text.
  const std::size_t dot = utc.find('.');
  std::string fraction = dot == std::string::npos ? "" : utc.substr(dot + 1, utc.size() - dot - 2);
  fraction.resize(9, '0');
  return utc.substr(0, 19) + "." + fraction;
}

std::string item_signing_bytes(const json& item) {
  if (!item.is_object()) return canonical_json(item);
  json copy = item;
  copy.erase("links");
  copy.erase("sco:signature");
  if (copy.contains("assets") && copy["assets"].is_object()) {
    for (auto& a : copy["assets"]) {
      if (a.is_object()) a.erase("href");
    }
  }
  return canonical_json(copy);
}

void sign_item(json& item, const NodeKeys& keys) {
  // The version partners compare (STAC common metadata `updated`), inside the signed content: a
  // replayed older copy cannot pass for the newer one (sync refuses versions older than it holds).
  if (item.is_object() && item.contains("properties") && item["properties"].is_object()) item["properties"]["updated"] = core::utc_now_ms();
  const std::string sig = keys.sign(item_signing_bytes(item));
  item["sco:signature"] = {{"alg", "Ed25519"}, {"key_id", keys.public_key().key_id()}, {"signer", keys.public_key().name}, {"value", sig}};
}

Verdict verify_item(const json& item, const std::vector<PublicKey>& trusted, bool check_files, const std::string* signing_bytes) {
  Verdict v;
  if (!item.is_object()) {
    v.problems.push_back("an item that is not a JSON object");
    return v;
  }
  const std::string id = string_member(item, "id", "?");
  if (!item.contains("sco:signature") || !item["sco:signature"].is_object()) {
    v.problems.push_back(fmt::format("item '{}' is not signed", id));
    return v;
  }
  const json& s = item["sco:signature"];
  const std::string key_id = string_member(s, "key_id"), value = string_member(s, "value");
  const PublicKey* key = nullptr;
  for (const auto& k : trusted) {
    if (k.key_id() == key_id) key = &k;
  }
  if (string_member(s, "alg") != "Ed25519") {
    v.problems.push_back(fmt::format("item '{}': signature algorithm '{}' is not Ed25519", id, string_member(s, "alg")));
  } else if (!key) {
    v.problems.push_back(fmt::format("item '{}' is signed by key {} ('{}'), which this node does not trust", id, key_id, string_member(s, "signer")));
  } else if (!verify_signature(*key, signing_bytes ? *signing_bytes : item_signing_bytes(item), value)) {
    v.problems.push_back(fmt::format("item '{}': the signature by '{}' does not match its content (changed after signing)", id, key->name));
  } else {
    v.signer = key->name;
  }
  if (check_files && item.contains("assets") && item["assets"].is_object()) {
    for (auto it = item["assets"].begin(); it != item["assets"].end(); ++it) {
      const std::string href = string_member(*it, "href");
      const std::string want = string_member(*it, "file:checksum");
      if (want.empty() || href.empty() || !fs::is_regular_file(href)) continue;
      const std::string got = "1220" + core::sha256_file(href);
      if (got != want) v.problems.push_back(fmt::format("item '{}': asset '{}' ({}) does not match its checksum", id, it.key(), href));
    }
  }
  v.ok = v.problems.empty();
  return v;
}

}  // namespace sco::security
