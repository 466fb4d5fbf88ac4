#include "intel/exchange.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/digest.hpp"
#include "intel/pattern.hpp"
#include "security/node_state.hpp"
#include "security/jcs.hpp"

namespace sco::intel {

using nlohmann::json;
namespace fs = std::filesystem;

std::vector<CollectionInfo> collections(const std::string& key_id) {
  std::vector<CollectionInfo> out;
  const auto id = [&](const std::string& alias) { return uuid5(uuid5("6ba7b811-9dad-11d1-80b4-00c04fd430c8", "sco:" + key_id), "collection:" + alias); };
  for (Level l : all_levels()) {
    const std::string name = level_name(l);
    out.push_back({id(name), name, fmt::format("Security events (TLP:{})", name == "white" ? "WHITE" : name == "green" ? "GREEN" : "AMBER"),
                   fmt::format("This node's security events marked TLP:{} or less restricted, signed by the node.", name), true, false, l});
  }
  out.push_back({id("inbound"), "inbound", "Inbound from partners", "STIX objects posted by partner nodes: signed by a trusted key, checked, stored.",
                 false, true, std::nullopt});
  return out;
}

namespace {

// The collections an object of `level` goes to: its own and every more restricted one.
std::vector<std::string> collections_for(const std::vector<CollectionInfo>& all, Level level) {
  std::vector<std::string> out;
  for (const auto& c : all) {
    if (c.level && static_cast<int>(*c.level) >= static_cast<int>(level)) out.push_back(c.id);
  }
  return out;
}

void store_derived(IntelWriter& w, const std::vector<CollectionInfo>& all, Derived d, const security::NodeKeys& keys, std::size_t& count) {
  if (!is_predefined(d.object)) sign_object(d.object, keys);
  const std::string text = d.object.dump();
  for (const auto& c : collections_for(all, d.level)) count += w.add_object(c, d.object, text) ? 1 : 0;
}

}  // namespace

DeriveReport derive_from_audit(IntelStore& store, const std::string& catalog_dir, const security::NodeKeys& keys, const DeriveOptions& options) {
  DeriveReport report;
  const auto all = collections(options.key_id);
  store.write([&](IntelWriter& w) {
    std::uint64_t offset = std::stoull(store.state("audit.offset").value_or("0"));
    const auto lines = security::node_state(catalog_dir)->audit_lines(offset);  // complete lines only
    const json saved = json::parse(store.state("deriver").value_or("{}"), nullptr, false);
    Deriver deriver(options, saved.is_discarded() ? json::object() : saved);
    if (!store.state("references")) {
      for (auto& d : deriver.reference_objects()) store_derived(w, all, d, keys, report.objects);
      w.set_state("references", "1");
    }
    for (const auto& line : lines) {
      const json entry = json::parse(line, nullptr, false);
      if (entry.is_discarded() || !entry.is_object()) continue;  // sco audit verify reports it
      ++report.entries;
      for (auto& d : deriver.feed(entry)) store_derived(w, all, d, keys, report.objects);
    }
    w.set_state("audit.offset", std::to_string(offset));
    w.set_state("deriver", deriver.state().dump());
  });
  return report;
}

namespace {

// The deny rules an accepted indicator makes (none when it is not a plain match of addresses).
void rules_of(const json& o, const ObjectVerdict& v, const AcceptOptions& opt, AcceptReport& report) {
  if (o.value("type", "") != "indicator" || o.value("pattern_type", "") != "stix" || o.value("revoked", false)) return;
  const PatternSummary p = parse_stix_pattern(o.value("pattern", ""));
  if (!p.only_addresses) return;
  const std::string from = o.value("valid_from", "");
  std::string until = o.value("valid_until", "");
  // A rule lasts at most max_rule_days from when it is made (or from valid_from when that is later).
  const std::int64_t cap = std::max(epoch_ms(from), epoch_ms(core::utc_now())) + static_cast<std::int64_t>(opt.max_rule_days * 86400 * 1000);
  if (until.empty() || epoch_ms(until) > cap) until = format_ms(cap);
  for (const Range& r : p.addresses) {
    const auto clash = std::find_if(opt.allow.begin(), opt.allow.end(), [&](const Range& a) { return overlaps(a, r); });
    if (clash != opt.allow.end()) {
      report.refused_rules.push_back(fmt::format("{} (indicator {} by '{}') touches the allow-list ({})", r.text(), o.value("id", ""), v.signer, clash->text()));
      continue;
    }
    const std::string id = "rule-" + core::sha256_hex(o.value("id", "") + "|" + object_version(o) + "|" + r.text()).substr(0, 12);
    report.rules.push_back({id, r.text(), o.value("id", ""), v.signer, opt.source, from, until, core::utc_now(), false});
  }
}

}  // namespace

AcceptReport accept_objects(IntelStore& store, const std::vector<json>& objects, const std::vector<security::PublicKey>& trusted,
                            const AcceptOptions& opt, const std::function<void(IntelWriter&)>& also) {
  AcceptReport report;
  std::vector<std::string> problems;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    const json& o = objects[i];
    std::string problem = check_object(o);
    ObjectVerdict v;
    if (problem.empty()) {
      // The constants every node holds (TLP markings, sco's extension) need no signature.
      v = is_predefined(o) ? ObjectVerdict{false, true, "", ""} : verify_object(o, trusted);
      if (!v.ok) problem = v.problem;
    }
    if (!problem.empty()) {
      problems.push_back(fmt::format("object {}: {}", i, problem));
      continue;
    }
    report.ids.push_back(o.value("id", ""));
    rules_of(o, v, opt, report);
  }
  if (!problems.empty()) {
    throw AcceptRejected(fmt::format("{} of {} objects rejected, nothing stored: {}{}", problems.size(), objects.size(), problems.front(),
                                     problems.size() > 1 ? fmt::format(" (and {} more)", problems.size() - 1) : ""),
                         problems);
  }
  store.write([&](IntelWriter& w) {
    for (const json& o : objects) {
      if (w.add_object(opt.collection, o, o.dump())) ++report.stored;
      else ++report.duplicates;
    }
    std::vector<Rule> added;
    for (const Rule& r : report.rules) {
      if (w.add_rule(r)) added.push_back(r);
    }
    report.rules = std::move(added);
    if (also) also(w);
  });
  return report;
}

