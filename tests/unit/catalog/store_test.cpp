// The SQLite store: searches by bbox (R*Tree), datetime interval, ids and collections, paging, and
// transactions that land whole or not at all.
#include <gtest/gtest.h>

#include <set>

#include <fmt/format.h>

#include "catalog/ingest.hpp"
#include "catalog/store.hpp"
#include "core/error.hpp"
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
}  // namespace

TEST(CatalogStore, SearchesByBoxTimeIdsAndPages) {
  TempDir dir;
  auto store = catalog::open_sqlite_store(dir.path());
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

TEST(CatalogStore, ChecksumsAndDeletion) {
  TempDir dir;
  auto store = catalog::open_sqlite_store(dir.path());
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

TEST(CatalogStore, FailedTransactionLeavesNothing) {
  TempDir dir;
  auto store = catalog::open_sqlite_store(dir.path());
  EXPECT_THROW(store->transaction([&] {
    store->put_collection(catalog::new_collection("a", "", "", ""));
    store->put_item(make_item(0, "a"), "x");
    store->put_item(make_item(1, "missing"), "y");  // no such collection: throws
  }),
               core::Error);
  EXPECT_FALSE(store->collection("a").has_value());
  // Reopening sees the same (nothing), and works.
  store.reset();
  store = catalog::open_sqlite_store(dir.path());
  EXPECT_TRUE(store->collections().empty());
}
