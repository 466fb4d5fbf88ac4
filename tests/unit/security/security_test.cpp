// Canonical JSON against RFC 8785's own examples; signatures, trust, tampering; the audit chain
// against edits, deletions, reorderings and truncation; tokens stored only as hashes.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "security/audit.hpp"
#include "security/jcs.hpp"
#include "security/keys.hpp"
#include "security/tokens.hpp"
#include "security/users.hpp"
#include "support/temp_dir.hpp"

using namespace sco;
using namespace sco::security;
using nlohmann::json;
using sco::test::TempDir;

TEST(Jcs, Rfc8785Examples) {
  // RFC 8785 section 3.2.2 (the input written as JSON text, parsed, then canonicalized).
  const json in = json::parse(R"({"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/", "literals": [null, true, false]})");
  EXPECT_EQ(canonical_json(in),
            "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
            "\"string\":\"\u20ac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
  // Number serialization (RFC 8785 appendix B, ECMAScript's Number.prototype.toString).
  EXPECT_EQ(canonical_number(-0.0), "0");
  EXPECT_EQ(canonical_number(1e21), "1e+21");
  EXPECT_EQ(canonical_number(1e20), "100000000000000000000");
  EXPECT_EQ(canonical_number(1e-7), "1e-7");
  EXPECT_EQ(canonical_number(0.000001), "0.000001");
  EXPECT_EQ(canonical_number(9007199254740992.0), "9007199254740992");
  EXPECT_EQ(canonical_number(-1.5e-9), "-1.5e-9");
  EXPECT_EQ(canonical_number(295147905179352830000.0), "295147905179352830000");
  EXPECT_EQ(canonical_number(5e-324), "5e-324");
  EXPECT_THROW(canonical_number(std::nan("")), core::Error);
  // Member order by UTF-16 code units: U+1F600 (surrogates D83D..) sorts before U+FB33.
  EXPECT_EQ(canonical_json(json::parse("{\"\\ufb33\": 1, \"\\ud83d\\ude00\": 2}")), "{\"\xF0\x9F\x98\x80\":2,\"\xEF\xAC\xB3\":1}");
}

TEST(Keys, SignVerifyTamperAndTrust) {
  TempDir a, b;
  const NodeKeys ka = NodeKeys::load_or_create(a.path(), "agency-a");
  const NodeKeys kb = NodeKeys::load_or_create(b.path(), "agency-b");
  struct stat st{};
  ASSERT_EQ(::stat((std::filesystem::path(a.path()) / "keys" / "node.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Reloading gives the same key.
  EXPECT_EQ(NodeKeys::load_or_create(a.path()).public_key().key, ka.public_key().key);
  json item = {{"type", "Feature"}, {"id", "x"}, {"properties", {{"datetime", "2020-01-01T00:00:00Z"}, {"v", 1.5}}}, {"links", json::array()}};
  sign_item(item, ka);
  // B does not trust A yet; then it does.
  EXPECT_NE(verify_item(item, trusted_keys(b.path()), false).problems.at(0).find("does not trust"), std::string::npos);
  trust_key(b.path(), "agency-a", (std::filesystem::path(a.path()) / "keys" / "node.pub").string());
  const Verdict ok = verify_item(item, trusted_keys(b.path()), false);
  EXPECT_TRUE(ok.ok);
  EXPECT_EQ(ok.signer, "agency-a");
  // Links are not signed (every server rewrites them); a property is.
  item["links"] = json::array({{{"rel", "self"}, {"href", "http://elsewhere/x"}}});
  EXPECT_TRUE(verify_item(item, trusted_keys(b.path()), false).ok);
  // An asset's href is not signed (each node keeps its copy elsewhere); its checksum is.
  item["assets"] = {{"data", {{"href", "/a/x.tif"}, {"file:checksum", "1220" + std::string(64, 'a')}}}};
  sign_item(item, ka);
  item["assets"]["data"]["href"] = "https://b.example/assets/x";
  EXPECT_TRUE(verify_item(item, trusted_keys(b.path()), false).ok);
  item["assets"]["data"]["file:checksum"] = "1220" + std::string(64, 'b');
  EXPECT_FALSE(verify_item(item, trusted_keys(b.path()), false).ok);
  item["assets"]["data"]["file:checksum"] = "1220" + std::string(64, 'a');
  item["properties"]["v"] = 1.6;
  EXPECT_NE(verify_item(item, trusted_keys(b.path()), false).problems.at(0).find("does not match its content"), std::string::npos);
  json unsigned_item = {{"id", "y"}};
  EXPECT_NE(verify_item(unsigned_item, trusted_keys(b.path()), false).problems.at(0).find("not signed"), std::string::npos);
}

TEST(Audit, DetectsEditsDeletionsReorderingsAndTruncation) {
  TempDir d;
  const NodeKeys k = NodeKeys::load_or_create(d.path(), "n");
  for (int i = 0; i < 5; ++i) audit(d.path(), k, "ingest", {{"n", i}});
  EXPECT_TRUE(verify_audit(d.path()).ok);
  EXPECT_EQ(verify_audit(d.path()).entries, 5u);
  const auto log = std::filesystem::path(d.path()) / "audit.log";
  std::vector<std::string> lines;
  {
    std::ifstream f(log);
    for (std::string l; std::getline(f, l);) lines.push_back(l);
  }
  auto write = [&](const std::vector<std::string>& ls) {
    std::ofstream f(log, std::ios::trunc);
    for (const auto& l : ls) f << l << "\n";
  };
  auto edited = lines;
  edited[2].replace(edited[2].find("\"n\":2"), 5, "\"n\":7");
  write(edited);
  EXPECT_NE(verify_audit(d.path()).problems.at(0).find("line 3: its content does not match its hash"), std::string::npos);
  auto removed = lines;
  removed.erase(removed.begin() + 1);
  write(removed);
  EXPECT_FALSE(verify_audit(d.path()).ok);
  auto swapped = lines;
  std::swap(swapped[1], swapped[3]);
  write(swapped);
  EXPECT_FALSE(verify_audit(d.path()).ok);
  auto truncated = lines;
  truncated.pop_back();
  write(truncated);
  const auto t = verify_audit(d.path());
  ASSERT_FALSE(t.ok);
  EXPECT_NE(t.problems.back().find("removed at the end"), std::string::npos);
  write(lines);
  EXPECT_TRUE(verify_audit(d.path()).ok);
}

TEST(Tokens, ShownOnceStoredAsHashRevocable) {
  TempDir d;
  TokenInfo info;
  const std::string token = create_token(d.path(), "agency-b", "partner", &info);
  EXPECT_EQ(token.size(), 81u);
  std::ifstream f(std::filesystem::path(d.path()) / "tokens.json");
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(ss.str().find(token.substr(17)), std::string::npos) << "the secret must not be stored";
  const auto ok = check_token(d.path(), token);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->role, "partner");
  std::string wrong = token;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  EXPECT_FALSE(check_token(d.path(), wrong).has_value());
  revoke_token(d.path(), info.id);
  EXPECT_FALSE(check_token(d.path(), token).has_value());
  EXPECT_THROW(create_token(d.path(), "x", "superuser"), core::Error);
}

// Signing sets the version (`updated`, inside the signed content), and versions order by time
// whatever the digits of their fractions.
TEST(Keys, SignedVersionsOrder) {
  TempDir a;
  const NodeKeys ka = NodeKeys::load_or_create(a.path(), "agency-a");
  json item = {{"type", "Feature"}, {"id", "x"}, {"properties", {{"datetime", "2020-01-01T00:00:00Z"}}}};
  sign_item(item, ka);
  const std::string v1 = item["properties"]["updated"];
  EXPECT_EQ(v1.size(), 24u) << v1;  // 2026-12-06T05:00:00.123Z
  EXPECT_TRUE(verify_item(item, trusted_keys(a.path()), false).ok);
  item["properties"]["updated"] = "2099-01-01T00:00:00.000Z";  // a forged newer version breaks the signature
  EXPECT_FALSE(verify_item(item, trusted_keys(a.path()), false).ok);
  EXPECT_LT(version_order("2021-01-01T00:00:00Z"), version_order("2021-01-01T00:00:00.1Z"));
  EXPECT_LT(version_order("2021-01-01T00:00:00.25Z"), version_order("2021-01-01T00:00:00.5Z"));
  EXPECT_LT(version_order("2021-01-01T10:00:00Z"), version_order("2021-01-01T09:30:00-01:00"));  // 10:30 UTC
  EXPECT_LT(version_order(""), version_order("0001-01-01T00:00:00Z"));
  EXPECT_EQ(version_order("not a date"), "");
}

// Entries written ahead of a catalog transaction say so, and verify lists them for the catalog to
// confirm.
TEST(Audit, EntriesWrittenAheadAreListed) {
  TempDir d;
  const NodeKeys k = NodeKeys::load_or_create(d.path(), "n");
  audit(d.path(), k, "token.create", {{"id", "t"}});
  const AuditEntry e = audit_ahead(d.path(), k, "ingest", {{"collection", "c"}});
  const AuditCheck c = verify_audit(d.path());
  EXPECT_TRUE(c.ok);
  ASSERT_EQ(c.written_ahead.size(), 1u);
  EXPECT_EQ(c.written_ahead[0].entry.seq, 1u);
  EXPECT_EQ(c.written_ahead[0].entry.hash, e.hash);
  EXPECT_EQ(c.written_ahead[0].event, "ingest");
}

TEST(Users, PasswordsOnlyAsArgon2idHashes) {
  sco::test::TempDir dir;
  sco::security::add_user(dir.path(), "alice", "partner", "correct horse");
  std::ifstream f(dir.file("users.json"));
  const std::string stored((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(stored.find("correct horse"), std::string::npos);
  EXPECT_NE(stored.find("$argon2id$"), std::string::npos);
  EXPECT_EQ(std::filesystem::status(dir.file("users.json")).permissions() & std::filesystem::perms::group_read, std::filesystem::perms::none);
  const auto ok = sco::security::check_password(dir.path(), "alice", "correct horse");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->role, "partner");
  EXPECT_FALSE(sco::security::check_password(dir.path(), "alice", "correct horsE"));
  EXPECT_FALSE(sco::security::check_password(dir.path(), "mallory", "correct horse"));
  EXPECT_THROW(sco::security::add_user(dir.path(), "alice", "reader", "another one"), sco::core::Error);  // taken
  EXPECT_THROW(sco::security::add_user(dir.path(), "bob", "root", "long enough"), sco::core::Error);     // no such role
  EXPECT_THROW(sco::security::add_user(dir.path(), "b/ob", "reader", "long enough"), sco::core::Error);  // not a name
  EXPECT_THROW(sco::security::add_user(dir.path(), "bob", "reader", "short"), sco::core::Error);
  sco::security::remove_user(dir.path(), "alice");
  EXPECT_TRUE(sco::security::list_users(dir.path()).empty());
  EXPECT_FALSE(sco::security::check_password(dir.path(), "alice", "correct horse"));
  EXPECT_THROW(sco::security::remove_user(dir.path(), "alice"), sco::core::Error);
}
