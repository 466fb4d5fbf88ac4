// sco catalog copy FROM TO: a whole catalog between stores (a folder's SQLite file, a PostgreSQL
// database), in one transaction of the target; items keep their stored documents, so that their
// signatures verify on the copy (sco verify) as on the original; the node's tokens, users and audit log
// (security/node_state) go with it.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "catalog/pg_node_state.hpp"
#include "catalog/store.hpp"
#include "cli_common.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"

namespace sco::app {

void register_catalog(CLI::App& app, GlobalOptions& global) {
  CLI::App* catalog = app.add_subcommand("catalog", "The node's catalog store: SQLite (a folder) or PostgreSQL/PostGIS (a URI)");
  catalog->require_subcommand(1);
  struct Args {
    std::string from, to;
  };
  auto args = std::make_shared<Args>();
  CLI::App* copy = catalog->add_subcommand("copy", "Copy every collection, item, table, record and audit confirmation between stores");
  copy->add_option("FROM", args->from, "A catalog folder or postgresql://USER@HOST:PORT/DB")->required();
  copy->add_option("TO", args->to, "A catalog folder or postgresql://USER@HOST:PORT/DB")->required();
  copy->footer("The catalog's copy is one transaction of TO: all of it lands or none. The node's shared state goes with it:\n"
               "its tokens, users and audit log (entries and signed head as they are), which TO must not have yet.\n"
               "The node's keys and trusted keys stay files of each node folder (copy them with the folder); sco audit\n"
               "verify checks the chain and the confirmations on the copy.\n"
               "Exit codes: 0 done, 2 a bad URI or a target whose audit log is not empty, 4 a store that cannot be reached or written.");
  copy->callback([args, &global] {
    const auto from = catalog::open_store(args->from);
    const auto to = catalog::open_store(args->to);
    const auto from_state = catalog::location_node_state(args->from), to_state = catalog::location_node_state(args->to);
    if (std::uint64_t p = 0; !to_state->audit_lines(p).empty()) {
      core::fail(core::ErrorCode::kInvalidInput, "{} is not empty: the node's state is not copied over another node's", to_state->audit_location());
    }
    std::size_t total = 0;
    from->read_snapshot([&] {
      catalog::SearchQuery q;
      q.limit = 1;
      total = static_cast<std::size_t>(from->search(q).matched);
    });
    core::Progress progress("copying items", static_cast<std::int64_t>(total), global.progress());
    std::size_t shown = 0;
    const auto r = catalog::copy_catalog(*from, *to, [&](std::size_t n) {
      progress.advance(static_cast<std::int64_t>(n - shown));
      shown = n;
    });
    progress.finish();
    const std::size_t audit_entries = security::copy_node_state(*from_state, *to_state);
    if (global.json) {
      std::printf("%s\n", nlohmann::json({{"collections", r.collections}, {"items", r.items}, {"feature_tables", r.feature_tables},
                                          {"records", r.records}, {"audit_confirmations", r.audit_confirmations},
                                          {"audit_entries", audit_entries}}).dump().c_str());
    } else if (!global.quiet) {
      std::printf("copied %zu collections, %zu items, %zu feature tables, %zu records, %zu audit confirmations, %zu audit entries\n",
                  r.collections, r.items, r.feature_tables, r.records, r.audit_confirmations, audit_entries);
    }
  });
}

}  // namespace sco::app
