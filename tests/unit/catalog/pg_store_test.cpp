// What only the PostgreSQL store has: URIs checked before connecting and never echoed with their
// password, a partition per collection made with the collection (none on the ingest path), two
// writers at once losing nothing, the schema created once and checked on opening, a lost database
// reported and the store usable again when it is back.
#include <gtest/gtest.h>

#include <libpq-fe.h>

#include <thread>

#include <fmt/format.h>

#include "catalog/ingest.hpp"
#include "catalog/store.hpp"
#include "core/error.hpp"
#include "support/pg_cluster.hpp"

using namespace sco;
using nlohmann::json;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const core::Error& e) {
    return fmt::format("{}: {}", core::error_code_name(e.code()), e.what());
  }
  return "no error";
}

json item(int k, const std::string& coll) {
  return {{"type", "Feature"}, {"stac_version", "1.0.0"}, {"id", fmt::format("i{}", k)}, {"collection", coll},
          {"bbox", {k % 360 - 180, -10, k % 360 - 179, -9}}, {"geometry", nullptr},
          {"properties", {{"datetime", "2021-06-01T00:00:00Z"}}}, {"assets", json::object()}, {"links", json::array()}};
}

// One value of a query on the database (psql-free: libpq).
std::string scalar(const std::string& uri, const std::string& sql) {
  PGconn* c = PQconnectdb(uri.c_str());
  PGresult* r = PQexec(c, sql.c_str());
  std::string v = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
  PQclear(r);
  PQfinish(c);
  return v;
}

}  // namespace

TEST(PostgresStore, BadUrisAndUnreachableDatabasesSayWhat) {
  EXPECT_EQ(error_of([] { catalog::open_store("postgresql://sco@127.0.0.1:notaport/db"); }),
            "invalid_input: --catalog: 'postgresql://sco@127.0.0.1:notaport/db': port 'notaport' is not a port number (1-65535)");
  const std::string unknown = error_of([] { catalog::open_store("postgresql://sco@127.0.0.1/db?nonsense=1"); });
  EXPECT_EQ(unknown, "invalid_input: --catalog: 'postgresql://sco@127.0.0.1/db?nonsense=1' is not a PostgreSQL URI: invalid URI query parameter: \"nonsense\"");
  const std::string unreachable = error_of([] { catalog::open_store("postgresql://ana:s3cret@127.0.0.1:1/db"); });
  EXPECT_NE(unreachable.find("unavailable: catalog postgresql://ana@127.0.0.1:1/db: cannot connect"), std::string::npos) << unreachable;
  EXPECT_EQ(unreachable.find("s3cret"), std::string::npos) << "the password must not be shown";
}

