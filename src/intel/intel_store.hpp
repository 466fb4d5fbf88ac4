#pragma once
// The node's STIX objects, TAXII status resources, deny rules and allow-list: DIR/intel.sqlite (WAL;
// readers never wait for the writer; a pool of read connections for the server's threads).
//   objects: one row per (collection, id, version); `date_added` (microseconds) strictly increases
//            with each row added, so that `added_after` and the keyset `next` (the row number) page
//            without losing or repeating an object; the object's JSON text kept as received.
//   rules:   deny rules from partners' indicators (range, indicator, signer, validity, revocation).
//   allow:   ranges never denied, besides loopback and partners' own nodes.
//   state:   small named values (the audit log's read position, the deriver's open bursts, the
//            `added_after` of each pulled collection), written in the transactions that use them.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "intel/stix.hpp"  // parse_time_us, format_time_us

namespace sco::intel {

struct StoredObject {
  std::int64_t seq = 0;
  std::string id, version;
  std::int64_t date_added_us = 0;  // format_time_us for its text
  std::string text;                // empty for the manifest
};

struct ObjectQuery {
  std::string collection;
  std::optional<std::int64_t> added_after_us;  // date_added strictly after
  std::vector<std::string> ids, types;
  std::vector<std::string> versions;  // "last" (default), "first", "all", or version timestamps
  std::size_t limit = 1000;
  std::int64_t after_seq = 0;  // the `next` of the previous page
  bool with_text = true;       // false: the manifest (no object text)
};

struct ObjectPage {
  std::vector<StoredObject> objects;
  bool more = false;
};

struct Rule {
  std::string id, range, indicator, signer, source, valid_from, valid_until, created;
  bool revoked = false;
};

struct AllowEntry {
  std::string range, note;
};

// What one transaction writes.
class IntelWriter {
 public:
  virtual ~IntelWriter() = default;
  // Adds an object (its JSON text) to a collection; false when that version is there already.
  virtual bool add_object(const std::string& collection, const nlohmann::json& object, const std::string& text) = 0;
  virtual void set_state(const std::string& key, const std::string& value) = 0;
  virtual void put_status(const std::string& id, const std::string& json_text) = 0;
  virtual bool add_rule(const Rule& rule) = 0;  // false when a rule of that id exists
  virtual std::string last_date_added() const = 0;  // of the rows this transaction added
};

class IntelStore {
 public:
  virtual ~IntelStore() = default;
  virtual void write(const std::function<void(IntelWriter&)>& work) = 0;  // one transaction
  virtual ObjectPage objects(const ObjectQuery& query) = 0;
  // The same page row by row, each object's text seen in place (no copy): `each` gets the row (its text
  // empty) and the text; returns whether there are more rows after the page.
  virtual bool each_object(const ObjectQuery& query, const std::function<void(const StoredObject&, std::string_view)>& each) = 0;
  virtual std::optional<std::string> state(const std::string& key) = 0;
  virtual std::vector<std::pair<std::string, std::string>> states(const std::string& prefix) = 0;  // keys starting with it
  virtual std::optional<std::string> status(const std::string& id) = 0;
  virtual std::vector<Rule> rules() = 0;
  // Changes whenever a rule is added or revoked (by any process): what the server's deny list follows.
  virtual std::int64_t rules_generation() = 0;
  virtual bool revoke_rule(const std::string& id) = 0;
  virtual void add_allow(const AllowEntry& entry) = 0;
  virtual std::vector<AllowEntry> allow_list() = 0;
  virtual std::int64_t object_count(const std::string& collection) = 0;
  // Moves what the write-ahead log holds into the database file and empties the log when no reader
  // needs it (tried for at most 200 ms): readers then map the file instead of reading the log. Returns
  // the log's size before, in bytes.
  virtual std::uint64_t checkpoint(std::uint64_t above_bytes) = 0;
};

std::unique_ptr<IntelStore> open_intel_store(const std::string& catalog_dir);


}  // namespace sco::intel
