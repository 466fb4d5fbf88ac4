// Partner exchange commands: sco keys show|export, sco trust add NAME KEYFILE, sco verify ITEM_OR_DIR,
// sco audit verify|tail, sco token create|list|revoke. Everything lives in the node's folder
// (--catalog DIR).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "catalog/store.hpp"
#include "cli_common.hpp"
#include "federation/sync.hpp"
#include "core/error.hpp"
#include "security/audit.hpp"
#include "security/keys.hpp"
#include "security/tokens.hpp"

namespace sco::app {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

json read_json(const fs::path& p) {
  std::ifstream f(p);
  if (!f) core::fail(core::ErrorCode::kNotFound, "'{}' not found", p.string());
  json j = json::parse(f, nullptr, false);
  if (j.is_discarded()) core::fail(core::ErrorCode::kInvalidInput, "'{}' is not JSON", p.string());
  return j;
}

// STAC items in a file (an item or a FeatureCollection) or a folder of such files.
std::vector<std::pair<std::string, json>> items_in(const std::string& path) {
  std::vector<std::pair<std::string, json>> out;
  std::vector<fs::path> files;
  if (fs::is_directory(path)) {
    for (const auto& e : fs::recursive_directory_iterator(path)) {
      if (e.is_regular_file() && (e.path().extension() == ".json" || e.path().extension() == ".geojson")) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  for (const auto& f : files) {
    const json j = read_json(f);
    if (j.value("type", "") == "Feature" && j.contains("stac_version")) out.emplace_back(f.string(), j);
    if (j.value("type", "") == "FeatureCollection" && j.contains("features")) {
      for (const auto& it : j["features"]) {
        if (it.contains("stac_version")) out.emplace_back(f.string(), it);
      }
    }
  }
  if (out.empty()) core::fail(core::ErrorCode::kInvalidInput, "'{}' holds no STAC item", path);
  return out;
}

}  // namespace

void register_trust(CLI::App& app, GlobalOptions& global) {
  // sco keys show|export
  CLI::App* keys = app.add_subcommand("keys", "The node's Ed25519 key pair (created on first use)");
  keys->require_subcommand(1);
  keys->add_subcommand("show", "Print the public key, its id and the key files")->callback([&global] {
    const auto k = security::NodeKeys::load_or_create(global.catalog_dir());
    if (global.json) {
      std::printf("%s\n", json{{"name", k.public_key().name}, {"key_id", k.public_key().key_id()}, {"public_key", k.public_key().line()},
                               {"folder", (fs::path(global.catalog_dir()) / "keys").string()}}.dump(2).c_str());
    } else {
      std::printf("%s  key id %s  (%s/keys)\n", k.public_key().line().substr(0, k.public_key().line().size() - 1).c_str(),
                  k.public_key().key_id().c_str(), global.catalog_dir().c_str());
    }
  });
  auto export_out = std::make_shared<std::string>();
  CLI::App* exp = keys->add_subcommand("export", "Write the public key file partners give to `sco trust add`");
  exp->add_option("-o,--output", *export_out, "File (default: standard output)");
  exp->callback([&global, export_out] {
    const auto k = security::NodeKeys::load_or_create(global.catalog_dir());
    if (export_out->empty()) {
      std::printf("%s", k.public_key().line().c_str());
    } else {
      std::ofstream f(*export_out);
      f << k.public_key().line();
      if (!f) core::fail(core::ErrorCode::kIo, "cannot write '{}'", *export_out);
    }
  });

  // sco trust add NAME KEYFILE
  CLI::App* trust = app.add_subcommand("trust", "Partner keys this node accepts signatures from");
  trust->require_subcommand(1);
  auto name = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  CLI::App* add = trust->add_subcommand("add", "Trust a partner's public key file (from its `sco keys export`)");
  add->add_option("NAME", *name, "The partner's name")->required();
  add->add_option("KEYFILE", *file, "Its public key file")->required();
  add->callback([&global, name, file] {
    const auto mine = security::NodeKeys::load_or_create(global.catalog_dir());
    const auto k = security::trust_key(global.catalog_dir(), *name, *file);
    security::audit(global.catalog_dir(), mine, "trust.add", {{"name", *name}, {"key_id", k.key_id()}});
    if (!global.quiet) std::printf("trusting %s (key id %s)\n", name->c_str(), k.key_id().c_str());
  });
  trust->add_subcommand("list", "The keys this node trusts (its own first)")->callback([&global] {
    for (const auto& k : security::trusted_keys(global.catalog_dir())) std::printf("%-20s %s\n", k.name.c_str(), k.key_id().c_str());
  });

  // sco verify ITEM_OR_DIR
  struct VerifyArgs {
    std::string target, from;
    federation::ClientOptions client;
    bool insecure = false;
  };
  auto va = std::make_shared<VerifyArgs>();
  CLI::App* verify = app.add_subcommand("verify", "Check signatures and asset checksums of STAC items (a file or a folder)");
  verify->add_option("ITEM_OR_DIR", va->target, "An item (or FeatureCollection) JSON file, or a folder of them")->required();
  verify->add_option("--token", va->client.token,
                     "Token for assets on the partner's node: sent only to --from's address or to a partner this node syncs from");
  verify->add_option("--from", va->from, "The partner's node (http(s)://host:port) that --token is for");
  verify->add_option("--ca-cert", va->client.ca_cert, "PEM file of the CA (or self-signed certificate) of the node's HTTPS");
  verify->add_flag("--insecure", va->insecure, "Do not verify TLS certificates (signatures and checksums are still checked)");
  verify->footer("Assets that are local files are hashed in place; assets with http(s) hrefs are fetched and hashed.");
  verify->callback([&global, va] {
    const auto trusted = security::trusted_keys(global.catalog_dir());
    int bad = 0, good = 0;
    json results = json::array();
    federation::ClientOptions client = va->client;
    client.verify_tls = !va->insecure;
    const std::string scratch = (fs::path(global.catalog_dir()) / "sync" / "verify").string();
    // Where the token may go: the origin the user names, else the partners this node syncs from;
    // never an origin read from the item (its links are not signed).
    std::vector<std::string> allowed;
    if (!va->from.empty()) allowed.push_back(federation::parse_url(va->from, "--from").origin());
    else if (!client.token.empty()) allowed = federation::partner_origins(global.catalog_dir());
    std::set<std::string> told;  // origins the user was told get no token (once each)
    for (const auto& [source, item] : items_in(va->target)) {
      auto v = security::verify_item(item, trusted, true);
      std::string token_origin;
      for (const auto& a : item.value("assets", json::object())) {
        const std::string origin = federation::origin_of(a.is_object() ? a.value("href", "") : "");
        if (origin.empty()) continue;
        if (std::find(allowed.begin(), allowed.end(), origin) != allowed.end()) {
          token_origin = origin;
        } else if (!client.token.empty() && !global.quiet && !global.json && told.insert(origin).second) {
          std::fprintf(stderr, "sco: note: the token is not sent to %s (not --from, nor a partner this node syncs from)\n", origin.c_str());
        }
      }
      for (auto& p : federation::check_remote_assets(item, client, token_origin, scratch)) v.problems.push_back(std::move(p));
      v.ok = v.problems.empty();
      (v.ok ? good : bad) += 1;
      results.push_back({{"file", source}, {"item", item.value("id", "")}, {"ok", v.ok}, {"signer", v.signer}, {"problems", v.problems}});
      if (!global.json && !global.quiet) {
        if (v.ok) std::printf("ok    %s (signed by %s)\n", item.value("id", "").c_str(), v.signer.c_str());
        for (const auto& p : v.problems) std::printf("FAIL  %s\n", p.c_str());
      }
    }
    if (global.json) std::printf("%s\n", json{{"verified", good}, {"failed", bad}, {"items", results}}.dump(2).c_str());
    if (bad) core::fail(core::ErrorCode::kInvalidInput, "{} of {} item{} failed verification", bad, bad + good, bad + good == 1 ? "" : "s");
  });

  // sco audit verify|tail
  CLI::App* audit = app.add_subcommand("audit", "The node's hash-chained audit log");
  audit->require_subcommand(1);
  audit->add_subcommand("verify", "Check that no entry was edited, removed or reordered, and match catalog changes to their entries")
      ->callback([&global] {
    auto c = security::verify_audit(global.catalog_dir());
    // Entries written ahead of a catalog transaction against what the catalog confirms: an entry
    // without confirmation is work that did not commit (interrupted); a confirmation without its
    // entry means the log lost it.
    json uncommitted = json::array();
    if (fs::exists(fs::path(global.catalog_dir()) / "catalog.sqlite")) {
      auto confirmed = catalog::open_node_store(global.catalog_dir())->audit_confirmations();
      for (const auto& a : c.written_ahead) {
        const auto it = confirmed.find(a.entry.seq);
        if (it == confirmed.end()) {
          uncommitted.push_back({{"seq", a.entry.seq}, {"event", a.event}});
          continue;
        }
        if (it->second != a.entry.hash) c.problems.push_back(fmt::format("entry {} ({}): the catalog confirms another entry under that number", a.entry.seq, a.event));
        confirmed.erase(it);
      }
      for (const auto& [seq, hash] : confirmed) {
        c.problems.push_back(fmt::format("the catalog confirms a change audited as entry {}, which the log does not hold", seq));
      }
      c.ok = c.problems.empty();
    }
    if (global.json) {
      std::printf("%s\n", json{{"ok", c.ok}, {"entries", c.entries}, {"problems", c.problems}, {"uncommitted", uncommitted}}.dump(2).c_str());
    } else if (!global.quiet) {
      for (const auto& p : c.problems) std::printf("FAIL  %s\n", p.c_str());
      for (const auto& u : uncommitted) {
        std::printf("note  entry %zu (%s): written ahead of a catalog change that did not commit (interrupted; the catalog holds none of it)\n",
                    u["seq"].get<std::size_t>(), u["event"].get<std::string>().c_str());
      }
      if (c.ok) std::printf("audit log intact: %zu entries\n", c.entries);
    }
    if (!c.ok) core::fail(core::ErrorCode::kInvalidInput, "the audit log was altered ({} problem{})", c.problems.size(), c.problems.size() == 1 ? "" : "s");
  });
  auto n = std::make_shared<std::size_t>(20);
  CLI::App* tail = audit->add_subcommand("tail", "The last entries");
  tail->add_option("-n", *n, "How many")->capture_default_str();
  tail->callback([&global, n] {
    for (const auto& l : security::audit_tail(global.catalog_dir(), *n)) std::printf("%s\n", l.c_str());
  });

  // sco token create|list|revoke
  CLI::App* token = app.add_subcommand("token", "API tokens (stored only as salted hashes)");
  token->require_subcommand(1);
  auto owner = std::make_shared<std::string>();
  auto role = std::make_shared<std::string>("reader");
  CLI::App* create = token->add_subcommand("create", "Create a token; it is printed once, keep it");
  create->add_option("--owner", *owner, "Who holds it (a person or partner node)")->required();
  create->add_option("--role", *role, "admin, partner or reader")->capture_default_str();
  create->callback([&global, owner, role] {
    security::TokenInfo info;
    const std::string t = security::create_token(global.catalog_dir(), *owner, *role, &info);
    const auto k = security::NodeKeys::load_or_create(global.catalog_dir());
    security::audit(global.catalog_dir(), k, "token.create", {{"id", info.id}, {"owner", info.owner}, {"role", info.role}});
    if (global.json) std::printf("%s\n", json{{"token", t}, {"id", info.id}, {"owner", info.owner}, {"role", info.role}}.dump(2).c_str());
    else std::printf("%s\n", t.c_str());
  });
  token->add_subcommand("list", "Tokens (ids, owners, roles; never the secrets)")->callback([&global] {
    const auto all = security::list_tokens(global.catalog_dir());
    if (global.json) {
      json j = json::array();
      for (const auto& t : all) j.push_back({{"id", t.id}, {"owner", t.owner}, {"role", t.role}, {"created", t.created}, {"revoked", t.revoked}});
      std::printf("%s\n", j.dump(2).c_str());
      return;
    }
    for (const auto& t : all) {
      std::printf("%s  %-8s %-20s %s%s\n", t.id.c_str(), t.role.c_str(), t.owner.c_str(), t.created.c_str(), t.revoked ? "  revoked" : "");
    }
  });
  auto id = std::make_shared<std::string>();
  CLI::App* revoke = token->add_subcommand("revoke", "Revoke a token by its id");
  revoke->add_option("ID", *id, "The token id (sco token list)")->required();
  revoke->callback([&global, id] {
    security::revoke_token(global.catalog_dir(), *id);
    const auto k = security::NodeKeys::load_or_create(global.catalog_dir());
    security::audit(global.catalog_dir(), k, "token.revoke", {{"id", *id}});
    if (!global.quiet) std::printf("revoked %s\n", id->c_str());
  });
}

}  // namespace sco::app
