// The catalog stores, SQLite and PostgreSQL/PostGIS (the same tests on both: test_catalog and, with
// SCO_STORE_POSTGRES, test_catalog_pg on a real server): searches by bbox, datetime interval, ids and
// collections, paging, and transactions that land whole or not at all.
#include <gtest/gtest.h>

#include <set>

#include <fmt/format.h>
#include <sqlite3.h>

#include "catalog/ingest.hpp"
#include "catalog/store.hpp"
#include "core/error.hpp"
#include "support/pg_cluster.hpp"
#include "support/temp_dir.hpp"

using namespace sco;
using sco::test::TempDir;
using nlohmann::json;

namespace {
// Item k: a 1x1 degree box at longitude k, latitude 0..1, dated 2020-01-(k+1).
json make_item(int k, const std::string& coll) {
  return {{"type", "Feature"}, {"stac_version", "1.0.0"}, {"id", "i" + std::to_string(k)}, {"collection", coll},
          {"bbox", {k, 0, k + 1, 1}}, {"geometry", nullptr},
          {"properties", {{"datetime", fmt::format("2020-01-{:02d}T00:00:00Z", k + 1)}}}, {"assets", json::object()},
          {"links", json::array()}};
}
std::set<std::string> ids(const catalog::SearchPage& p) {
  std::set<std::string> s;
  for (const auto& i : p.items) s.insert(i["id"].get<std::string>());
  return s;
}

// A store of the kind the test runs on: a folder (SQLite) or a new database of the test's cluster.
class AnyStore : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql") {
      auto& pg = test::PgCluster::shared();
      if (!pg.available()) GTEST_SKIP() << pg.why();
      location_ = pg.new_database();
    } else {
      location_ = dir_.path();
    }
  }
  std::unique_ptr<catalog::CatalogStore> open() const { return catalog::open_store(location_); }
  TempDir dir_;
  std::string location_;
};

}  // namespace

#ifdef SCO_STORE_POSTGRES
INSTANTIATE_TEST_SUITE_P(CatalogStore, AnyStore, ::testing::Values("postgresql"), [](const auto& i) { return i.param; });
#else
INSTANTIATE_TEST_SUITE_P(CatalogStore, AnyStore, ::testing::Values("sqlite"), [](const auto& i) { return i.param; });
#endif

TEST_P(AnyStore, SearchesByBoxTimeIdsAndPages) {
  auto store = open();
  store->transaction([&] {
    store->put_collection(catalog::new_collection("a", "", "", ""));
    store->put_collection(catalog::new_collection("b", "", "", ""));
    for (int k = 0; k < 20; ++k) store->put_item(make_item(k, k < 15 ? "a" : "b"), "sum" + std::to_string(k));
    store->refresh_extent("a");
  });
  catalog::SearchQuery q;
  q.bbox = catalog::BBox{2.5, 0.2, 4.5, 0.8};  // touches items 2, 3, 4
  q.limit = 100;
  EXPECT_EQ(ids(store->search(q)), (std::set<std::string>{"i2", "i3", "i4"}));
  q.datetime_start = "2020-01-04T00:00:00Z";  // items 3.. (dated the 4th onward)
  EXPECT_EQ(ids(store->search(q)), (std::set<std::string>{"i3", "i4"}));
  catalog::SearchQuery c;
  c.collections = {"b"};
  c.limit = 100;
  EXPECT_EQ(store->search(c).matched, 5);
  c.ids = {"i16", "i3"};
  EXPECT_EQ(ids(store->search(c)), (std::set<std::string>{"i16"}));
  // Paging: 20 items by 7: 7 + 7 + 6, each page's `next` leading to the next, no item twice.
  catalog::SearchQuery all;
  all.limit = 7;
  std::set<std::string> seen;
  int pages = 0;
  while (true) {
    const auto page = store->search(all);
    EXPECT_EQ(page.matched, 20);
    for (const auto& i : page.items) EXPECT_TRUE(seen.insert(i["id"].get<std::string>()).second);
    ++pages;
    if (!page.next) break;
    all.after = *page.next;
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), 20u);
  // The collection's extent is the union of its items'.
  const json a = *store->collection("a");
  EXPECT_EQ(a["extent"]["spatial"]["bbox"][0], json({0.0, 0.0, 15.0, 1.0}));
  EXPECT_EQ(a["extent"]["temporal"]["interval"][0], json({"2020-01-01T00:00:00Z", "2020-01-15T00:00:00Z"}));
  // Same checksum: unchanged; another: updated.
  EXPECT_EQ(store->put_item(make_item(1, "a"), "sum1"), catalog::UpsertResult::kUnchanged);
  EXPECT_EQ(store->put_item(make_item(1, "a"), "other"), catalog::UpsertResult::kUpdated);
}

