#include "federation/sync.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <thread>

#include "catalog/store.hpp"
#include "core/clock.hpp"
#include "core/digest.hpp"
#include "core/fault.hpp"
#include "core/url.hpp"
#include "security/audit.hpp"
#include "security/jcs.hpp"
#include "security/keys.hpp"

namespace sco::federation {

namespace fs = std::filesystem;
using core::ErrorCode;
using security::string_member;
using nlohmann::json;

namespace {

// Ids become folder names here: one path segment, no leading dot.
const std::regex& safe_name() {
  static const std::regex re("^[A-Za-z0-9][A-Za-z0-9._:~-]*$");
  return re;
}


// A file name for an asset's local copy: its key (made safe) and an extension from its media type
// (or from its href), so that the copy opens by name in GDAL and browsers.
std::string local_name(const std::string& key, const std::string& type, const std::string& href) {
  std::string name;
  for (const char c : key) name += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  if (name.empty() || name[0] == '.') name = "asset" + name;
  static const std::pair<const char*, const char*> by_type[] = {{"image/tiff", ".tif"},
                                                                {"application/x-netcdf", ".nc"},
                                                                {"application/netcdf", ".nc"},
                                                                {"application/x-hdf5", ".h5"},
                                                                {"application/geo+json", ".geojson"},
                                                                {"application/json", ".json"},
                                                                {"text/html", ".html"},
                                                                {"text/csv", ".csv"},
                                                                {"application/geopackage+sqlite3", ".gpkg"},
                                                                {"image/png", ".png"},
                                                                {"image/jpeg", ".jpg"}};
  for (const auto& [prefix, ext] : by_type) {
    if (type.rfind(prefix, 0) == 0) return name + ext;
  }
  static const std::regex ext_re(R"(\.([A-Za-z0-9]{1,5})$)");
  std::smatch m;
  const std::string path = href.substr(0, href.find('?'));
  if (std::regex_search(path, m, ext_re)) return name + "." + m[1].str();
  return name;
}

struct Incoming {
  json item;
  std::string checksum;
  bool update = false;
};

// One asset of one incoming item.
struct Job {
  std::size_t incoming = 0;
  std::string key;
  fs::path final_path;
  std::size_t unit = 0;
};

// One distinct content to fetch (several assets may share it).
struct Unit {
  Url url;
  std::string sha256;      // hex
  std::int64_t size = -1;  // file:size when the partner gave it
  fs::path staged;         // DIR/sync/staging/SHA256
  std::vector<fs::path> finals;
  fs::path ready;  // where the verified bytes are once fetched or found
  bool reused = false;
  std::uint64_t bytes = 0;
  std::string label;    // "item 'x': asset 'k'", the first that names this content
  std::string problem;  // content that failed its checks
  std::string error;    // a transfer that did not complete
};

std::string plural(std::size_t n, const char* word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); }

bool file_matches(const fs::path& p, const Unit& u) {
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return false;
  const auto size = static_cast<std::int64_t>(fs::file_size(p, ec));
  if (ec || (u.size >= 0 && size != u.size)) return false;
  return core::sha256_file(p.string()) == u.sha256;
}

// Clients by origin, one keep-alive connection each; the token goes to `token_origin` only.
class ClientPool {
 public:
  ClientPool(const ClientOptions& options, std::string token_origin) : options_(options), token_origin_(std::move(token_origin)) {}
  HttpClient& to(const Url& url) {
    auto& c = clients_[url.origin()];
    if (!c) c = std::make_unique<HttpClient>(url, options_, url.origin() == token_origin_);
    return *c;
  }

