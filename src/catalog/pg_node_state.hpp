#pragma once
// The node's shared state (security/node_state.hpp: tokens, users, the audit log and its signed head,
// rate-limit buckets) in the node's PostgreSQL catalog, so that several `sco serve` replicas on one
// database behind a load balancer are one node to their callers:
//   - documents as rows changed in transactions under the row's lock, with a version bumped on each
//     change (what the replicas' token caches compare);
//   - audit entries as rows appended under an advisory lock, the head beside them, both in the
//     appending transaction: every replica extends the same chain;
//   - rate-limit buckets updated by one statement per request (an UNLOGGED table: lost buckets after
//     a crash only refill them).
#include <memory>
#include <string>

#include "security/node_state.hpp"

namespace sco::catalog {

// The state in the database at `uri` (its schema created or migrated as the catalog's).
std::shared_ptr<security::NodeState> open_postgres_node_state(const std::string& uri);

// For security::set_node_state_resolver: a node whose catalog is in PostgreSQL ($SCO_CATALOG_URI or
// DIR/catalog.uri) keeps its state there; others keep it in their folder.
security::NodeStateResolver node_state_in_catalog();

// The state that goes with a catalog location given to `sco catalog copy`: a folder's own, or the
// database's.
std::shared_ptr<security::NodeState> location_node_state(const std::string& location);

}  // namespace sco::catalog