std::vector<Range> allow_ranges(IntelStore& store, const std::vector<std::string>& hosts) {
  std::vector<Range> out = {*parse_range("127.0.0.0/8"), *parse_range("::1")};
  for (const auto& e : store.allow_list()) {
    if (auto r = parse_range(e.range)) out.push_back(*r);
  }
  for (const auto& host : hosts) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) continue;
    for (addrinfo* p = res; p; p = p->ai_next) {
      char buf[64] = {0};
      if (::getnameinfo(p->ai_addr, p->ai_addrlen, buf, sizeof buf, nullptr, 0, NI_NUMERICHOST) != 0) continue;
      if (auto r = parse_range(buf)) out.push_back(*r);
    }
    ::freeaddrinfo(res);
  }
  return out;
}

void DenyList::load(const std::vector<Rule>& rules, const std::vector<Range>& allow, const std::string& now) {
  by_prefix_.clear();
  count_ = 0;
  next_expiry_ms_ = std::numeric_limits<std::int64_t>::max();
  allow_ = allow;
  const std::int64_t t = epoch_ms(now);
  for (const Rule& r : rules) {
    if (r.revoked) continue;
    const std::int64_t from = epoch_ms(r.valid_from), until = epoch_ms(r.valid_until);
    if (until <= t) continue;
    if (from > t) {  // pending: the list is loaded again when it starts
      next_expiry_ms_ = std::min(next_expiry_ms_, from);
      continue;
    }
    const auto range = parse_range(r.range);
    if (!range) continue;
    next_expiry_ms_ = std::min(next_expiry_ms_, until);
    by_prefix_[range->prefix].emplace(std::string(reinterpret_cast<const char*>(range->base.bytes.data()), 16), r.id);
    ++count_;
  }
}

std::string DenyList::denied(const std::string& address) const {
  if (count_ == 0) return "";
  const auto a = parse_address(address);
  if (!a) return "";
  for (const Range& r : allow_) {
    if (contains(r, *a)) return "";
  }
  for (const auto& [prefix, bases] : by_prefix_) {
    Address masked = *a;
    for (int i = prefix; i < 128; ++i) masked.bytes[static_cast<std::size_t>(i / 8)] &= static_cast<std::uint8_t>(~(0x80 >> (i % 8)));
    const auto it = bases.find(std::string(reinterpret_cast<const char*>(masked.bytes.data()), 16));
    if (it != bases.end()) return it->second;
  }
  return "";
}

}  // namespace sco::intel