 private:
  const ClientOptions& options_;
  std::string token_origin_;
  std::map<std::string, std::unique_ptr<HttpClient>> clients_;
};

// What a download gave, against the signed size (-1: not given) and SHA-256.
struct Received {
  std::uint64_t bytes = 0;  // received by this call
  std::int64_t size = 0;    // of the whole file
  bool size_ok = true, checksum_ok = true;
  bool ok() const { return size_ok && checksum_ok; }
};

// Fetches `url` into `file` (continuing what it holds) and checks it; a file that fails is removed.
// Throws (kIo) when the transfer breaks off, leaving what arrived.
Received fetch_checked(ClientPool& pool, const Url& url, const fs::path& file, std::int64_t size, const std::string& sha256) {
  Received r;
  r.bytes = pool.to(url).download(url.path.empty() ? "/" : url.path, file.string());
  std::error_code ec;
  r.size = static_cast<std::int64_t>(fs::file_size(file, ec));
  r.size_ok = size < 0 || r.size == size;
  r.checksum_ok = r.size_ok && core::sha256_file(file.string()) == sha256;
  if (!r.ok()) fs::remove(file, ec);
  return r;
}

// Fetches or finds one unit's bytes and checks them; never throws.
void fetch(Unit& u, ClientPool& pool) {
  try {
    // A copy committed by an earlier sync (an item that changed, but not this asset).
    for (const auto& f : u.finals) {
      if (file_matches(f, u)) {
        u.ready = f;
        u.reused = true;
        return;
      }
    }
    std::error_code ec;
    if (fs::exists(u.staged, ec)) {
      const auto size = static_cast<std::int64_t>(fs::file_size(u.staged, ec));
      if (u.size >= 0 && size > u.size) {
        fs::remove(u.staged, ec);
      } else if ((u.size < 0 || size == u.size) && core::sha256_file(u.staged.string()) == u.sha256) {
        u.ready = u.staged;  // fetched whole by an interrupted sync
        u.reused = true;
        return;
      } else if (u.size >= 0 && size == u.size) {
        fs::remove(u.staged, ec);  // whole but wrong: fetch again
      }
    }
    const Received r = fetch_checked(pool, u.url, u.staged, u.size, u.sha256);
    u.bytes = r.bytes;
    if (!r.size_ok) {
      u.problem = fmt::format("received {} bytes where the signed item says {} (truncated or altered in transit)", r.size, u.size);
    } else if (!r.checksum_ok) {
      u.problem = "the bytes received do not match the signed file:checksum (altered at the source or in transit)";
    } else {
      u.ready = u.staged;
    }
  } catch (const std::exception& e) {
    u.error = e.what();
  }
}

}  // namespace

namespace {

double since(std::chrono::steady_clock::time_point t) { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count(); }

// One sync, phase by phase: the partner's listing, the checks of every changed item, the assets
// fetched and checked, the files placed, one transaction, the sidecars.
class SyncRun {
 public:
  explicit SyncRun(const SyncOptions& o) : o_(o), base_(partner_base(o)), api_(base_, o.client, true) {}

  SyncReport run() {
    const auto t0 = std::chrono::steady_clock::now();
    open_target();
    list_partner();
    check_listing();
    report_.list_seconds = since(t0);
    const auto t_fetch = std::chrono::steady_clock::now();
    plan_assets();
    fetch_assets();
    report_.fetch_seconds = since(t_fetch);
    const auto t_commit = std::chrono::steady_clock::now();
    place_files();
    commit();
    write_sidecars();
    report_.signers.assign(signers_.begin(), signers_.end());
    report_.commit_seconds = since(t_commit);
    report_.seconds = since(t0);
    return report_;
  }

 private:
  // --from without a trailing "/" or "/stac", checked; the collection id checked.
  Url partner_base(const SyncOptions& o) {
    from_ = o.from;
    while (!from_.empty() && from_.back() == '/') from_.pop_back();
    if (from_.size() >= 5 && from_.compare(from_.size() - 5, 5, "/stac") == 0) from_.resize(from_.size() - 5);
    const Url base = parse_url(from_, "--from");
    if (base.path.find_first_of("?#") != std::string::npos) core::fail(ErrorCode::kInvalidInput, "--from: '{}' must not have a query", o.from);
    if (!std::regex_match(o.collection, safe_name())) core::fail(ErrorCode::kInvalidInput, "--collection: '{}' is not a collection id", o.collection);
    coll_ = o.collection;
    stac_ = base.path + "/stac";
    report_.collection = coll_;
    report_.from = from_;
    return base;
  }

