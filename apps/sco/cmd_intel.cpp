// sco intel: the node's security events as STIX 2.1 and what partners share of theirs.
//   pull --from URL [--collection ID] [--token T]   a partner's TAXII collections, verified, stored
//   list                                            deny rules (active, expired, revoked)
//   revoke RULE                                     a deny rule stops applying
//   allow RANGE [--note TEXT]                       an address or range never denied
//   derive                                          the audit log's new entries as STIX objects now
//   export [--collection ALIAS|ID] [--out FILE]     a collection as a STIX bundle
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include <sodium.h>

#include "cli_common.hpp"
#include "core/clock.hpp"
#include "federation/taxii_pull.hpp"
#include "intel/exchange.hpp"
#include "security/audit.hpp"

namespace sco::app {

using nlohmann::json;

namespace {

std::string rule_state(const intel::Rule& r, const std::string& now) {
  if (r.revoked) return "revoked";
  if (intel::epoch_ms(r.valid_until) <= intel::epoch_ms(now)) return "expired";
  if (intel::epoch_ms(r.valid_from) > intel::epoch_ms(now)) return "pending";
  return "active";
}

void register_pull(CLI::App* intel, GlobalOptions& global) {
  struct Args {
    federation::PullOptions pull;
    bool insecure = false, password_stdin = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = intel->add_subcommand("pull", "Read a partner's security events over TAXII 2.1, verified, into this node");
  cmd->add_option("--from", args->pull.from, "The partner's TAXII discovery or API root URL (http(s)://host:port/taxii2/)")->required();
  cmd->add_option("--collection", args->pull.collection, "A collection's id, title or alias (default: every one the token may read)");
  cmd->add_option("--token", args->pull.client.token, "A token the partner issued (sent to its origin only); also $SCO_INTEL_TOKEN")
      ->envname("SCO_INTEL_TOKEN");
  cmd->add_option("--user", args->pull.client.user, "HTTP Basic user instead of a token (TAXII servers such as medallion)");
  cmd->add_flag("--password-stdin", args->password_stdin, "Read the Basic password from standard input (else $SCO_INTEL_PASSWORD)");
  cmd->add_option("--page", args->pull.page, "Objects per request")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--ca-cert", args->pull.client.ca_cert, "PEM file of the CA (or self-signed certificate) of the partner's HTTPS");
  cmd->add_flag("--insecure", args->insecure, "Do not verify the partner's TLS certificate (tests only: signatures are still checked)");
  cmd->footer(
      "Each page must be whole STIX 2.1 signed by keys this node trusts (sco trust add); a page that is not\n"
      "is refused whole with every problem listed (pages before it stay). Pulls continue from where the\n"
      "last one stopped (added_after). Indicators of addresses become deny rules of sco serve unless they\n"
      "touch the allow-list (loopback, sco intel allow, partners' own nodes).\n"
      "Exit codes: 0 done, 2 refused (bad objects, signatures, paging, 401/403), 3 no such collection, 4 network.");
  cmd->callback([args, &global] {
    federation::PullOptions o = args->pull;
    o.catalog_dir = global.catalog_dir();
    o.client.verify_tls = !args->insecure;
    if (!o.client.user.empty()) {
      if (args->password_stdin) {
        std::getline(std::cin, o.client.password);
      } else if (const char* p = std::getenv("SCO_INTEL_PASSWORD")) {
        o.client.password = p;
      }
    }
    const auto keys = security::NodeKeys::load_or_create(o.catalog_dir);
    auto store = intel::open_intel_store(o.catalog_dir);
    const auto report = federation::pull_intel(o, *store, keys, [&](const federation::PulledCollection& c) {
      if (global.progress()) std::fprintf(stderr, "\r%s: %zu pages, %zu objects", c.title.c_str(), c.pages, c.objects);
    });
    if (global.progress()) std::fprintf(stderr, "\n");
    json out = {{"api_root", report.api_root}, {"collections", json::array()}};
    for (const auto& c : report.collections) {
      json rules = json::array();
      for (const auto& r : c.rules) rules.push_back({{"id", r.id}, {"range", r.range}, {"signer", r.signer}, {"valid_until", r.valid_until}});
      out["collections"].push_back({{"id", c.id}, {"title", c.title}, {"pages", c.pages}, {"objects", c.objects}, {"stored", c.stored},
                                    {"duplicates", c.duplicates}, {"rules", rules}, {"refused_rules", c.refused_rules}});
      if (!global.json && !global.quiet) {
        std::printf("%s (%s): %zu objects in %zu pages, %zu new, %zu deny rules\n", c.title.c_str(), c.id.c_str(), c.objects, c.pages,
                    c.stored, c.rules.size());
        for (const auto& why : c.refused_rules) std::printf("  not a rule: %s\n", why.c_str());
      }
    }
    if (global.json) std::printf("%s\n", out.dump(2).c_str());
  });
}

void register_rules(CLI::App* intel, GlobalOptions& global) {
  CLI::App* list = intel->add_subcommand("list", "List the deny rules made from partners' indicators");
  list->callback([&global] {
    auto store = intel::open_intel_store(global.catalog_dir());
    const std::string now = core::utc_now();
    json out = json::array();
    for (const auto& r : store->rules()) {
      out.push_back({{"id", r.id}, {"range", r.range}, {"state", rule_state(r, now)}, {"signer", r.signer}, {"indicator", r.indicator},
                     {"valid_from", r.valid_from}, {"valid_until", r.valid_until}, {"source", r.source}});
      if (!global.json) std::printf("%s  %-20s %-8s by %s until %s\n", r.id.c_str(), r.range.c_str(), rule_state(r, now).c_str(), r.signer.c_str(), r.valid_until.c_str());
    }
    if (global.json) std::printf("%s\n", out.dump(2).c_str());
  });
  auto rule = std::make_shared<std::string>();
  CLI::App* revoke = intel->add_subcommand("revoke", "Stop applying a deny rule");
  revoke->add_option("RULE", *rule, "The rule's id (sco intel list)")->required();
  revoke->callback([rule, &global] {
    auto store = intel::open_intel_store(global.catalog_dir());
    if (!store->revoke_rule(*rule)) core::fail(core::ErrorCode::kNotFound, "no active deny rule '{}' (see sco intel list)", *rule);
    security::audit(global.catalog_dir(), security::NodeKeys::load_or_create(global.catalog_dir()), "intel.rule.revoke", {{"rule", *rule}});
    if (!global.quiet) std::printf("revoked %s\n", rule->c_str());
  });
  struct Allow {
    std::string range, note;
  };
  auto allow = std::make_shared<Allow>();
  CLI::App* add = intel->add_subcommand("allow", "Never deny an address or range (partners' nodes and loopback already are)");
  add->add_option("RANGE", allow->range, "An address or CIDR range (203.0.113.0/24, 2001:db8::/32)")->required();
  add->add_option("--note", allow->note, "Why");
  add->callback([allow, &global] {
    const auto r = intel::parse_range(allow->range);
    if (!r) core::fail(core::ErrorCode::kInvalidInput, "RANGE: '{}' is not an address or CIDR range", allow->range);
    auto store = intel::open_intel_store(global.catalog_dir());
    store->add_allow({r->text(), allow->note});
    security::audit(global.catalog_dir(), security::NodeKeys::load_or_create(global.catalog_dir()), "intel.allow", {{"range", r->text()}, {"note", allow->note}});
    if (!global.quiet) std::printf("allowed %s\n", r->text().c_str());
  });
}

void register_export(CLI::App* intel, GlobalOptions& global) {
  struct Args {
    std::string collection = "amber", out;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = intel->add_subcommand("export", "Write one of this node's collections as a STIX 2.1 bundle (latest versions)");
  cmd->add_option("--collection", args->collection, "white, green, amber or inbound (or an id)")->capture_default_str();
  cmd->add_option("--out", args->out, "The bundle's file (default: standard output)");
  cmd->callback([args, &global] {
    const auto keys = security::NodeKeys::load_or_create(global.catalog_dir());
    auto store = intel::open_intel_store(global.catalog_dir());
    intel::DeriveOptions d;
    d.node_name = keys.public_key().name;
    d.key_id = keys.public_key().key_id();
    intel::derive_from_audit(*store, global.catalog_dir(), keys, d);
    std::string id;
    for (const auto& c : intel::collections(d.key_id)) {
      if (c.alias == args->collection || c.id == args->collection) id = c.id;
    }
    if (id.empty()) core::fail(core::ErrorCode::kNotFound, "--collection: no collection '{}' (white, green, amber, inbound)", args->collection);
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    std::string text = fmt::format("{{\"type\":\"bundle\",\"id\":\"bundle--{}\",\"objects\":[", intel::uuid5(intel::uuid5("6ba7b811-9dad-11d1-80b4-00c04fd430c8", "sco:bundle"), std::string(reinterpret_cast<char*>(b), 16)));
    intel::ObjectQuery q;
    q.collection = id;
    q.limit = 100000;
    bool first = true;
    for (;;) {
      const auto page = store->objects(q);
      for (const auto& o : page.objects) {
        text += (first ? "" : ",") + o.text;
        first = false;
      }
      if (!page.more) break;
      q.after_seq = page.objects.back().seq;
    }
    text += "]}\n";
    if (args->out.empty()) {
      std::fwrite(text.data(), 1, text.size(), stdout);
      return;
    }
    const std::string tmp = args->out + ".tmp";
    std::ofstream(tmp, std::ios::binary) << text;
    std::filesystem::rename(tmp, args->out);
  });
}

}  // namespace

void register_intel(CLI::App& app, GlobalOptions& global) {
  CLI::App* intel = app.add_subcommand("intel", "Security events shared with partner nodes: STIX 2.1 over TAXII 2.1, signed");
  intel->require_subcommand(1);
  intel->footer("sco serve publishes this node's events at /taxii2/ (partner tokens read them; partners post to the inbound collection).");
  register_pull(intel, global);
  register_rules(intel, global);
  register_export(intel, global);
  CLI::App* derive = intel->add_subcommand("derive", "Turn the audit log's new entries into STIX objects now (sco serve does it every second)");
  derive->callback([&global] {
    const auto keys = security::NodeKeys::load_or_create(global.catalog_dir());
    auto store = intel::open_intel_store(global.catalog_dir());
    const auto r = intel::derive_from_audit(*store, global.catalog_dir(), keys, {.node_name = keys.public_key().name, .key_id = keys.public_key().key_id()});
    if (global.json) std::printf("%s\n", json({{"entries", r.entries}, {"objects", r.objects}}).dump().c_str());
    else if (!global.quiet) std::printf("%zu audit entries read, %zu objects stored\n", r.entries, r.objects);
  });
}

}  // namespace sco::app
