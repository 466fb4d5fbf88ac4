// The intel kernels by hand: addresses and ranges, STIX patterns, UUIDv5, object checks, signatures,
// and the deriver's bursts on a hand-written audit log.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.hpp"
#include "intel/derive.hpp"
#include "intel/exchange.hpp"
#include "intel/net.hpp"
#include "intel/pattern.hpp"
#include "intel/stix.hpp"
#include "security/keys.hpp"
#include "support/temp_dir.hpp"

using namespace sco::intel;
using nlohmann::json;

TEST(IntelNet, RangesContainAndOverlap) {
  const auto r = parse_range("203.0.113.77/24");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->text(), "203.0.113.0/24");
  EXPECT_TRUE(contains(*r, *parse_address("203.0.113.1")));
  EXPECT_FALSE(contains(*r, *parse_address("203.0.114.1")));
  EXPECT_TRUE(contains(*r, *parse_address("::ffff:203.0.113.9")));  // IPv4-mapped is the same address
  EXPECT_FALSE(contains(*r, *parse_address("2001:db8::1")));
  const auto v6 = parse_range("2001:db8::/32");
  EXPECT_TRUE(contains(*v6, *parse_address("2001:db8:ffff::1")));
  EXPECT_TRUE(overlaps(*parse_range("10.0.0.0/8"), *parse_range("10.1.2.3")));
  EXPECT_FALSE(overlaps(*parse_range("10.0.0.0/8"), *parse_range("11.0.0.0/8")));
  EXPECT_EQ(parse_range("1.2.3.4")->text(), "1.2.3.4");
  for (const char* bad : {"1.2.3.4/33", "1.2.3", "example.org", "1.2.3.4/", "::1/129", "1.2.3.4/-1"}) EXPECT_FALSE(parse_range(bad)) << bad;
}

TEST(IntelPattern, AddressesAreActedOnOnlyWhenThePatternIsJustThem) {
  auto p = parse_stix_pattern("[ipv4-addr:value = '198.51.100.7'] OR [ipv6-addr:value ISSUBSET '2001:db8::/32']");
  EXPECT_TRUE(p.only_addresses);
  ASSERT_EQ(p.addresses.size(), 2u);
  EXPECT_EQ(p.addresses[1].text(), "2001:db8::/32");
  p = parse_stix_pattern("[ipv4-addr:value = '198.51.100.7' OR ipv4-addr:value = '198.51.100.8']");
  EXPECT_TRUE(p.only_addresses);
  EXPECT_EQ(p.addresses.size(), 2u);
  // With another condition, a qualifier or a negation, the pattern is more than a list of addresses.
  EXPECT_FALSE(parse_stix_pattern("[ipv4-addr:value = '198.51.100.7' AND network-traffic:dst_port = 22]").only_addresses);
  EXPECT_FALSE(parse_stix_pattern("[ipv4-addr:value = '198.51.100.7'] REPEATS 5 TIMES WITHIN 60 SECONDS").only_addresses);
  EXPECT_FALSE(parse_stix_pattern("[ipv4-addr:value != '198.51.100.7']").only_addresses);
  EXPECT_FALSE(parse_stix_pattern("[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']").only_addresses);
  // Valid syntax that sco reads without acting on.
  EXPECT_NO_THROW(parse_stix_pattern("[network-traffic:src_ref.value IN ('1.2.3.4', '5.6.7.8')] FOLLOWEDBY [url:value LIKE 'http%']"));
  EXPECT_NO_THROW(parse_stix_pattern("[x509-certificate:extensions[*].x = true] START t'2026-01-01T00:00:00Z' STOP t'2026-02-01T00:00:00Z'"));
  EXPECT_NO_THROW(parse_stix_pattern("[file:name MATCHES '^a\\\\b' AND file:size NOT > 10]") );
}

