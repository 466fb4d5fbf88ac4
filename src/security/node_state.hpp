#pragma once
// Where a node keeps the small state its servers share: its documents (the API tokens, the users), the
// partner keys it trusts,
// its hash-chained audit log with the signed head, and the rate-limit buckets of its callers.
//   - by default the node's folder: DIR/tokens.json, DIR/users.json (owner-only, replaced atomically,
//     changed under flock), DIR/trust/NAME.pub, DIR/audit.log + DIR/audit.head, buckets in this process's memory;
//   - for a node whose catalog is in PostgreSQL, the database (catalog/pg_node_state), so that the
//     replicas of a server behind a load balancer share tokens, users, the log and the rate limits.
// `node_state(dir)` gives the node's state; which one a folder has is decided by the resolver the
// program installs (`set_node_state_resolver`), the folder itself when it installs none.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sco::security {

class NodeState {
 public:
  virtual ~NodeState() = default;
  // A document ("tokens.json", "users.json"): a JSON array, [] when there is none yet.
  virtual nlohmann::json load(const std::string& name) const = 0;
  // `edit` runs on the current document under an exclusive lock (other threads and processes wait);
  // what it leaves replaces the document atomically. An exception leaves the document as it was.
  virtual void change(const std::string& name, const std::function<void(nlohmann::json&)>& edit) = 0;
  // Differs whenever the document changed since: what caches of it compare. Cheap.
  virtual std::string version(const std::string& name) const = 0;

  // The partner keys the node trusts, by name: (name, the key's text as its file holds it).
  virtual std::vector<std::pair<std::string, std::string>> trusted() const = 0;
  // Stores a trusted key under `name`; `check` sees the text already under that name ("" when none),
  // under the lock, and throws to refuse.
  virtual void trust(const std::string& name, const std::string& text, const std::function<void(const std::string& old)>& check) = 0;

  // The audit log. `make` gets the last entry's line ("" when the log is empty) under an exclusive
  // lock and returns the new entry's line and the new head's text; both are durable when append returns.
  struct AuditAppend {
    std::string line, head;
  };
  virtual void append_audit(const std::function<AuditAppend(const std::string& last_line)>& make) = 0;
  // The log's complete lines from `position` (0: the first); `position` moves past them.
  virtual std::vector<std::string> audit_lines(std::uint64_t& position) const = 0;
  // The signed head's text, nullopt when there is none.
  virtual std::optional<std::string> audit_head() const = 0;
  // The position after the last complete line (grows with every entry).
  virtual std::uint64_t audit_end() const = 0;
  // What the log is, for messages: its file, or the database.
  virtual std::string audit_location() const = 0;

  // A token bucket per `key` shared by everyone using this state: true when one request may go now,
  // `rate` per second, bursts up to `burst`.
  virtual bool take(const std::string& key, double rate, double burst) = 0;
};

// The state of the node whose folder is `dir` (made once per folder and kept).
std::shared_ptr<NodeState> node_state(const std::string& dir);
// The folder's own state, whatever the resolver says (what `sco catalog copy` copies from).
std::shared_ptr<NodeState> folder_state(const std::string& dir);
// Decides a folder's state: nullptr keeps the folder's own. Installed once, before any use.
using NodeStateResolver = std::function<std::shared_ptr<NodeState>(const std::string& dir)>;
void set_node_state_resolver(NodeStateResolver resolver);

// Copies documents, trusted keys and the audit log (entries and head, as they are: the chain verifies as before) of
// `from` into `to`, whose log must be empty. Returns the number of audit entries copied.
std::size_t copy_node_state(const NodeState& from, NodeState& to);

}  // namespace sco::security