  // The partner's collection, and this node's copy of it (never a collection made here).
  void open_target() {
    remote_ = api_.get_json(stac_ + "/collections/" + core::url_encode(coll_));
    if (string_member(remote_, "id") != coll_) core::fail(ErrorCode::kInvalidInput, "{}{}: not the collection '{}'", base_.origin(), stac_, coll_);
    store_ = catalog::open_node_store(o_.catalog_dir);
    keys_ = std::make_unique<security::NodeKeys>(security::NodeKeys::load_or_create(o_.catalog_dir));
    const auto local = store_->collection(coll_);
    if (!local) return;
    const json origin = local->value("sco:origin", json());
    if (origin.is_object() && origin.contains("signers") && origin["signers"].is_array()) {
      for (const auto& n : origin["signers"]) {
        if (n.is_string()) signers_.insert(n.get<std::string>());
      }
    }
    if (!origin.is_object()) {
      core::fail(ErrorCode::kInvalidInput,
                 "collection '{}' exists on this node and is not a partner's copy (it "
                 "was ingested or run here); sync into another catalog (--catalog)",
                 coll_);
    }
    if (string_member(origin, "url") != from_) {
      core::fail(ErrorCode::kInvalidInput, "collection '{}' on this node is a copy of {}'s, not of {}'s", coll_, string_member(origin, "url"), from_);
    }
  }

  // 1. The partner's listing, page by page (next links kept to its origin).
  void list_partner() {
    std::string target = fmt::format("{}/collections/{}/items?limit={}", stac_, core::url_encode(coll_), std::clamp(o_.page_size, 1, 10000));
    while (!target.empty()) {
      json page = api_.get_json(target);
      if (!page.is_object() || !page.contains("features") || !page["features"].is_array()) {
        core::fail(ErrorCode::kInvalidInput, "{}{}: not a STAC item collection (no features)", base_.origin(), target);
      }
      for (auto& f : page["features"]) listed_.push_back(std::move(f));
      target.clear();
      if (!page.contains("links") || !page["links"].is_array()) continue;
      for (const auto& l : page["links"]) {
        if (string_member(l, "rel") != "next") continue;
        const Url next = parse_url(string_member(l, "href"), "the partner's next link");
        if (next.origin() != base_.origin()) {
          core::fail(ErrorCode::kInvalidInput, "the partner's next link leaves its origin ({}): refused", string_member(l, "href"));
        }
        target = next.path;
      }
    }
    report_.listed = static_cast<std::int64_t>(listed_.size());
  }

  // The problem with an item's shape or id, if any.
  std::string shape_problem(const json& item, const std::string& id) {
    if (id.empty()) return "an item without an id";
    if (!std::regex_match(id, safe_name())) {
      return fmt::format("item '{}': the id is not usable as a name (letters, digits, '.', '_', '-', ':', '~')", id);
    }
    if (!seen_.insert(id).second) return fmt::format("item '{}' is listed twice", id);
    if (string_member(item, "collection") != coll_) {
      return fmt::format("item '{}' belongs to collection '{}', not '{}'", id, string_member(item, "collection"), coll_);
    }
    if (!item.contains("bbox") || !item["bbox"].is_array() || item["bbox"].size() < 4 || !item.contains("properties") ||
        !item["properties"].is_object()) {
      return fmt::format("item '{}' has no bbox or properties", id);
    }
    return "";
  }

  // A changed item must be a newer version than the one held (its signed `updated`): a stale mirror or
  // a proxy replaying an older, validly signed copy must not roll this node back.
  bool newer_than_held(const json& item, const std::string& id) {
    const auto held = store_->item(coll_, id);
    const std::string held_updated = held ? string_member(held->value("properties", json::object()), "updated") : "";
    const std::string new_updated = string_member(item["properties"], "updated");
    if (security::version_order(new_updated) > security::version_order(held_updated)) return true;
    problems_.push_back(fmt::format("item '{}': the partner serves version {} but this node holds version {}: an older or equal version "
                                    "with other content is refused (a replay or a stale copy of the partner's catalog)",
                                    id, new_updated.empty() ? "(none)" : new_updated, held_updated.empty() ? "(none)" : held_updated));
    return false;
  }