TEST(IntelPattern, SyntaxErrorsNameTheColumn) {
  const auto message = [](const char* pattern) {
    try {
      parse_stix_pattern(pattern);
    } catch (const sco::core::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("[ipv4-addr:value = '1.2.3.4'"), "pattern: ']' expected at column 29");
  EXPECT_EQ(message("ipv4-addr:value = '1.2.3.4'"), "pattern: '[' or '(' expected at column 1");
  EXPECT_EQ(message("[ipv4-addr:value == '1.2.3.4']"), "pattern: a value expected at column 19");
  EXPECT_EQ(message("[ipv4-addr:value = 'not an address']"), "pattern: 'not an address' is not an address or CIDR range at column 36");
  EXPECT_EQ(message("[ipv4-addr:value = '1.2.3.4'] WITHIN 5 MINUTES"), "pattern: SECONDS expected at column 40");
  EXPECT_EQ(message("[ipv4-addr:value = 'unterminated]"), "pattern: unterminated string at column 34");
}

TEST(IntelStix, Uuid5AndObservableIds) {
  // RFC 4122 namespace DNS, name "python.org" (the example of Python's uuid module documentation).
  EXPECT_EQ(uuid5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org"), "886313e1-3b8a-5372-9b90-0c9aee199e5d");
  const json a = observable({{"type", "ipv4-addr"}, {"value", "198.51.100.3"}});
  EXPECT_EQ(a["id"].get<std::string>().substr(0, 11), "ipv4-addr--");
  EXPECT_EQ(a["id"], observable({{"type", "ipv4-addr"}, {"value", "198.51.100.3"}})["id"]);
  EXPECT_NE(a["id"], observable({{"type", "ipv4-addr"}, {"value", "198.51.100.4"}})["id"]);
  EXPECT_EQ(stix_time("2026-12-07T10:00:00Z"), "2026-12-07T10:00:00.000Z");
  EXPECT_EQ(stix_time("2026-12-07T10:00:00.123456Z"), "2026-12-07T10:00:00.123Z");
  EXPECT_EQ(format_ms(epoch_ms("2026-12-07T10:00:00.5Z") + 1), "2026-12-07T10:00:00.501Z");
}

TEST(IntelStix, ChecksNameWhatIsWrong) {
  json ind = {{"type", "indicator"}, {"spec_version", "2.1"}, {"id", "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"},
              {"created", "2026-12-07T10:00:00.000Z"}, {"modified", "2026-12-07T10:00:00.000Z"},
              {"pattern", "[ipv4-addr:value = '198.51.100.1']"}, {"pattern_type", "stix"}, {"valid_from", "2026-12-07T10:00:00Z"}};
  EXPECT_EQ(check_object(ind), "");
  json bad = ind;
  bad.erase("valid_from");
  EXPECT_EQ(check_object(bad), "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f: the required property 'valid_from' is missing");
  bad = ind;
  bad["id"] = "malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
  EXPECT_EQ(check_object(bad), "indicator: 'id' is not 'indicator--' and a UUID");
  bad = ind;
  bad["pattern"] = "[ipv4-addr:value = ";
  EXPECT_NE(check_object(bad).find("pattern: a value expected"), std::string::npos);
  bad = ind;
  bad["created"] = "yesterday";
  EXPECT_NE(check_object(bad).find("'created' is not an RFC 3339 UTC timestamp"), std::string::npos);
  bad = ind;
  bad["spec_version"] = "2.0";
  EXPECT_NE(check_object(bad).find("'spec_version'"), std::string::npos);
  bad = ind;
  bad["created_by_ref"] = "malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
  EXPECT_NE(check_object(bad).find("'created_by_ref' is not an identity"), std::string::npos);
  json tlp = tlp_marking(Level::kGreen);
  EXPECT_EQ(check_object(tlp), "");
  tlp["name"] = "TLP:WHITE";
  EXPECT_NE(check_object(tlp).find("differs from the one STIX 2.1 predefines"), std::string::npos);
}

TEST(IntelStix, SignaturesVerifyAndDetectChanges) {
  sco::test::TempDir dir;
  const auto keys = sco::security::NodeKeys::load_or_create(dir.path(), "node-a");
  json o = observable({{"type", "ipv4-addr"}, {"value", "198.51.100.3"}});
  sign_object(o, keys);
  const std::vector<sco::security::PublicKey> trusted = {keys.public_key()};
  auto v = verify_object(o, trusted);
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.signer, "node-a");
  json changed = o;
  changed["value"] = "198.51.100.4";
  v = verify_object(changed, trusted);
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.problem.find("does not match its content"), std::string::npos);
  EXPECT_NE(verify_object(o, {}).problem.find("which this node does not trust"), std::string::npos);
  o.erase("extensions");
  EXPECT_FALSE(verify_object(o, trusted).signed_);
}