TEST(PostgresStore, PartitionsComeWithTheirCollection) {
  auto& pg = test::PgCluster::shared();
  if (!pg.available()) GTEST_SKIP() << pg.why();
  const std::string uri = pg.new_database();
  auto store = catalog::open_store(uri);
  store->put_collection(catalog::new_collection("s2", "", "", ""));
  store->put_collection(catalog::new_collection("landsat", "", "", ""));
  store->put_collection(catalog::new_collection("s2", "again", "", ""));  // an update: no new partition
  EXPECT_EQ(scalar(uri, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'items'::regclass"), "2");
  store->put_item(item(1, "s2"), "a");
  EXPECT_EQ(scalar(uri, "SELECT count(*) FROM " + scalar(uri, "SELECT part FROM collections WHERE id = 's2'")), "1");
  // The GiST index is on the partition too (created by PostgreSQL from the partitioned table's).
  EXPECT_EQ(scalar(uri, "SELECT count(*) FROM pg_indexes WHERE indexdef LIKE '%USING gist (box)%'"), "3");
  // Reopened: the schema is there and checked, not created again.
  store.reset();
  EXPECT_EQ(catalog::open_store(uri)->collections().size(), 2u);
  EXPECT_EQ(scalar(uri, "SELECT value FROM sco_meta WHERE key = 'schema'"), "4");
}

// A version 1 catalog (no space-time boxes) is migrated on opening: every item gets its box, found
// again by box and time, with open intervals and dates that are not dates as open ends.
TEST(PostgresStore, VersionOneIsMigratedOnOpening) {
  auto& pg = test::PgCluster::shared();
  if (!pg.available()) GTEST_SKIP() << pg.why();
  const std::string uri = pg.new_database();
  {
    auto store = catalog::open_store(uri);
    store->put_collection(catalog::new_collection("c", "", "", ""));
    for (int k = 0; k < 20; ++k) store->put_item(item(k, "c"), "s");
    json open = item(100, "c");
    open["properties"] = {{"start_datetime", "2021-05-30T00:00:00Z"}, {"end_datetime", ""}};
    store->put_item(open, "s");
  }
  // Back to version 1 as an older sco made it: no space-time boxes, no node state.
  scalar(uri, "DROP TABLE node_docs, audit_log, audit_head, rate_buckets");
  scalar(uri, "DROP INDEX items_tbox");
  scalar(uri, "ALTER TABLE items DROP COLUMN tbox");
  scalar(uri, "UPDATE sco_meta SET value = '1' WHERE key = 'schema'");
  auto store = catalog::open_store(uri);
  EXPECT_EQ(scalar(uri, "SELECT value FROM sco_meta WHERE key = 'schema'"), "4");
  EXPECT_EQ(scalar(uri, "SELECT count(*) FROM items WHERE tbox IS NULL"), "0");
  EXPECT_EQ(scalar(uri, "SELECT count(*) FROM audit_log"), "0");  // version 2 to 3: the node state's tables
  EXPECT_EQ(scalar(uri, "SELECT round(ST_ZMax(tbox)) FROM items WHERE id = 'i100'"), "10000000");  // the open end
  catalog::SearchQuery q;
  q.bbox = catalog::BBox{-180.5, -9.5, -175.5, -8.5};  // items 0..4 (and the open one's box, 100 % 360 - 180 = -80: not)
  q.datetime_start = "2021-06-01T00:00:00Z";
  q.datetime_end = "2021-06-01T00:00:00Z";
  EXPECT_EQ(store->search(q).matched, 5);
  q.bbox.reset();  // by time alone: the index's time axis, the exact comparison deciding (as on SQLite)
  EXPECT_EQ(store->search(q).matched, 20);
}

TEST(PostgresStore, TwoWritersAtOnceLoseNothing) {
  auto& pg = test::PgCluster::shared();
  if (!pg.available()) GTEST_SKIP() << pg.why();
  const std::string uri = pg.new_database();
  catalog::open_store(uri)->put_collection(catalog::new_collection("c", "", "", ""));
  auto writer = [&](int from) {
    auto store = catalog::open_store(uri);  // its own connections, as another process would have
    for (int batch = 0; batch < 10; ++batch) {
      store->transaction([&] {
        for (int k = 0; k < 50; ++k) store->put_item(item(from + batch * 50 + k, "c"), "s");
      });
    }
  };
  std::thread a(writer, 0), b(writer, 100000);
  a.join();
  b.join();
  catalog::SearchQuery q;
  q.collections = {"c"};
  EXPECT_EQ(catalog::open_store(uri)->search(q).matched, 1000);
}

TEST(PostgresStore, ALostDatabaseIsSaidAndTheStoreRecovers) {
  auto& pg = test::PgCluster::shared();
  if (!pg.available()) GTEST_SKIP() << pg.why();
  const std::string uri = pg.new_database();
  auto store = catalog::open_store(uri);
  store->put_collection(catalog::new_collection("c", "", "", ""));
  pg.stop();
  const std::string lost = error_of([&] { store->collections(); });
  EXPECT_EQ(lost.rfind("unavailable: catalog postgresql://sco@127.0.0.1:", 0), 0u) << lost;
  pg.start();
  // The broken connection was dropped: the next call connects again.
  std::string again = error_of([&] { store->collections(); });
  if (again != "no error") again = error_of([&] { store->collections(); });
  EXPECT_EQ(again, "no error");
  EXPECT_EQ(store->collections().size(), 1u);
}