  // Every asset with a SHA-256, an http(s) href on the partner's own node (hrefs are not signed:
  // fetched only from the partner, never from a host the listing names) and a valid size.
  bool assets_acceptable(const json& item, const std::string& id) {
    static const std::regex checksum_re("^1220([0-9a-f]{64})$");
    if (!item.contains("assets")) return true;
    if (!item["assets"].is_object()) {
      problems_.push_back(fmt::format("item '{}': assets is not an object", id));
      return false;
    }
    bool ok = true;
    for (auto it = item["assets"].begin(); it != item["assets"].end(); ++it) {
      const std::string href = string_member(*it, "href");
      std::smatch m;
      const std::string sum = string_member(*it, "file:checksum");
      std::string problem;
      if (!std::regex_match(sum, m, checksum_re)) {
        problem = fmt::format("item '{}': asset '{}' has no SHA-256 file:checksum, so its content cannot be proved", id, it.key());
      } else if (href.rfind("http://", 0) != 0 && href.rfind("https://", 0) != 0) {
        problem = fmt::format("item '{}': asset '{}' has no http(s) href ('{}')", id, it.key(), href);
      } else if (const auto origin = origin_of(href); origin != base_.origin()) {
        problem = fmt::format("item '{}': asset '{}' is on {}, not on the partner's node {}: assets are fetched only from the partner", id, it.key(),
                              origin.empty() ? "'" + href + "'" : origin, base_.origin());
      } else if (it->contains("file:size") && (!(*it)["file:size"].is_number_integer() || (*it)["file:size"].get<std::int64_t>() < 0)) {
        problem = fmt::format("item '{}': asset '{}' has an invalid file:size", id, it.key());
      }
      if (!problem.empty()) {
        problems_.push_back(problem);
        ok = false;
      }
    }
    return ok;
  }

  // 2-3. What changed, and whether it is signed by a partner this node trusts.
  void check_listing() {
    const auto trusted = security::trusted_keys(o_.catalog_dir);
    have_ = store_->item_checksums(coll_);
    for (auto& item : listed_) {
      const std::string id = string_member(item, "id");
      if (const std::string p = shape_problem(item, id); !p.empty()) {
        problems_.push_back(p);
        continue;
      }
      const std::string signed_bytes = security::item_signing_bytes(item);
      const std::string checksum = "signed:" + core::sha256_hex(signed_bytes + item.value("sco:signature", json()).dump());
      const auto old = have_.find(id);
      if (old != have_.end() && old->second == checksum) {
        ++report_.unchanged;
        continue;
      }
      const security::Verdict v = security::verify_item(item, trusted, false, &signed_bytes);
      problems_.insert(problems_.end(), v.problems.begin(), v.problems.end());
      if (old != have_.end() && !newer_than_held(item, id)) continue;
      if (v.ok) signers_.insert(v.signer);
      const bool assets_ok = assets_acceptable(item, id);
      if (v.ok && assets_ok) incoming_.push_back({std::move(item), checksum, old != have_.end()});
    }
    if (!problems_.empty()) reject(problems_.front());
    for (const auto& [id, sum] : have_) {
      if (!seen_.count(id)) removed_.push_back(id);
    }
  }

  // What kinds of problems a rejection had, for the security events partners share (intel/derive).
  static json reasons_of(const std::vector<std::string>& problems) {
    json reasons = json::object();
    for (const auto& p : problems) {
      const char* kind = p.find("is not signed") != std::string::npos                         ? "unsigned"
                         : p.find("which this node does not trust") != std::string::npos      ? "untrusted_key"
                         : p.find("does not match its content") != std::string::npos          ? "bad_signature"
                         : p.find("does not match its checksum") != std::string::npos ||
                                   p.find("do not match the signed file:checksum") != std::string::npos ||
                                   p.find("the signed item says") != std::string::npos        ? "checksum_mismatch"
                         : p.find("an older or equal version") != std::string::npos          ? "replayed_version"
                                                                                              : "malformed";
      reasons[kind] = reasons.value(kind, 0) + 1;
    }
    return reasons;
  }

