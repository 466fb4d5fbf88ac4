// sco sync --from URL --collection ID [--token T]: a partner's collection into this node's catalog,
// verified (signatures by trusted keys, asset checksums) before anything is committed.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "core/progress.hpp"
#include "federation/sync.hpp"

namespace sco::app {

void register_sync(CLI::App& app, GlobalOptions& global) {
  struct Args {
    federation::SyncOptions sync;
    bool insecure = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("sync", "Pull a partner node's collection, verified, into this node's catalog");
  cmd->add_option("--from", args->sync.from, "The partner node's URL (http(s)://host:port, with or without /stac)")->required();
  cmd->add_option("--collection", args->sync.collection, "The partner's collection id")->required();
  cmd->add_option("--token", args->sync.client.token,
                  "A token the partner issued (sent to the partner's own "
                  "address only); also $SCO_SYNC_TOKEN")
      ->envname("SCO_SYNC_TOKEN");
  cmd->add_option("--ca-cert", args->sync.client.ca_cert, "PEM file of the CA (or self-signed certificate) of the partner's HTTPS");
  cmd->add_flag("--insecure", args->insecure,
                "Do not verify the partner's TLS certificate (tests only: "
                "signatures are still checked)");
  cmd->add_option("--visibility", args->sync.visibility,
                  "Who may see the copy here: public, partners or private "
                  "(default: as the partner has it)")
      ->check(CLI::IsMember({"public", "partners", "private"}));
  cmd->add_option("--parallel", args->sync.threads, "Downloads at a time (default 4)")->check(CLI::Range(1, 64));
  cmd->footer(
      "Every new or changed item must be signed by a key this node "
      "trusts (sco trust add) and every asset\n"
      "must match its signed SHA-256 (file:checksum) and size. Only "
      "when the whole batch passes are the\n"
      "files moved under DIR/synced/ and the items committed in one "
      "transaction; otherwise nothing changes\n"
      "and each failure is listed. Unchanged items are skipped; items "
      "the partner removed are removed.\n"
      "An interrupted sync keeps what it fetched in DIR/sync/staging "
      "and continues it on the next run.\n"
      "Exit codes: 0 done, 2 rejected or refused (401/403), 3 no such "
      "collection, 4 network or disk.");
  cmd->callback([args, &global] {
    federation::SyncOptions o = args->sync;
    o.catalog_dir = global.catalog_dir();
    o.client.verify_tls = !args->insecure;
    core::Progress progress("fetching assets", 0, global.progress());
    std::int64_t last = 0;
    if (global.progress()) {
      o.progress = [&progress, &last](std::int64_t done, std::int64_t total) {
        progress.set_fraction(total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0);
        last = done;
      };
    }
    federation::SyncReport r;
    try {
      r = federation::sync_collection(o);
    } catch (const federation::SyncRejected& e) {
      progress.finish();
      if (global.json) {
        std::printf("%s\n", nlohmann::json{{"ok", false}, {"error", e.what()}, {"problems", e.problems()}}.dump(2).c_str());
      } else if (!global.quiet) {
        for (const auto& p : e.problems()) std::fprintf(stderr, "REJECTED  %s\n", p.c_str());
      }
      throw;
    }
    progress.finish();
    const double mb = static_cast<double>(r.bytes_downloaded) / 1e6;
    if (global.json) {
      std::printf("%s\n", nlohmann::json{{"ok", true},
                                         {"collection", r.collection},
                                         {"from", r.from},
                                         {"listed", r.listed},
                                         {"added", r.added},
                                         {"updated", r.updated},
                                         {"unchanged", r.unchanged},
                                         {"removed", r.removed},
                                         {"assets_downloaded", r.assets_downloaded},
                                         {"assets_reused", r.assets_reused},
                                         {"bytes_downloaded", r.bytes_downloaded},
                                         {"seconds", r.seconds},
                                         {"list_seconds", r.list_seconds},
                                         {"fetch_seconds", r.fetch_seconds},
                                         {"commit_seconds", r.commit_seconds},
                                         {"items_per_second", r.seconds > 0 ? static_cast<double>(r.added + r.updated) / r.seconds : 0.0},
                                         {"signers", r.signers}}
                              .dump(2)
                              .c_str());
    } else if (!global.quiet) {
      std::printf(
          "synced '%s' from %s: %lld new, %lld changed, %lld unchanged, %lld "
          "removed; %lld assets fetched (%.1f MB), %lld reused; "
          "signed by %s; %.1f s\n",
          r.collection.c_str(), r.from.c_str(), static_cast<long long>(r.added), static_cast<long long>(r.updated),
          static_cast<long long>(r.unchanged), static_cast<long long>(r.removed), static_cast<long long>(r.assets_downloaded), mb,
          static_cast<long long>(r.assets_reused), r.signers.empty() ? "-" : fmt::format("{}", fmt::join(r.signers, ", ")).c_str(), r.seconds);
    }
  });
}

}  // namespace sco::app