TEST_P(AnyStore, ChecksumsAndDeletion) {
  auto store = open();
  store->put_collection(catalog::new_collection("a", "", "", ""));
  for (int i = 0; i < 3; ++i) store->put_item(make_item(i, "a"), fmt::format("sum{}", i));
  const auto sums = store->item_checksums("a");
  ASSERT_EQ(sums.size(), 3u);
  EXPECT_EQ(sums.at(make_item(1, "a")["id"].get<std::string>()), "sum1");
  EXPECT_TRUE(store->delete_item("a", make_item(1, "a")["id"]));
  EXPECT_FALSE(store->delete_item("a", make_item(1, "a")["id"]));
  EXPECT_EQ(store->item_checksums("a").size(), 2u);
  catalog::SearchQuery q;
  q.collections = {"a"};
  EXPECT_EQ(store->search(q).matched, 2);
}

// openEO jobs and process graphs: per owner, in creation order (an update keeps the place), kept
// across reopening, deleted once.
TEST_P(AnyStore, RecordsKeepTheirOwnerAndOrder) {
  {
    auto store = open();
    store->put_record("job", "j1", "user:ana", {{"id", "j1"}, {"status", "created"}});
    store->put_record("job", "j2", "user:rui", {{"id", "j2"}});
    store->put_record("job", "j3", "user:ana", {{"id", "j3"}});
    store->put_record("process_graph", "user:ana/p", "user:ana", {{"id", "p"}});
    store->put_record("job", "j1", "user:ana", {{"id", "j1"}, {"status", "queued"}});
  }
  auto store = open();
  const auto ana = store->records("job", "user:ana");
  ASSERT_EQ(ana.size(), 2u);
  EXPECT_EQ(ana[0]["id"], "j1");
  EXPECT_EQ(ana[0]["status"], "queued");
  EXPECT_EQ(ana[1]["id"], "j3");
  EXPECT_EQ(store->records("job").size(), 3u);
  EXPECT_EQ(store->records("process_graph").size(), 1u);
  EXPECT_FALSE(store->record("job", "user:ana/p").has_value());  // kinds are apart
  EXPECT_TRUE(store->delete_record("job", "j2"));
  EXPECT_FALSE(store->delete_record("job", "j2"));
  EXPECT_FALSE(store->record("job", "j2").has_value());
}

TEST_P(AnyStore, FailedTransactionLeavesNothing) {
  auto store = open();
  EXPECT_THROW(store->transaction([&] {
    store->put_collection(catalog::new_collection("a", "", "", ""));
    store->put_item(make_item(0, "a"), "x");
    store->put_item(make_item(1, "missing"), "y");  // no such collection: throws
  }),
               core::Error);
  EXPECT_FALSE(store->collection("a").has_value());
  // Reopening sees the same (nothing), and works.
  store.reset();
  store = open();
  EXPECT_TRUE(store->collections().empty());
}

TEST_P(AnyStore, CountsAndFiltersOnTheTreeMatchTheItems) {
  auto store = open();
  store->transaction([&] {
    store->put_collection(catalog::new_collection("a", "", "", ""));
    store->put_collection(catalog::new_collection("b", "", "", ""));
    for (int k = 0; k < 20; ++k) store->put_item(make_item(k, k % 2 ? "a" : "b"), "sum" + std::to_string(k));
  });
  // Box over items 4..12, collection a (odd k: 5, 7, 9, 11), dated the 7th..10th (k = 6..9): 7, 9.
  catalog::SearchQuery q;
  q.bbox = catalog::BBox{4.5, 0.2, 11.5, 0.8};
  q.collections = {"a"};
  q.datetime_start = "2020-01-07T00:00:00Z";
  q.datetime_end = "2020-01-10T00:00:00Z";
  q.limit = 1;
  auto page = store->search(q);
  EXPECT_EQ(page.matched, 2);
  EXPECT_EQ(ids(page), (std::set<std::string>{"i7"}));
  ASSERT_TRUE(page.next.has_value());
  q.after = *page.next;
  page = store->search(q);
  EXPECT_EQ(ids(page), (std::set<std::string>{"i9"}));
  EXPECT_FALSE(page.next.has_value());
  // With ids the count goes through the items: the same answer.
  q.after = 0;
  q.ids = {"i9", "i11"};
  EXPECT_EQ(store->search(q).matched, 1);
  // A moved item: the tree follows its new interval and collection.
  auto moved = make_item(7, "a");
  moved["properties"]["datetime"] = "2021-06-01T00:00:00Z";
  store->put_item(moved, "changed");
  q.ids.clear();
  EXPECT_EQ(store->search(q).matched, 1);
}