  [[noreturn]] void reject(const std::string& what) {
    security::audit(o_.catalog_dir, *keys_, "sync.rejected",
                    {{"from", from_}, {"collection", coll_}, {"problems", problems_.size()}, {"first", problems_.front()}, {"reasons", reasons_of(problems_)}});
    throw SyncRejected(fmt::format("sync of '{}' from {} rejected, nothing was committed: {}{}", coll_, from_, what,
                                   problems_.size() > 1 ? fmt::format(" (and {} more: see above)", problems_.size() - 1) : ""),
                       problems_);
  }

  // 4. The assets of new and changed items, each distinct content once.
  void plan_assets() {
    staging_ = fs::path(o_.catalog_dir) / "sync" / "staging";
    dest_ = fs::path(o_.catalog_dir) / "synced" / coll_;
    fs::create_directories(staging_);
    std::map<std::string, std::size_t> unit_of;
    for (std::size_t i = 0; i < incoming_.size(); ++i) {
      const json& item = incoming_[i].item;
      if (!item.contains("assets")) continue;
      for (auto it = item["assets"].begin(); it != item["assets"].end(); ++it) {
        const std::string sha = string_member(*it, "file:checksum").substr(4);
        const std::string href = string_member(*it, "href");
        Job job{i, it.key(), dest_ / string_member(item, "id") / (sha.substr(0, 12) + "-" + local_name(it.key(), string_member(*it, "type"), href))};
        auto [pos, fresh] = unit_of.emplace(sha, units_.size());
        job.unit = pos->second;
        if (fresh) {
          Unit u;
          u.label = fmt::format("item '{}': asset '{}'", string_member(item, "id"), it.key());
          u.url = parse_url(href, fmt::format("item '{}': asset '{}'", string_member(item, "id"), it.key()));
          u.sha256 = sha;
          u.size = it->contains("file:size") ? (*it)["file:size"].get<std::int64_t>() : -1;
          u.staged = staging_ / sha;
          units_.push_back(std::move(u));
        }
        units_[pos->second].finals.push_back(job.final_path);
        jobs_.push_back(std::move(job));
      }
    }
  }

