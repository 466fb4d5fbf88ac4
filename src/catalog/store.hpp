#pragma once
// The catalog's storage: STAC collections and items as JSON documents, with what searches need
// (bounding box, datetime interval, ids) indexed beside them. `CatalogStore` is the interface callers
// use; `open_sqlite_store` is the embedded default, `open_postgres_store` the store for scale.
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sco::catalog {

struct BBox {
  double west = 0, south = 0, east = 0, north = 0;
};

struct SearchQuery {
  std::vector<std::string> collections;  // empty: all
  std::vector<std::string> ids;          // empty: all
  std::optional<BBox> bbox;              // WGS 84; intersecting items
  std::string datetime_start, datetime_end;  // ISO 8601 UTC, empty: open; items whose interval meets it
  int limit = 10;
  std::int64_t after = 0;  // paging: items after this key (from SearchPage::next)
  bool raw = false;        // fill SearchPage::documents (stored JSON text) instead of items
};

struct SearchPage {
  std::vector<nlohmann::json> items;
  std::vector<std::string> documents;  // with SearchQuery::raw: each item's stored JSON text
  std::vector<std::int64_t> keys;  // each item's paging key
  std::int64_t matched = 0;
  std::optional<std::int64_t> next;  // the key to pass as `after` for the next page
};

enum class UpsertResult { kInserted, kUpdated, kUnchanged };

class CatalogStore {
 public:
  virtual ~CatalogStore() = default;
  virtual void put_collection(const nlohmann::json& collection) = 0;
  virtual std::optional<nlohmann::json> collection(const std::string& id) const = 0;
  virtual std::vector<nlohmann::json> collections() const = 0;
  // Each collection's id with its top-level member `key` when that is a string; nullopt when the
  // member is absent, "" when it is there but not a string. Reads one member, not whole documents.
  virtual std::vector<std::pair<std::string, std::optional<std::string>>> collection_member(const std::string& key) const = 0;
  // Inserts or replaces; `checksum` identifies the content (unchanged when equal to the stored one).
  // The collection must exist.
  virtual UpsertResult put_item(const nlohmann::json& item, const std::string& checksum) = 0;
  // Many items at once (a copy, a bulk load), each as put_item would; a store may send them in batches.
  virtual void put_items(const std::vector<std::pair<nlohmann::json, std::string>>& items) {
    for (const auto& [item, checksum] : items) put_item(item, checksum);
  }
  // Sets the collection's extent to the union of its items' bounding boxes and time intervals.
  virtual void refresh_extent(const std::string& collection) = 0;
  virtual std::optional<nlohmann::json> item(const std::string& collection, const std::string& id) const = 0;
  virtual std::optional<std::string> item_checksum(const std::string& collection, const std::string& id) const = 0;
  // Every item of a collection: id -> checksum (what a sync compares against a partner's listing).
  virtual std::map<std::string, std::string> item_checksums(const std::string& collection) const = 0;
  // Removes an item; false when there was none.
  virtual bool delete_item(const std::string& collection, const std::string& id) = 0;
  virtual SearchPage search(const SearchQuery& query) const = 0;
  // Per-district tables (a run's GeoJSON outputs), served as OGC API Features collections:
  // {"id", "title", "description", "path", "id_column", "bbox", "recipe", "units"}.
  virtual void put_feature_table(const nlohmann::json& table) = 0;
  virtual std::vector<nlohmann::json> feature_tables() const = 0;
  virtual std::optional<nlohmann::json> feature_table(const std::string& id) const = 0;
  // The node's own records beside the STAC documents: openEO batch jobs ("job") and user-defined
  // process graphs ("process_graph"), each a JSON document under (kind, id) with its owner.
  virtual void put_record(const std::string& kind, const std::string& id, const std::string& owner, const nlohmann::json& doc) = 0;
  virtual std::optional<nlohmann::json> record(const std::string& kind, const std::string& id) const = 0;
  // A kind's records, oldest first; of one owner when `owner` is not empty.
  virtual std::vector<nlohmann::json> records(const std::string& kind, const std::string& owner = "") const = 0;
  virtual bool delete_record(const std::string& kind, const std::string& id) = 0;
  // A kind's records with their keys and owners, oldest first (what a copy of the catalog needs).
  struct RecordEntry {
    std::string id, owner;
    nlohmann::json doc;
  };
  virtual std::vector<RecordEntry> record_entries(const std::string& kind) const = 0;
  // Records, inside the current transaction, that the audit entry (seq, hash) written ahead of it
  // belongs to it: the entry is confirmed exactly when the transaction commits.
  virtual void confirm_audit(std::uint64_t seq, const std::string& hash) = 0;
  // Every confirmed audit entry: seq -> hash.
  virtual std::map<std::uint64_t, std::string> audit_confirmations() const = 0;
  // Runs `work` in one transaction: all of it lands or none.
  virtual void transaction(const std::function<void()>& work) = 0;
  // Runs `work` with every read of this thread on one snapshot of the catalog: a visibility checked
  // and the items then read belong to the same state, never to either side of a commit in between.
  // Nested calls join the outer snapshot.
  virtual void read_snapshot(const std::function<void()>& work) const = 0;
};

// What both stores index an item by: its time interval ([datetime, datetime] or [start_datetime,
// end_datetime], "" for an open end), and a collection's extent from its items' box and interval.
std::pair<std::string, std::string> item_interval(const nlohmann::json& item);
void set_extent(nlohmann::json& collection, const std::array<double, 4>& west_south_east_north, const std::string& start, const std::string& end);

// Opens (creating when absent) DIR/catalog.sqlite: WAL journal, an R*Tree on item bounding boxes,
// an index on datetimes. Throws naming the file when it is locked, corrupt or not a sco catalog.
std::unique_ptr<CatalogStore> open_sqlite_store(const std::string& dir);

// PostgreSQL with PostGIS (catalog/pg_store.cpp): a libpq URI, postgresql://USER@HOST:PORT/DB. Throws
// kInvalidInput naming what is wrong with a malformed URI, kIo when the database cannot be reached
// (the message never shows a password); creates the schema on first use.
bool is_postgres_uri(const std::string& location);
std::unique_ptr<CatalogStore> open_postgres_store(const std::string& uri);
// A folder (SQLite) or a postgresql:// URI.
std::unique_ptr<CatalogStore> open_store(const std::string& location);
// The catalog of the node whose files (keys, tokens, audit log) are in `node_dir`: the PostgreSQL
// database named by $SCO_CATALOG_URI, else by the file DIR/catalog.uri, else DIR/catalog.sqlite.
std::unique_ptr<CatalogStore> open_node_store(const std::string& node_dir);
// The PostgreSQL URI of that catalog, "" when it is the folder's SQLite file.
std::string node_catalog_uri(const std::string& node_dir);
// Where that catalog is, for messages ("postgresql://user@host:port/db", password left out, or the folder).
std::string node_store_location(const std::string& node_dir);

struct CopyReport {
  std::size_t collections = 0, items = 0, feature_tables = 0, records = 0, audit_confirmations = 0;
};
// Copies every collection (its partition made first), item (its stored document and checksum, so
// that signatures verify as before), feature table, record and audit confirmation of `from` into
// `to`, in one transaction of `to`. `progress` gets the items copied so far.
CopyReport copy_catalog(const CatalogStore& from, CatalogStore& to, const std::function<void(std::size_t)>& progress = {});

}  // namespace sco::catalog