#ifndef SCO_STORE_POSTGRES
TEST(CatalogStore, MigratesAVersion1Catalog) {
  TempDir dir;
  {
    // A catalog as sco wrote it before the tree carried collection and interval.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir.path() + "/catalog.sqlite").c_str(), &db), SQLITE_OK);
    const char* sql =
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO meta VALUES('sco_catalog_schema', '1');"
        "CREATE TABLE collections(id TEXT PRIMARY KEY, doc TEXT NOT NULL);"
        "INSERT INTO collections VALUES('a', '{\"id\":\"a\",\"type\":\"Collection\"}');"
        "CREATE TABLE items(key INTEGER PRIMARY KEY, collection TEXT NOT NULL REFERENCES collections(id), id TEXT NOT NULL, "
        "start_dt TEXT NOT NULL, end_dt TEXT NOT NULL, checksum TEXT NOT NULL, doc TEXT NOT NULL, UNIQUE(collection, id));"
        "CREATE VIRTUAL TABLE items_bbox USING rtree(key, minx, maxx, miny, maxy);";
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    for (int k = 0; k < 3; ++k) {
      const std::string doc = make_item(k, "a").dump();
      const std::string dt = fmt::format("2020-01-{:02d}T00:00:00Z", k + 1);
      const std::string ins = fmt::format("INSERT INTO items VALUES({}, 'a', 'i{}', '{}', '{}', 'x', '{}');"
                                          "INSERT INTO items_bbox VALUES({}, {}, {}, 0, 1);",
                                          k + 1, k, dt, dt, doc, k + 1, k, k + 1);
      ASSERT_EQ(sqlite3_exec(db, ins.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    }
    sqlite3_close(db);
  }
  auto store = catalog::open_sqlite_store(dir.path());
  catalog::SearchQuery q;
  q.bbox = catalog::BBox{0.5, 0.2, 2.5, 0.8};  // items 0, 1, 2
  q.datetime_start = "2020-01-02T00:00:00Z";  // 1, 2
  q.collections = {"a"};
  q.limit = 10;
  const auto page = store->search(q);
  EXPECT_EQ(page.matched, 2);
  EXPECT_EQ(ids(page), (std::set<std::string>{"i1", "i2"}));
  store.reset();
  // Opened again: already version 2, same answers.
  EXPECT_EQ(catalog::open_sqlite_store(dir.path())->search(q).matched, 2);
}
#endif

TEST_P(AnyStore, ReadsOneMemberOfEveryCollection) {
  auto store = open();
  json a = catalog::new_collection("a", "", "", "");
  a["sco:visibility"] = "partners";
  json b = catalog::new_collection("b", "", "", "");
  b["sco:visibility"] = 3;  // not a string
  store->put_collection(a);
  store->put_collection(b);
  store->put_collection(catalog::new_collection("c", "", "", ""));
  const auto m = store->collection_member("sco:visibility");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0], (std::pair<std::string, std::optional<std::string>>{"a", "partners"}));
  EXPECT_EQ(m[1], (std::pair<std::string, std::optional<std::string>>{"b", ""}));
  EXPECT_EQ(m[2], (std::pair<std::string, std::optional<std::string>>{"c", std::nullopt}));
}

// An audit entry is confirmed exactly when the transaction that changes the catalog commits.
TEST_P(AnyStore, AuditConfirmationsLandWithTheirTransaction) {
  auto store = open();
  store->transaction([&] {
    store->put_collection(catalog::new_collection("a", "", "", ""));
    store->confirm_audit(3, "h3");
  });
  EXPECT_THROW(store->transaction([&] {
                 store->put_item(make_item(1, "a"), "s1");
                 store->confirm_audit(4, "h4");
                 throw core::Error(core::ErrorCode::kIo, "disk full");
               }),
               core::Error);
  const auto confirmed = store->audit_confirmations();
  ASSERT_EQ(confirmed.size(), 1u);
  EXPECT_EQ(confirmed.at(3), "h3");
  EXPECT_FALSE(store->item("a", "i1").has_value());
  // Reopened: the confirmation is in the file, not in memory.
  store.reset();
  EXPECT_EQ(open()->audit_confirmations().size(), 1u);
}