  void fetch_assets() {
    std::atomic<std::size_t> next{0};
    std::atomic<std::int64_t> done{0};
    std::mutex progress_mutex;
    auto worker = [&] {
      ClientPool pool(o_.client, base_.origin());
      for (std::size_t k; (k = next++) < units_.size();) {
        fetch(units_[k], pool);
        const std::int64_t d = ++done;
        if (o_.progress) {
          std::lock_guard lock(progress_mutex);
          o_.progress(d, static_cast<std::int64_t>(units_.size()));
        }
      }
    };
    const int n = std::clamp<int>(o_.threads, 1, static_cast<int>(std::max<std::size_t>(1, units_.size())));
    std::vector<std::thread> pool;
    for (int t = 1; t < n; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    std::size_t interrupted = 0;
    std::string first_error;
    for (const auto& u : units_) {
      if (!u.problem.empty()) problems_.push_back(fmt::format("{}: {}", u.label, u.problem));
      if (!u.error.empty() && interrupted++ == 0) first_error = u.error;
      report_.bytes_downloaded += u.bytes;
      (u.reused ? report_.assets_reused : report_.assets_downloaded) += u.ready.empty() ? 0 : 1;
    }
    if (!problems_.empty()) reject(problems_.front());
    if (interrupted) {
      std::size_t kept = 0;
      for (const auto& u : units_) kept += !u.ready.empty();
      security::audit(o_.catalog_dir, *keys_, "sync.interrupted", {{"from", from_}, {"collection", coll_}, {"fetched", kept}, {"missing", interrupted}});
      core::fail(ErrorCode::kIo,
                 "sync of '{}' from {} interrupted, nothing was committed: {} of "
                 "{} not fetched ({}); {} verified, kept for the next run",
                 coll_, from_, interrupted, plural(units_.size(), "asset"), first_error, kept);
    }
  }

  void old_files_of(const std::string& id) {
    if (const auto old = store_->item(coll_, id); old && old->contains("assets")) {
      for (const auto& a : (*old)["assets"]) old_files_.emplace_back(string_member(a, "href"));
    }
  }

  // 5. Files into place under new names: a committed item's files are never overwritten.
  void place_files() {
    for (const auto& inc : incoming_) {
      if (inc.update) old_files_of(string_member(inc.item, "id"));
    }
    for (const auto& id : removed_) old_files_of(id);
    finals_of_.resize(incoming_.size());
    for (const auto& job : jobs_) finals_of_[job.incoming][job.key] = job.final_path;
    for (const auto& job : jobs_) {
      const Unit& u = units_[job.unit];
      std::error_code ec;
      if (fs::exists(job.final_path, ec) && (job.final_path == u.ready || file_matches(job.final_path, u))) {
        placed_.insert(job.final_path);
        continue;
      }
      fs::create_directories(job.final_path.parent_path());
      const fs::path tmp = job.final_path.string() + ".part";
      fs::remove(tmp, ec);
      fs::create_hard_link(u.ready, tmp, ec);
      if (ec) fs::copy_file(u.ready, tmp, fs::copy_options::overwrite_existing);
      fs::rename(tmp, job.final_path);
      placed_.insert(job.final_path);
    }
  }

  // The local copy of an item: its self link kept as "via", its assets at their local paths.
  json local_item(std::size_t i) const {
    json local = incoming_[i].item;
    json via = json::array();
    if (local.contains("links") && local["links"].is_array()) {
      for (const auto& l : local["links"]) {
        if (string_member(l, "rel") == "self") via.push_back({{"rel", "via"}, {"href", string_member(l, "href")}, {"type", "application/geo+json"}});
      }
    }
    local["links"] = via;
    for (const auto& [key, path] : finals_of_[i]) local["assets"][key]["href"] = path.string();
    return local;
  }

  // One transaction for the items, the removals and the collection, the audit entry written ahead.
  void commit() {
    json doc = remote_;
    doc.erase("links");
    doc["sco:origin"] = {{"url", from_}, {"collection", coll_}, {"synced", core::utc_now()}, {"signers", signers_}};
    // The copy's visibility: the one asked for, else the one this node set before (a later sync never
    // loosens it), else the partner's.
    if (!o_.visibility.empty()) {
      doc["sco:visibility"] = o_.visibility;
    } else if (const auto local = store_->collection(coll_); local && local->contains("sco:visibility")) {
      doc["sco:visibility"] = (*local)["sco:visibility"];
    }
    store_->transaction([&] {
      store_->put_collection(doc);
      for (std::size_t i = 0; i < incoming_.size(); ++i) {
        const auto r = store_->put_item(local_item(i), incoming_[i].checksum);
        (r == catalog::UpsertResult::kInserted ? report_.added : report_.updated) += r == catalog::UpsertResult::kUnchanged ? 0 : 1;
      }
      for (const auto& id : removed_) report_.removed += store_->delete_item(coll_, id) ? 1 : 0;
      store_->refresh_extent(coll_);
      json detail = {{"from", from_},
                     {"collection", coll_},
                     {"added", report_.added},
                     {"updated", report_.updated},
                     {"removed", report_.removed},
                     {"unchanged", report_.unchanged},
                     {"assets", report_.assets_downloaded},
                     {"bytes", report_.bytes_downloaded}};
      if (doc.contains("sco:visibility")) detail["visibility"] = doc["sco:visibility"];
      core::crash_point("sync.staged");
      const auto entry = security::audit_ahead(o_.catalog_dir, *keys_, "sync", detail);
      store_->confirm_audit(entry.seq, entry.hash);
      core::crash_point("sync.audited");
    });
  }

  // Afterwards: each received item beside its files (what `sco verify DIR/synced` checks), the
  // replaced files, the removed items' folders, the staging copies.
  void write_sidecars() {
    std::error_code ec;
    for (std::size_t i = 0; i < incoming_.size(); ++i) {
      json local = incoming_[i].item;
      local.erase("links");
      for (const auto& [key, path] : finals_of_[i]) local["assets"][key]["href"] = path.string();
      const fs::path file = dest_ / string_member(local, "id") / "item.json";
      fs::create_directories(file.parent_path(), ec);
      std::ofstream(file.string() + ".part") << local.dump(2) << '\n';
      fs::rename(file.string() + ".part", file, ec);
    }
    for (const auto& f : old_files_) {
      if (!placed_.count(f) && f.string().rfind(dest_.string(), 0) == 0) fs::remove(f, ec);
    }
    for (const auto& id : removed_) fs::remove_all(dest_ / id, ec);
    for (const auto& u : units_) {
      if (u.ready == u.staged) fs::remove(u.staged, ec);
    }
  }

  const SyncOptions& o_;
  std::string from_, coll_, stac_;
  SyncReport report_;
  Url base_;
  HttpClient api_;
  json remote_;
  std::unique_ptr<catalog::CatalogStore> store_;
  std::unique_ptr<security::NodeKeys> keys_;
  std::set<std::string> signers_;  // of every item synced so far, this time and before
  std::vector<json> listed_;
  std::map<std::string, std::string> have_;
  std::vector<std::string> problems_;
  std::vector<Incoming> incoming_;
  std::set<std::string> seen_;
  std::vector<std::string> removed_;
  fs::path staging_, dest_;
  std::vector<Job> jobs_;
  std::vector<Unit> units_;
  std::vector<fs::path> old_files_;
  std::set<fs::path> placed_;
  std::vector<std::map<std::string, fs::path>> finals_of_;
};

}  // namespace

SyncReport sync_collection(const SyncOptions& o) { return SyncRun(o).run(); }

std::vector<std::string> partner_origins(const std::string& catalog_dir) {
  std::vector<std::string> out;
  if (!fs::exists(fs::path(catalog_dir) / "catalog.sqlite") && catalog::node_store_location(catalog_dir) == catalog_dir) return out;
  const auto store = catalog::open_node_store(catalog_dir);
  for (const auto& [id, member] : store->collection_member("sco:origin")) {
    if (!member) continue;  // not a partner's copy (the member is an object: its document is read)
    const auto c = store->collection(id);
    const std::string origin = c ? origin_of(string_member(c->value("sco:origin", json::object()), "url")) : "";
    if (!origin.empty() && std::find(out.begin(), out.end(), origin) == out.end()) out.push_back(origin);
  }
  return out;
}

std::vector<std::string> check_remote_assets(const json& item, const ClientOptions& options, const std::string& token_origin,
                                             const std::string& scratch_dir) {
  std::vector<std::string> problems;
  if (!item.is_object() || !item.contains("assets") || !item["assets"].is_object()) return problems;
  const std::string id = string_member(item, "id");
  ClientPool pool(options, token_origin);
  fs::create_directories(scratch_dir);
  for (auto it = item["assets"].begin(); it != item["assets"].end(); ++it) {
    const std::string href = string_member(*it, "href");
    if (href.rfind("http://", 0) != 0 && href.rfind("https://", 0) != 0) continue;
    const std::string sum = string_member(*it, "file:checksum");
    if (sum.size() != 68 || sum.rfind("1220", 0) != 0) {
      problems.push_back(fmt::format("item '{}': asset '{}' has no SHA-256 file:checksum", id, it.key()));
      continue;
    }
    const fs::path tmp = fs::path(scratch_dir) / fmt::format("verify-{}", sum.substr(4));
    std::error_code ec;
    fs::remove(tmp, ec);
    try {
      const Url url = parse_url(href, fmt::format("item '{}': asset '{}'", id, it.key()));
      const std::int64_t want = it->contains("file:size") && (*it)["file:size"].is_number_integer() ? (*it)["file:size"].get<std::int64_t>() : -1;
      const Received r = fetch_checked(pool, url, tmp, want, sum.substr(4));
      if (!r.size_ok) {
        problems.push_back(fmt::format("item '{}': asset '{}' ({}): {} bytes, the signed item says {}", id, it.key(), href, r.size, want));
      } else if (!r.checksum_ok) {
        problems.push_back(fmt::format("item '{}': asset '{}' ({}) does not match its checksum", id, it.key(), href));
      }
    } catch (const core::Error& e) {
      problems.push_back(fmt::format("item '{}': asset '{}' could not be fetched: {}", id, it.key(), e.what()));
    }
    fs::remove(tmp, ec);
  }
  return problems;
}

}  // namespace sco::federation
