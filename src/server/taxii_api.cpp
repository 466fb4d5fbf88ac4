#include "server/taxii_api.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/parse.hpp"
#include "security/audit.hpp"
#include "security/keys.hpp"

namespace sco::server {

using nlohmann::json;

namespace {

std::vector<std::string> path_parts(const std::string& path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    const std::size_t j = path.find('/', i);
    const std::string part = path.substr(i, j == std::string::npos ? std::string::npos : j - i);
    if (!part.empty()) out.push_back(part);
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return out;
}

std::vector<std::string> comma_list(const std::map<std::string, std::string>& q, const std::string& key) {
  std::vector<std::string> out;
  const auto it = q.find(key);
  if (it == q.end()) return out;
  std::size_t i = 0;
  const std::string& v = it->second;
  while (i <= v.size()) {
    const std::size_t j = std::min(v.find(',', i), v.size());
    if (j > i) out.push_back(v.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

ApiResponse taxii_json(int status, const std::string& body) {
  ApiResponse a;
  a.status = status;
  a.content_type = kTaxiiType;
  a.body = body;
  return a;
}

bool can_read(const intel::CollectionInfo& c, const Caller& caller) {
  return caller.role == Role::kAdmin || (caller.role == Role::kPartner && c.partners_read);
}
bool can_write(const intel::CollectionInfo& c, const Caller& caller) {
  return (caller.role == Role::kAdmin || caller.role == Role::kPartner) && c.partners_write;
}

ApiResponse refusal(const Caller& caller, const std::string& what) {
  if (caller.role == Role::kAnonymous) {
    ApiResponse a = TaxiiApi::error(401, "Unauthorized", what + ": a partner's token is needed (Authorization: Bearer TOKEN)");
    a.headers.push_back({"WWW-Authenticate", "Bearer"});
    return a;
  }
  return TaxiiApi::error(403, "Forbidden", what + ": this token's role may not");
}

std::string random_uuid() {
  unsigned char b[16];
  randombytes_buf(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  return intel::uuid_text(b);
}

}  // namespace

bool accepts_taxii(const std::string& accept) {
  std::size_t i = 0;
  while (i <= accept.size()) {
    const std::size_t j = std::min(accept.find(',', i), accept.size());
    std::string range;
    for (char c : accept.substr(i, j - i)) {
      if (c != ' ' && c != '\t') range += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    // Parameters other than the version (a q value) do not change what is asked for.
    std::string type = range.substr(0, range.find(';')), version;
    const auto v = range.find(";version=");
    if (v != std::string::npos) version = range.substr(v + 9, range.find(';', v + 1) - (v + 9));
    if (type == "application/taxii+json" && (version.empty() || version == "2.1")) return true;
    i = j + 1;
  }
  return false;
}

TaxiiApi::TaxiiApi(intel::IntelStore& store, std::string catalog_dir, const security::NodeKeys& keys, TaxiiLimits limits)
    : store_(store), dir_(std::move(catalog_dir)), keys_(keys), limits_(limits), collections_(intel::collections(keys.public_key().key_id())) {}

void TaxiiApi::set_allow(std::vector<intel::Range> allow) {
  std::lock_guard lock(allow_mutex_);
  allow_ = std::move(allow);
}

ApiResponse TaxiiApi::error(int status, const std::string& title, const std::string& description, const json& details) {
  json e = {{"title", title}, {"description", description}, {"http_status", std::to_string(status)}};
  if (!details.is_null()) e["details"] = details;
  return taxii_json(status, json_text(e));
}

const intel::CollectionInfo* TaxiiApi::find_collection(const std::string& id) const {
  for (const auto& c : collections_) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

ApiResponse TaxiiApi::handle(const ApiRequest& r, const std::string& accept, const std::string& content_type) {
  if (!accepts_taxii(accept)) {
    return error(406, "Not Acceptable", fmt::format("Accept: '{}': this server answers {} only", accept, kTaxiiType));
  }
  const auto parts = path_parts(r.path);  // "taxii2", "sco", ...
  if (parts.size() == 1) return discovery(r);
  if (parts[1] != "sco") return error(404, "Not Found", fmt::format("no API root '{}' (this server has /taxii2/sco/)", parts[1]));
  if (parts.size() == 2) return api_root();
  if (r.caller.role != Role::kAdmin && r.caller.role != Role::kPartner) return refusal(r.caller, r.path);
  if (parts[2] == "status" && parts.size() == 4) return status(parts[3]);
  if (parts[2] != "collections") return error(404, "Not Found", r.path + ": no such resource");
  if (parts.size() == 3) return collection_list(r);
  const intel::CollectionInfo* c = find_collection(parts[3]);
  if (!c || (!can_read(*c, r.caller) && !can_write(*c, r.caller))) return error(404, "Not Found", fmt::format("no collection '{}'", parts[3]));
  if (parts.size() == 4) {
    json j = {{"id", c->id}, {"title", c->title}, {"description", c->description}, {"alias", c->alias},
              {"can_read", can_read(*c, r.caller)}, {"can_write", can_write(*c, r.caller)}, {"media_types", json::array({"application/stix+json;version=2.1"})}};
    return taxii_json(200, json_text(j));
  }
  const std::string& what = parts[4];
  if (what == "objects" && parts.size() == 5 && r.method == "POST") {
    if (!can_write(*c, r.caller)) return refusal(r.caller, "writing to collection " + c->id);
    const std::string ct = content_type.substr(0, content_type.find(';'));
    if (!(ct == "application/taxii+json" && accepts_taxii(content_type))) {
      return error(415, "Unsupported Media Type", fmt::format("Content-Type: '{}': objects are posted as {}", content_type, kTaxiiType));
    }
    return post_objects(r, *c);
  }
  if (r.method != "GET") return error(405, "Method Not Allowed", fmt::format("{} is not allowed on {}", r.method, r.path));
  if (!can_read(*c, r.caller)) return refusal(r.caller, "reading collection " + c->id);
  if (what == "objects" && parts.size() == 5) return objects(r, *c, "", false, false);
  if (what == "manifest" && parts.size() == 5) return objects(r, *c, "", true, false);
  if (what == "objects" && parts.size() == 6) return objects(r, *c, parts[5], false, false);
  if (what == "objects" && parts.size() == 7 && parts[6] == "versions") return objects(r, *c, parts[5], false, true);
  return error(404, "Not Found", r.path + ": no such resource");
}

ApiResponse TaxiiApi::discovery(const ApiRequest& r) const {
  const std::string root = r.base_url + "/taxii2/sco/";
  const json j = {{"title", "sco node: security events"}, {"description", "STIX 2.1 security events of this sco node and its partners, signed (Ed25519)."},
                  {"contact", "the node's operator"}, {"default", root}, {"api_roots", json::array({root})}};
  return taxii_json(200, json_text(j));
}

ApiResponse TaxiiApi::api_root() const {
  const json j = {{"title", "sco security events"}, {"description", "One collection per sharing level (TLP) and an inbound collection for partners."},
                  {"versions", json::array({kTaxiiType})}, {"max_content_length", limits_.max_content_length}};
  return taxii_json(200, json_text(j));
}

ApiResponse TaxiiApi::collection_list(const ApiRequest& r) const {
  json list = json::array();
  for (const auto& c : collections_) {
    if (!can_read(c, r.caller) && !can_write(c, r.caller)) continue;
    list.push_back({{"id", c.id}, {"title", c.title}, {"description", c.description}, {"alias", c.alias}, {"can_read", can_read(c, r.caller)},
                    {"can_write", can_write(c, r.caller)}, {"media_types", json::array({"application/stix+json;version=2.1"})}});
  }
  return taxii_json(200, json_text({{"collections", list}}));
}

ApiResponse TaxiiApi::status(const std::string& id) {
  const auto s = store_.status(id);
  if (!s) return error(404, "Not Found", fmt::format("no status '{}'", id));
  return taxii_json(200, *s);
}


namespace {

// "limit" and "next" of a paged request; an error message when either is malformed.
std::string paging(const ApiRequest& r, const TaxiiLimits& limits, intel::ObjectQuery& q) {
  q.limit = limits.default_page;
  if (auto it = r.query.find("limit"); it != r.query.end()) {
    const std::string& v = it->second;
    if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos || std::stoll(v) == 0) {
      return fmt::format("limit: '{}' is not a positive integer", v);
    }
    q.limit = std::min<std::size_t>(static_cast<std::size_t>(std::stoll(v)), limits.max_page);
  }
  if (auto it = r.query.find("next"); it != r.query.end()) {
    const std::string& v = it->second;
    if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) return fmt::format("next: '{}' is not a value this server gave", v);
    q.after_seq = std::stoll(v);
  }
  if (auto it = r.query.find("added_after"); it != r.query.end()) {
    const auto t = intel::parse_time_us(it->second);
    if (!t) return fmt::format("added_after: '{}' is not an RFC 3339 UTC timestamp", it->second);
    q.added_after_us = *t;
  }
  return "";
}

// A page's body as its rows arrive: an envelope, a manifest or a version list; the first and last
// rows' date_added for the headers.
class PageBody {
 public:
  PageBody(bool manifest, bool versions, std::size_t limit) : manifest_(manifest), versions_(versions) {
    body_.reserve(manifest || versions ? limit * 160 : std::min<std::size_t>(limit, 1000) * 900);
    // Room for the head ("more" and "next", known at the end), written over spaces that JSON allows
    // before the comma: the page is never moved to put its head in front.
    body_.assign(kHead, ' ');
    body_ += versions ? ",\"versions\":[" : ",\"objects\":[";
  }
  void add(const intel::StoredObject& o, std::string_view text) {
    if (rows_++) body_ += ',';
    else first_us_ = o.date_added_us;
    last_us_ = o.date_added_us;
    last_seq_ = o.seq;
    if (versions_) body_ += json(o.version).dump();
    else if (manifest_) body_ += json({{"id", o.id}, {"date_added", intel::format_time_us(o.date_added_us)}, {"version", o.version},
                                       {"media_type", "application/stix+json;version=2.1"}}).dump();
    else body_ += text;
  }
  std::size_t rows() const { return rows_; }
  std::int64_t first_us() const { return first_us_; }
  std::int64_t last_us() const { return last_us_; }
  std::string finish(bool more) {
    std::string head = fmt::format("{{\"more\":{}", more ? "true" : "false");
    if (more) head += fmt::format(",\"next\":\"{}\"", last_seq_);
    if (rows_ == 0) return head + "}";
    body_.replace(0, head.size(), head);
    body_ += "]}";
    return std::move(body_);
  }

 private:
  static constexpr std::size_t kHead = 48;  // {"more":true,"next":"9223372036854775807" is 42
  bool manifest_, versions_;
  std::string body_;
  std::size_t rows_ = 0;
  std::int64_t first_us_ = 0, last_us_ = 0, last_seq_ = 0;
};

}  // namespace

ApiResponse TaxiiApi::objects(const ApiRequest& r, const intel::CollectionInfo& c, const std::string& object_id, bool manifest, bool versions) {
  intel::ObjectQuery q;
  q.collection = c.id;
  q.with_text = !manifest && !versions;
  if (const std::string bad = paging(r, limits_, q); !bad.empty()) return error(400, "Bad Request", bad);
  q.ids = object_id.empty() ? comma_list(r.query, "match[id]") : std::vector<std::string>{object_id};
  q.types = comma_list(r.query, "match[type]");
  q.versions = versions ? std::vector<std::string>{"all"} : comma_list(r.query, "match[version]");
  const auto specs = comma_list(r.query, "match[spec_version]");
  PageBody page(manifest, versions, q.limit);
  bool more = false;
  if (specs.empty() || std::find(specs.begin(), specs.end(), "2.1") != specs.end()) {
    more = store_.each_object(q, [&](const intel::StoredObject& o, std::string_view text) { page.add(o, text); });
  }
  if (!object_id.empty() && page.rows() == 0 && q.after_seq == 0 && !q.added_after_us) {
    return error(404, "Not Found", fmt::format("no object '{}' in collection {}", object_id, c.id));
  }
  const bool any = page.rows() > 0;
  ApiResponse a = taxii_json(200, page.finish(more));
  if (any) {
    a.headers.push_back({"X-TAXII-Date-Added-First", intel::format_time_us(page.first_us())});
    a.headers.push_back({"X-TAXII-Date-Added-Last", intel::format_time_us(page.last_us())});
  }
  return a;
}

ApiResponse TaxiiApi::post_objects(const ApiRequest& r, const intel::CollectionInfo& c) {
  const json body = json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return error(400, "Bad Request", "the body is not a JSON object (a TAXII envelope)");
  if (!body.contains("objects") || !body["objects"].is_array() || body["objects"].empty()) {
    return error(400, "Bad Request", "the envelope has no 'objects' list (one or more STIX objects)");
  }
  if (body.value("type", "") == "bundle" && !body.contains("id")) return error(400, "Bad Request", "a bundle without an 'id'");
  const json& list = body["objects"];
  if (list.size() > limits_.max_post_objects) {
    return error(413, "Payload Too Large", fmt::format("{} objects in one envelope; this server takes at most {}", list.size(), limits_.max_post_objects));
  }
  const std::string request_time = core::utc_now_ms();
  intel::AcceptOptions opt;
  opt.collection = c.id;
  opt.source = "inbound from token " + r.caller.token_id;
  {
    std::lock_guard lock(allow_mutex_);
    opt.allow = allow_;
  }
  const std::string status_id = random_uuid();
  intel::AcceptReport report;
  try {
    report = intel::accept_objects(store_, list.get<std::vector<json>>(), security::trusted_keys(dir_), opt, [&](intel::IntelWriter& w) {
      json successes = json::array();
      for (const auto& o : list) successes.push_back({{"id", o.value("id", "")}, {"version", intel::object_version(o)}});
      const json status = {{"id", status_id}, {"status", "complete"}, {"request_timestamp", request_time}, {"total_count", list.size()},
                           {"success_count", list.size()}, {"successes", successes}, {"failure_count", 0}, {"pending_count", 0}};
      w.put_status(status_id, status.dump());
    });
  } catch (const intel::AcceptRejected& e) {
    security::audit(dir_, keys_, "intel.inbound.rejected",
                    {{"token", r.caller.token_id}, {"collection", c.id}, {"objects", list.size()}, {"problems", e.problems().size()}, {"first", e.problems().front()}});
    const auto shown = std::vector<std::string>(e.problems().begin(), e.problems().begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(e.problems().size(), 100)));
    return error(422, "Unprocessable Entity", e.what(), {{"problems", shown}});
  }
  json rule_ids = json::array(), refused = json::array();  // the first 100 of each, with the counts
  for (std::size_t i = 0; i < std::min<std::size_t>(report.rules.size(), 100); ++i) rule_ids.push_back({{"id", report.rules[i].id}, {"range", report.rules[i].range}});
  for (std::size_t i = 0; i < std::min<std::size_t>(report.refused_rules.size(), 100); ++i) refused.push_back(report.refused_rules[i]);
  security::audit(dir_, keys_, "intel.inbound",
                  {{"token", r.caller.token_id}, {"collection", c.id}, {"objects", list.size()}, {"stored", report.stored},
                   {"rules_count", report.rules.size()}, {"rules", rule_ids}, {"refused_rules_count", report.refused_rules.size()}, {"refused_rules", refused}});
  ApiResponse a = taxii_json(202, *store_.status(status_id));
  return a;
}

}  // namespace sco::server