namespace {
json entry(int seq, const std::string& time, const std::string& event, json detail) {
  return {{"seq", seq}, {"time", time}, {"event", event}, {"detail", detail}, {"hash", std::string(64, static_cast<char>('a' + seq % 6))}};
}
std::vector<json> of_type(const std::vector<Derived>& d, const std::string& type) {
  std::vector<json> out;
  for (const auto& x : d) {
    if (x.object["type"] == type) out.push_back(x.object);
  }
  return out;
}
}  // namespace

TEST(IntelDerive, BurstsBecomeSightingsThenAnIndicator) {
  DeriveOptions o{.node_name = "node-a", .key_id = "0123456789abcdef", .burst_min = 3, .burst_gap_seconds = 60, .indicator_min = 6};
  Deriver d(o, json::object());
  std::vector<Derived> all;
  // Six refusals from one address, 10 s apart; one 403 (not an authentication failure) in between.
  for (int i = 0; i < 6; ++i) {
    const auto out = d.feed(entry(i, fmt::format("2026-12-07T10:00:{:02d}Z", i * 10), "access.refused",
                                  {{"status", 401}, {"address", "198.51.100.9"}, {"credential", "c1"}}));
    if (i < 2) {
      EXPECT_TRUE(out.empty()) << i;
    }
    all.insert(all.end(), out.begin(), out.end());
    EXPECT_TRUE(d.feed(entry(100 + i, "2026-12-07T10:00:01Z", "access.refused", {{"status", 403}, {"address", "198.51.100.9"}})).empty());
  }
  const auto sightings = of_type(all, "sighting");
  ASSERT_EQ(sightings.size(), 2u);  // at 3 and at 6 refusals: two versions of one sighting
  EXPECT_EQ(sightings[0]["id"], sightings[1]["id"]);
  EXPECT_EQ(sightings[0]["count"], 3);
  EXPECT_EQ(sightings[1]["count"], 6);
  EXPECT_LT(sightings[0]["modified"].get<std::string>(), sightings[1]["modified"].get<std::string>());
  EXPECT_EQ(sightings[1]["first_seen"], "2026-12-07T10:00:00.000Z");
  EXPECT_EQ(sightings[1]["last_seen"], "2026-12-07T10:00:50.000Z");
  const auto indicators = of_type(all, "indicator");
  ASSERT_EQ(indicators.size(), 1u);
  EXPECT_EQ(indicators[0]["pattern"], "[ipv4-addr:value = '198.51.100.9']");
  EXPECT_EQ(indicators[0]["valid_until"], "2026-12-08T10:00:50.000Z");
  EXPECT_EQ(of_type(all, "user-account").size(), 2u);  // one per version, the same id
  for (const auto& x : all) EXPECT_EQ(check_object(x.object), "") << x.object.dump();
  // A refusal after a gap longer than 60 s starts a new burst: nothing until 3 again.
  EXPECT_TRUE(d.feed(entry(7, "2026-12-07T10:02:00Z", "access.refused", {{"status", 401}, {"address", "198.51.100.9"}})).empty());
  // The state carries bursts across runs: a deriver from it continues the count.
  Deriver d2(o, d.state());
  EXPECT_TRUE(d2.feed(entry(8, "2026-12-07T10:02:10Z", "access.refused", {{"status", 401}, {"address", "198.51.100.9"}})).empty());
  EXPECT_EQ(of_type(d2.feed(entry(9, "2026-12-07T10:02:20Z", "access.refused", {{"status", 401}, {"address", "198.51.100.9"}})), "sighting").size(), 1u);
}

TEST(IntelDerive, RejectedSyncIsASightingOfItsReason) {
  Deriver d({.node_name = "node-a", .key_id = "0123456789abcdef"}, json::object());
  const auto out = d.feed(entry(3, "2026-12-07T10:00:00Z", "sync.rejected",
                                {{"from", "https://partner.example:8443"}, {"collection", "s2"}, {"problems", 2},
                                 {"first", "asset 'B04' does not match its checksum"}, {"reasons", {{"checksum_mismatch", 2}}}}));
  const auto s = of_type(out, "sighting");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0]["count"], 2);
  EXPECT_NE(s[0]["description"].get<std::string>().find("checksum_mismatch"), std::string::npos);
  const auto refs = d.reference_objects();
  const auto ap = std::find_if(refs.begin(), refs.end(), [&](const Derived& x) { return x.object["id"] == s[0]["sighting_of_ref"]; });
  ASSERT_NE(ap, refs.end());
  EXPECT_EQ(ap->object["external_references"][0]["external_id"], "CAPEC-477");
  EXPECT_EQ(of_type(out, "url")[0]["value"], "https://partner.example:8443");
}

