#include "federation/taxii_pull.hpp"

#include <set>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/url.hpp"
#include "security/audit.hpp"
#include "security/jcs.hpp"

namespace sco::federation {

using core::ErrorCode;
using nlohmann::json;

namespace {

constexpr const char* kTaxii = "application/taxii+json;version=2.1";

// The path of an absolute URL on `origin`; throws when it is on another origin (the token is for
// the partner's origin only).
std::string path_on(const std::string& url, const std::string& origin, const std::string& what) {
  const Url u = parse_url(url, what);
  if (u.origin() != origin) core::fail(ErrorCode::kInvalidInput, "{} '{}' is not on {}: the token is not sent elsewhere", what, url, origin);
  return u.path.empty() ? "/" : u.path;
}

// The API root's path, from a discovery or an API root URL.
std::string api_root_path(HttpClient& client, const Url& from) {
  const std::string path = from.path.empty() ? "/" : from.path;
  const json doc = client.get_json(path, kTaxii, 1 << 20, nullptr);
  if (doc.is_object() && doc.contains("versions")) return path;
  if (!doc.is_object() || !doc.contains("api_roots") || !doc["api_roots"].is_array() || doc["api_roots"].empty()) {
    core::fail(ErrorCode::kInvalidInput, "{}: neither a TAXII discovery document (api_roots) nor an API root (versions)", from.origin() + path);
  }
  std::string root = security::string_member(doc, "default");
  if (root.empty()) root = doc["api_roots"][0].is_string() ? doc["api_roots"][0].get<std::string>() : "";
  if (root.rfind("/", 0) == 0) return root;
  return path_on(root, from.origin(), "the API root");
}

std::vector<json> chosen_collections(HttpClient& client, const std::string& root, const std::string& wanted, const std::string& where) {
  const json list = client.get_json(root + "collections/", kTaxii, 4 << 20, nullptr);
  std::vector<json> out;
  if (!list.is_object() || !list.contains("collections") || !list["collections"].is_array()) return out;
  for (const auto& c : list["collections"]) {
    if (!c.is_object()) continue;
    const bool named = wanted.empty() || security::string_member(c, "id") == wanted || security::string_member(c, "title") == wanted ||
                       security::string_member(c, "alias") == wanted;
    if (named && (c.value("can_read", false) || !wanted.empty())) out.push_back(c);
  }
  if (out.empty()) {
    core::fail(wanted.empty() ? ErrorCode::kNotFound : ErrorCode::kNotFound, "{}: {}", where,
               wanted.empty() ? "no collection this token may read" : fmt::format("no collection '{}' (by id, title or alias)", wanted));
  }
  return out;
}

}  // namespace

PullReport pull_intel(const PullOptions& o, intel::IntelStore& store, const security::NodeKeys& keys,
                      const std::function<void(const PulledCollection&)>& on_page) {
  const Url from = parse_url(o.from, "--from");
  HttpClient client(from, o.client, true);
  PullReport report;
  const std::string root = api_root_path(client, from);
  report.api_root = from.origin() + root;
  const auto trusted = security::trusted_keys(o.catalog_dir);
  std::vector<std::string> hosts = {from.host};
  intel::AcceptOptions accept;
  accept.allow = intel::allow_ranges(store, hosts);
  for (const json& c : chosen_collections(client, root, o.collection, report.api_root)) {
    PulledCollection pc;
    pc.id = security::string_member(c, "id");
    pc.title = security::string_member(c, "title");
    const std::string state_key = "pull:" + from.origin() + "|" + root + "|" + pc.id;
    const std::string added_after = store.state(state_key).value_or("");
    accept.collection = "pulled:" + from.origin() + "|" + pc.id;
    accept.source = "pull from " + report.api_root + " collection " + pc.id;
    std::set<std::string> seen;  // id|version of this pull's objects
    std::string next;
    std::string last_added = added_after;
    for (;;) {
      std::string target = fmt::format("{}collections/{}/objects/?limit={}", root, core::url_encode(pc.id), o.page);
      if (!added_after.empty()) target += "&added_after=" + core::url_encode(added_after);
      if (!next.empty()) target += "&next=" + core::url_encode(next);
      std::map<std::string, std::string> headers;
      const json env = client.get_json(target, kTaxii, o.max_page_bytes, &headers);
      ++pc.pages;
      const json objects = env.is_object() && env.contains("objects") && env["objects"].is_array() ? env["objects"] : json::array();
      const bool more = env.is_object() && env.value("more", false);
      if (headers.count("x-taxii-date-added-last")) last_added = headers["x-taxii-date-added-last"];
      const std::string where = fmt::format("{}{} (page {})", from.origin(), target, pc.pages);
      if (!objects.empty()) {
        try {
          const auto r = intel::accept_objects(store, objects.get<std::vector<json>>(), trusted, accept,
                                               [&](intel::IntelWriter& w) { if (!last_added.empty()) w.set_state(state_key, last_added); });
          pc.objects += objects.size();
          pc.stored += r.stored;
          pc.duplicates += r.duplicates;
          pc.rules.insert(pc.rules.end(), r.rules.begin(), r.rules.end());
          pc.refused_rules.insert(pc.refused_rules.end(), r.refused_rules.begin(), r.refused_rules.end());
        } catch (const intel::AcceptRejected& e) {
          security::audit(o.catalog_dir, keys, "intel.pull.rejected",
                          {{"from", report.api_root}, {"collection", pc.id}, {"page", pc.pages}, {"problems", e.problems().size()}, {"first", e.problems().front()}});
          core::fail(ErrorCode::kInvalidInput, "{}: {}", where, e.what());
        }
      }
      if (on_page) on_page(pc);
      if (!more) break;
      next = env.is_object() ? security::string_member(env, "next") : "";
      // Paging advances when each page brings objects (id and version) not seen in this pull; servers
      // may give the same `next` for every page of one query (medallion does).
      bool advanced = false;
      for (const auto& obj : objects) advanced = seen.insert(security::string_member(obj, "id") + "|" + intel::object_version(obj)).second || advanced;
      if (!advanced || next.empty() || pc.pages >= 100000) {
        core::fail(ErrorCode::kInvalidInput, "{}: the server's paging does not advance ({}), the pull stops here", where,
                   next.empty() ? "\"more\" without \"next\"" : objects.empty() ? "\"more\" with no objects" : "a page of objects it gave before");
      }
    }
    // The entry names the first 100 rules and refusals (all are in sco intel list), with their counts.
    json rules = json::array(), refused = json::array();
    for (std::size_t i = 0; i < std::min<std::size_t>(pc.rules.size(), 100); ++i) {
      const auto& r = pc.rules[i];
      rules.push_back({{"id", r.id}, {"range", r.range}, {"indicator", r.indicator}, {"signer", r.signer}});
    }
    for (std::size_t i = 0; i < std::min<std::size_t>(pc.refused_rules.size(), 100); ++i) refused.push_back(pc.refused_rules[i]);
    security::audit(o.catalog_dir, keys, "intel.pull",
                    {{"from", report.api_root}, {"collection", pc.id}, {"objects", pc.objects}, {"stored", pc.stored}, {"rules_count", pc.rules.size()},
                     {"rules", rules}, {"refused_rules_count", pc.refused_rules.size()}, {"refused_rules", refused}});
    report.collections.push_back(std::move(pc));
  }
  return report;
}

}  // namespace sco::federation
