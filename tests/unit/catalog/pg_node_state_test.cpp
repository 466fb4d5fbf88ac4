// The node's shared state in PostgreSQL, as two replicas of a server see it: each its own connections
// (a state opened twice on one database), tokens made by one checked and revoked through the other,
// one audit chain extended by both at once and verified whole, one rate limit for both, users, and a
// folder's state copied into the database with its chain intact.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "catalog/pg_node_state.hpp"
#include "core/error.hpp"
#include <fmt/format.h>
#include "security/audit.hpp"
#include "security/keys.hpp"
#include "security/tokens.hpp"
#include "security/users.hpp"
#include "support/pg_cluster.hpp"

using namespace sco;
namespace fs = std::filesystem;

namespace {

// Two node folders (two replicas' machines) naming one database; each resolves to its own state.
struct Replicas {
  std::string uri, a, b;
  Replicas() {
    uri = test::PgCluster::shared().new_database();
    const fs::path root = fs::temp_directory_path() / fmt::format("sco-replicas-{}-{}", ::getpid(), counter()++);
    fs::remove_all(root);
    a = (root / "a").string();
    b = (root / "b").string();
    for (const auto& d : {a, b}) {
      fs::create_directories(d);
      std::ofstream(fs::path(d) / "catalog.uri") << uri << "\n";
    }
    security::set_node_state_resolver(catalog::node_state_in_catalog());
  }
  ~Replicas() {
    security::set_node_state_resolver(nullptr);
    fs::remove_all(fs::path(a).parent_path());
  }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

}  // namespace

TEST(PostgresNodeState, TokensAndUsersAreTheSameOnEveryReplica) {
  if (!test::PgCluster::shared().available()) GTEST_SKIP() << test::PgCluster::shared().why();
  Replicas r;
  security::TokenInfo info;
  const std::string token = security::create_token(r.a, "alice", "partner", &info);
  ASSERT_TRUE(security::check_token(r.b, token));
  EXPECT_EQ(security::check_token(r.b, token)->owner, "alice");
  EXPECT_FALSE(fs::exists(fs::path(r.a) / "tokens.json"));  // in the database, not in the folder
  const std::string before = security::node_state(r.a)->version("tokens.json");
  security::revoke_token(r.b, info.id);
  EXPECT_NE(security::node_state(r.a)->version("tokens.json"), before);  // what the replicas' caches compare
  EXPECT_FALSE(security::check_token(r.a, token));
  EXPECT_THROW(security::revoke_token(r.a, "000000000000"), core::Error);

  security::add_user(r.a, "bob", "reader", "long enough");
  EXPECT_TRUE(security::check_password(r.b, "bob", "long enough"));
  EXPECT_FALSE(security::check_password(r.b, "bob", "not his one"));
  EXPECT_THROW(security::add_user(r.b, "bob", "reader", "long enough"), core::Error);  // taken, seen from the other
  security::remove_user(r.b, "bob");
  EXPECT_TRUE(security::list_users(r.a).empty());
}

TEST(PostgresNodeState, BothReplicasExtendOneAuditChain) {
  if (!test::PgCluster::shared().available()) GTEST_SKIP() << test::PgCluster::shared().why();
  Replicas r;
  // One node: the same key pair on both replicas.
  const auto keys = security::NodeKeys::load_or_create(r.a);
  fs::copy(r.a, r.b, fs::copy_options::overwrite_existing | fs::copy_options::recursive);
  const auto keys_b = security::NodeKeys::load_or_create(r.b);
  auto writer = [&](const std::string& dir, const security::NodeKeys& k, int n) {
    for (int i = 0; i < n; ++i) security::audit(dir, k, "test.event", {{"dir", dir}, {"i", i}});
  };
  std::thread ta(writer, r.a, std::cref(keys), 60), tb(writer, r.b, std::cref(keys_b), 60);
  ta.join();
  tb.join();
  const auto check = security::verify_audit(r.b);
  EXPECT_TRUE(check.ok) << (check.problems.empty() ? "" : check.problems.front());
  EXPECT_EQ(check.entries, 120u);
  EXPECT_EQ(security::audit_tail(r.a, 500).size(), 120u);
  EXPECT_EQ(security::node_state(r.a)->audit_end(), 120u);
  std::uint64_t from = 100;
  EXPECT_EQ(security::node_state(r.b)->audit_lines(from).size(), 20u);
  EXPECT_EQ(from, 120u);
  EXPECT_FALSE(fs::exists(fs::path(r.a) / "audit.log"));
}

TEST(PostgresNodeState, OneRateLimitForAllReplicas) {
  if (!test::PgCluster::shared().available()) GTEST_SKIP() << test::PgCluster::shared().why();
  Replicas r;
  auto a = catalog::open_postgres_node_state(r.uri), b = catalog::open_postgres_node_state(r.uri);
  // 1 per second, bursts of 10: whoever asks, about 10 pass in the first half second, not 20.
  std::atomic<int> passed{0};
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  auto client = [&](security::NodeState& s) {
    while (std::chrono::steady_clock::now() < until) passed += s.take("ip:192.0.2.1", 1.0, 10.0) ? 1 : 0;
  };
  std::thread ta(client, std::ref(*a)), tb(client, std::ref(*b));
  ta.join();
  tb.join();
  EXPECT_GE(passed.load(), 10);
  EXPECT_LE(passed.load(), 11);
  EXPECT_TRUE(a->take("ip:192.0.2.2", 1.0, 10.0));  // another caller has its own bucket
}

TEST(PostgresNodeState, AFoldersStateIsCopiedWithItsChainIntact) {
  if (!test::PgCluster::shared().available()) GTEST_SKIP() << test::PgCluster::shared().why();
  Replicas r;
  const fs::path folder = fs::path(r.a).parent_path() / "old-node";
  const auto keys = security::NodeKeys::load_or_create(folder.string());
  for (int i = 0; i < 5; ++i) security::audit(folder.string(), keys, "old.event", {{"i", i}});
  const std::string token = security::create_token(folder.string(), "carol", "reader");
  const auto partner = security::NodeKeys::load_or_create((folder / "partner").string());
  security::trust_key(folder.string(), "partner", (folder / "partner" / "keys" / "node.pub").string());
  auto to = catalog::location_node_state(r.uri);
  EXPECT_EQ(security::copy_node_state(*catalog::location_node_state(folder.string()), *to), 5u);
  fs::copy(folder / "keys", fs::path(r.a) / "keys", fs::copy_options::overwrite_existing | fs::copy_options::recursive);  // the node's keys go with it
  const auto check = security::verify_audit(r.a);
  EXPECT_TRUE(check.ok) << (check.problems.empty() ? "" : check.problems.front());
  EXPECT_EQ(check.entries, 5u);
  EXPECT_TRUE(security::check_token(r.a, token));
  const auto trusted = security::trusted_keys(r.b);  // on the other replica too
  ASSERT_EQ(trusted.size(), 1u);  // the partner's (r.b has no key pair of its own here)
  EXPECT_EQ(trusted[0].name, "partner");
  EXPECT_EQ(trusted[0].key_id(), partner.public_key().key_id());
  EXPECT_FALSE(fs::exists(fs::path(r.a) / "trust"));
  // A second copy would mix two chains: refused.
  EXPECT_THROW(security::copy_node_state(*catalog::location_node_state(folder.string()), *to), core::Error);
}