TEST(IntelDeny, AllowListIsNeverOverridden) {
  DenyList deny;
  const std::vector<Rule> rules = {{"r1", "198.51.100.0/24", "indicator--x", "b", "pull", "2026-12-07T00:00:00Z", "2026-12-08T00:00:00Z", "", false},
                                   {"r2", "203.0.113.5", "indicator--y", "b", "pull", "2026-12-07T00:00:00Z", "2026-12-07T06:00:00Z", "", false},
                                   {"r3", "192.0.2.1", "indicator--z", "b", "pull", "2026-12-07T00:00:00Z", "2026-12-08T00:00:00Z", "", true}};
  deny.load(rules, {*parse_range("127.0.0.0/8"), *parse_range("198.51.100.7")}, "2026-12-07T12:00:00Z");
  EXPECT_EQ(deny.denied("198.51.100.1"), "r1");
  EXPECT_EQ(deny.denied("198.51.100.7"), "");   // allow-listed inside a denied range
  EXPECT_EQ(deny.denied("203.0.113.5"), "");    // expired
  EXPECT_EQ(deny.denied("192.0.2.1"), "");      // revoked
  EXPECT_EQ(deny.denied("127.0.0.1"), "");
  EXPECT_EQ(deny.denied("::ffff:198.51.100.2"), "r1");
}

TEST(IntelStore, VersionsPagesAndAddedAfter) {
  sco::test::TempDir dir;
  auto store = open_intel_store(dir.path());
  const auto version = [](const std::string& id, const std::string& modified) {
    return json{{"type", "indicator"}, {"id", id}, {"created", "2026-01-01T00:00:00.000Z"}, {"modified", modified}};
  };
  const std::string a = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", b = "indicator--9e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
  store->write([&](IntelWriter& w) {
    EXPECT_TRUE(w.add_object("c", version(a, "2026-01-02T00:00:00.000Z"), "a2"));
    EXPECT_TRUE(w.add_object("c", version(a, "2026-01-01T00:00:00.000Z"), "a1"));  // older, arriving late
    EXPECT_FALSE(w.add_object("c", version(a, "2026-01-02T00:00:00.000Z"), "again"));
    EXPECT_TRUE(w.add_object("c", version(b, "2026-01-01T00:00:00.000Z"), "b1"));
    EXPECT_TRUE(w.add_object("c", version(b, "2026-01-03T00:00:00.000Z"), "b3"));
    EXPECT_TRUE(w.add_object("other", version(b, "2026-01-03T00:00:00.000Z"), "elsewhere"));
  });
  const auto texts = [&](ObjectQuery q) {
    std::vector<std::string> out;
    for (;;) {
      const auto page = store->objects(q);
      for (const auto& o : page.objects) out.push_back(o.text);
      if (!page.more) return out;
      q.after_seq = page.objects.back().seq;
    }
  };
  ObjectQuery q;
  q.collection = "c";
  EXPECT_EQ(texts(q), (std::vector<std::string>{"a2", "b3"}));  // the latest versions, in the order added
  q.limit = 1;
  EXPECT_EQ(texts(q), (std::vector<std::string>{"a2", "b3"}));  // the same, one per page
  q.versions = {"all"};
  EXPECT_EQ(texts(q), (std::vector<std::string>{"a2", "a1", "b1", "b3"}));
  q.versions = {"first"};
  EXPECT_EQ(texts(q), (std::vector<std::string>{"a1", "b1"}));
  q.versions = {"2026-01-01T00:00:00.000Z"};
  EXPECT_EQ(texts(q), (std::vector<std::string>{"a1", "b1"}));
  // added_after: strictly after a row's date_added.
  q.versions = {"all"};
  q.limit = 10;
  const auto all = store->objects(q);
  q.added_after_us = all.objects[0].date_added_us;
  EXPECT_EQ(texts(q), (std::vector<std::string>{"a1", "b1", "b3"}));
  q.added_after_us = all.objects[1].date_added_us;
  EXPECT_EQ(texts(q), (std::vector<std::string>{"b1", "b3"}));
  q.added_after_us = all.objects[3].date_added_us;
  EXPECT_TRUE(texts(q).empty());
  q.added_after_us = all.objects[1].date_added_us;
  q.types = {"malware"};
  EXPECT_TRUE(texts(q).empty());
  EXPECT_EQ(store->object_count("c"), 4);
}
