#include "server/openeo_jobs.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <thread>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "catalog/publish_job.hpp"
#include "core/clock.hpp"
#include "core/digest.hpp"
#include "core/url.hpp"
#include "core/version.hpp"
#include "security/audit.hpp"
#include "security/jcs.hpp"
#include "security/keys.hpp"
#include "server/openeo_api.hpp"
#include "server/openeo_graph.hpp"

namespace sco::server {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxLogEntries = 1000;

void save_job(catalog::CatalogStore& store, const json& job) {
  store.transaction([&] { store.put_record("job", job["id"].get<std::string>(), job["owner"].get<std::string>(), job); });
}

void log_job(json& job, const std::string& level, const std::string& message, const std::string& code = "") {
  json& logs = job["log"];
  json entry = {{"id", std::to_string(job.value("log_seq", 0) + 1)}, {"level", level}, {"message", message}, {"time", core::utc_now()}};
  if (!code.empty()) entry["code"] = code;
  job["log_seq"] = job.value("log_seq", 0) + 1;
  logs.push_back(entry);
  if (logs.size() > kMaxLogEntries) logs.erase(logs.begin());
  job["updated"] = core::utc_now();
}

ApiResponse ok(const json& j, int status = 200) { return {status, "application/json", json_text(j), {}}; }
ApiResponse no_content() { return {204, "", "", {}}; }

std::string user_name(const std::string& owner) { return owner.rfind("user:", 0) == 0 ? owner.substr(5) : owner; }
std::string results_collection(const std::string& owner) { return "openeo-" + user_name(owner); }

// openEO's metadata of a job (what GET /jobs/{id} answers; no internal fields).
json public_view(const json& job, bool full) {
  json j = {{"id", job["id"]}, {"status", job["status"]}, {"created", job["created"]}, {"updated", job["updated"]}};
  for (const char* k : {"title", "description", "plan", "budget"}) {
    if (job.contains(k) && !job[k].is_null()) j[k] = job[k];
  }
  if (job.contains("progress")) j["progress"] = job["progress"];
  if (job.contains("started")) j["sco:started"] = job["started"];  // when it last began running (ms): queue order
  if (full) {
    j["process"] = job["process"];
    j["costs"] = 0;
    if (job.contains("usage")) j["usage"] = job["usage"];
  }
  return j;
}

}  // namespace

JobService::JobService(catalog::CatalogStore& store, std::string catalog_dir, const OpenEoLimits& limits, int threads,
                       const std::optional<SlurmOptions>& slurm)
    : store_(store), catalog_dir_(std::move(catalog_dir)), limits_(limits), threads_(std::max(1, threads)),
      server_id_(core::utc_now_ms().substr(0, 19) + "-" + core::random_hex(6)) {
  if (slurm) {
    slurm_ = std::make_unique<SlurmClient>(*slurm);
    const char* uri = std::getenv("SCO_CATALOG_URI");
    catalog_uri_ = uri && *uri ? uri : catalog_dir_;
  }
  beat();
  adopt_orphans();
  for (int i = 0; i < std::max(1, limits_.job_slots); ++i) workers_.emplace_back([this] { worker(); });
  watcher_ = std::thread([this] { watch(); });
}

JobService::~JobService() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& [id, r] : running_) r.cancel->cancel();
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
  watch_wake_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  // Gone: the jobs queued again here are adopted by another replica, if any.
  try {
    store_.transaction([&] { store_.delete_record("server", server_id_); });
  } catch (const std::exception&) {
  }
}

std::string JobService::job_dir(const std::string& id) const { return (fs::path(catalog_dir_) / "openeo" / "jobs" / id).string(); }


// A queued job as the queue keeps it: who owns it and the memory its plan needs.
JobService::Queued JobService::queued_entry(const json& job) {
  return {job["id"].get<std::string>(), job["owner"].get<std::string>(),
          job.value("estimate", json::object()).value("peak_memory_bytes", std::uint64_t{0})};
}

// A job whose server stopped: a queued one (or one submitted to Slurm, followed again) is queued
// here; one that was running when its server stopped unexpectedly failed, with that reason, and its
// partial files are removed. Called with the jobs in their queue order.
void JobService::adopt(json job) {
  const std::string status = job.value("status", "");
  const bool on_slurm = slurm_ && job.contains("slurm_job");  // submitted before the stop: followed again
  if (status == "running" && !on_slurm) {
    std::error_code ec;
    fs::remove_all(job_dir(job["id"]), ec);
    job["status"] = "error";
    log_job(job, "error", "the node stopped while the job ran (the server was killed or crashed); start the job again", "Internal");
    save_job(store_, job);
    return;
  }
  if (status != "queued" && status != "running") return;
  job["server"] = server_id_;
  save_job(store_, job);
  std::lock_guard lock(mutex_);
  queue_.push_back(queued_entry(job));
}

ApiResponse JobService::handle(const ApiRequest& req, const std::string& rest) {
  if (req.caller.owner.empty()) return openeo_error(401, "AuthenticationRequired", "log in first: GET /credentials/basic");
  if (rest.empty() || rest == "/") {
    if (req.method == "POST") return create(req);
    if (req.method == "GET") return list(req);
    return openeo_error(405, "MethodNotAllowed", "GET or POST /jobs");
  }
  const std::string path = rest.substr(1);
  const std::string id = path.substr(0, path.find('/'));
  const std::string sub = path.substr(id.size());
  const auto job = store_.record("job", id);
  // Another user's job does not exist for the caller.
  if (!job || (*job)["owner"] != req.caller.owner) return openeo_error(404, "JobNotFound", fmt::format("no job '{}'", id));
  const std::string& m = req.method;
  if (sub.empty() && m == "GET") return describe(req, *job);
  if (sub.empty() && m == "PATCH") return update(req, *job);
  if (sub.empty() && m == "DELETE") return remove(*job);
  if (sub == "/results" && m == "POST") return start(req, *job);
  if (sub == "/results" && m == "GET") return results(req, *job);
  if (sub == "/results" && m == "DELETE") return cancel(*job);
  if (sub == "/logs" && m == "GET") return logs(req, *job);
  if (sub.rfind("/results/", 0) == 0 && (m == "GET" || m == "HEAD")) return result_file(*job, sub.substr(9));
  if (sub == "/estimate" && m == "GET") {
    const json e = job->value("estimate", json::object());
    return ok({{"costs", 0}, {"duration", fmt::format("PT{}S", static_cast<long long>(std::ceil(e.value("seconds", 0.0))))}, {"size", e.value("bytes_written", 0)}});
  }
  return openeo_error(sub.empty() || sub == "/results" || sub == "/logs" ? 405 : 404, sub.empty() || sub == "/results" || sub == "/logs" ? "MethodNotAllowed" : "NotFound",
                      fmt::format("{} {} is not a route of this node", m, req.path));
}

// The job's graph planned as a batch job (a file per time step, the owner's processes); the openEO
// error when it cannot run.
std::optional<ApiResponse> JobService::plan(const json& graph, const Caller& caller, const std::string& owner, GraphEstimate& estimate) const {
  GraphOptions check;
  check.catalog_dir = catalog_dir_;
  check.single_file = false;
  check.user_process = stored_processes(store_, owner);
  try {
    estimate = plan_process_graph(graph, store_, caller, check);
  } catch (const core::Error& e) {
    return openeo_error_of(e);
  }
  return std::nullopt;
}

ApiResponse JobService::create(const ApiRequest& req) {
  json body;
  if (auto bad = parse_openeo_body(req.body, body)) return *bad;
  json graph;
  if (auto bad = process_graph_of(body, graph)) return *bad;
  const json& process = body["process"];
  const std::string owner = req.caller.owner;
  GraphEstimate estimate;
  if (auto bad = plan(graph, req.caller, owner, estimate)) return *bad;
  const std::string id = "j-" + core::random_hex(8);
  const std::string now = core::utc_now();
  json job = {{"id", id}, {"owner", owner}, {"role", req.caller.role == Role::kAdmin ? "admin" : req.caller.role == Role::kPartner ? "partner" : "reader"},
              {"title", body.value("title", json())}, {"description", body.value("description", json())}, {"process", process},
              {"plan", body.value("plan", json())}, {"budget", body.value("budget", json())}, {"status", "created"}, {"created", now},
              {"updated", now}, {"log", json::array()}, {"estimate", estimate.to_json()}};
  log_job(job, "info", fmt::format("created; planned: {} nodes, {} cells at most, {} MiB peak memory, about {:.1f} s", estimate.nodes, estimate.cells,
                               estimate.peak_memory >> 20, estimate.seconds));
  save_job(store_, job);
  security::audit(catalog_dir_, security::NodeKeys::load_or_create(catalog_dir_), "openeo.job.create", {{"job", id}, {"owner", owner}});
  ApiResponse r = {201, "application/json", "", {}};
  r.headers = {{"Location", req.base_url + "/openeo/1.2/jobs/" + id}, {"OpenEO-Identifier", id}};
  return r;
}

ApiResponse JobService::list(const ApiRequest& req) {
  json jobs = json::array();
  for (const json& job : store_.records("job", req.caller.owner)) jobs.push_back(public_view(job, false));
  return ok({{"jobs", jobs}, {"links", json::array()}});
}

ApiResponse JobService::describe(const ApiRequest&, const json& job) const { return ok(public_view(job, true)); }

ApiResponse JobService::update(const ApiRequest& req, json job) {
  json body;
  if (auto bad = parse_openeo_body(req.body, body)) return *bad;
  if (body.contains("process")) {  // a new graph is checked as a new job's is
    json graph;
    GraphEstimate estimate;
    if (auto bad = process_graph_of(body, graph)) return *bad;
    if (auto bad = plan(graph, req.caller, job["owner"], estimate)) return *bad;
  }
  std::lock_guard lock(mutex_);
  job = store_.record("job", job["id"]).value_or(job);
  const std::string status = job["status"];
  if (status == "queued" || status == "running") return openeo_error(400, "JobLocked", "a queued or running job cannot be changed; cancel it first");
  for (const char* k : {"title", "description", "plan", "budget"}) {
    if (body.contains(k)) job[k] = body[k];
  }
  if (body.contains("process")) job["process"] = body["process"];
  log_job(job, "info", "updated");
  save_job(store_, job);
  return no_content();
}

ApiResponse JobService::start(const ApiRequest& req, json job) {
  const std::string id = job["id"];
  const std::string owner = job["owner"];
  GraphEstimate estimate;
  if (auto bad = plan(job["process"]["process_graph"], req.caller, owner, estimate)) return *bad;
  if (estimate.peak_memory > limits_.job_memory) {
    return openeo_error(400, "ProcessGraphComplexity",
                        fmt::format("the job needs about {} MiB of memory, more than this node gives batch jobs ({} MiB): narrow its extents",
                                    estimate.peak_memory >> 20, limits_.job_memory >> 20));
  }
  std::unique_lock lock(mutex_);
  job = store_.record("job", id).value_or(job);
  const std::string status = job["status"];
  if (status == "queued" || status == "running") return ok({}, 202);  // already started: nothing to do
  const int active = static_cast<int>(std::count_if(running_.begin(), running_.end(), [&](const auto& r) { return r.second.owner == owner; }) +
                                       std::count_if(queue_.begin(), queue_.end(), [&](const Queued& q) { return q.owner == owner; }));
  if (active >= limits_.jobs_per_user) {
    return openeo_error(429, "TooManyJobs", fmt::format("you have {} jobs queued or running, the most this node takes from one user; wait for one to finish", active));
  }
  // A restart: the previous results go.
  if (job.contains("results")) {
    catalog::unpublish_job(store_, catalog_dir_, job["results"]["collection"], id);
    job.erase("results");
  }
  std::error_code ec;
  fs::remove_all(job_dir(id), ec);
  job["status"] = "queued";
  job["progress"] = 0;
  job["estimate"] = estimate.to_json();
  job["queued_at"] = core::utc_now_ms();
  job["server"] = server_id_;
  job.erase("error");
  log_job(job, "info", fmt::format("queued; {} MiB of memory planned", estimate.peak_memory >> 20));
  save_job(store_, job);
  queue_.push_back(queued_entry(job));
  lock.unlock();
  wake_.notify_all();
  security::audit(catalog_dir_, security::NodeKeys::load_or_create(catalog_dir_), "openeo.job.start", {{"job", id}, {"owner", owner}});
  return ok({}, 202);
}

// Asks a running job to stop and waits until its worker has cleaned up; a queued job leaves the queue.
// A job another replica runs is asked of it; one whose server stopped is cancelled here.
ApiResponse JobService::cancel(json job) {
  const std::string id = job["id"];
  std::unique_lock lock(mutex_);
  if (cancel_here(id, lock, true)) return no_content();
  job = store_.record("job", id).value_or(job);
  const std::string status = job.value("status", ""), server = job.value("server", "");
  if (status != "queued" && status != "running") return no_content();
  lock.unlock();
  if (!server.empty() && server != server_id_ && live_servers().count(server)) return cancel_elsewhere(job);
  std::error_code ec;
  fs::remove_all(job_dir(id), ec);
  job["status"] = "canceled";
  log_job(job, "info", "canceled (the server that had it stopped)");
  save_job(store_, job);
  return no_content();
}

bool JobService::cancel_here(const std::string& id, std::unique_lock<std::mutex>& lock, bool wait) {
  if (auto q = std::find_if(queue_.begin(), queue_.end(), [&](const Queued& e) { return e.id == id; }); q != queue_.end()) {
    queue_.erase(q);
    json job = store_.record("job", id).value();
    job["status"] = "canceled";
    log_job(job, "info", "canceled before it ran");
    save_job(store_, job);
    return true;
  }
  if (auto r = running_.find(id); r != running_.end()) {
    r->second.cancel->cancel();
    if (wait) wake_.wait(lock, [&] { return !running_.count(id); });
    return true;
  }
  return false;
}

ApiResponse JobService::remove(json job) {
  const std::string id = job["id"];
  cancel(job);
  std::lock_guard lock(mutex_);
  job = store_.record("job", id).value_or(job);
  if (job.contains("results")) catalog::unpublish_job(store_, catalog_dir_, job["results"]["collection"], id);
  std::error_code ec;
  fs::remove_all(job_dir(id), ec);
  store_.transaction([&] { store_.delete_record("job", id); });
  security::audit(catalog_dir_, security::NodeKeys::load_or_create(catalog_dir_), "openeo.job.delete", {{"job", id}, {"owner", job["owner"]}});
  return no_content();
}

ApiResponse JobService::results(const ApiRequest& req, const json& job) const {
  const std::string status = job["status"];
  if (status == "error") {
    const json e = job.value("error", json::object());
    return openeo_error(424, "JobFailed", fmt::format("the job failed: {}: {}", e.value("code", "Internal"), e.value("message", "")));
  }
  if (status != "finished" || !job.contains("results")) return openeo_error(400, "JobNotFinished", fmt::format("the job is {}", status));
  const auto item = store_.item(job["results"]["collection"], job["id"]);
  if (!item) return openeo_error(410, "ResultsExpired", "the job's results were removed from the catalog");
  // Assets under the API's root, where openEO clients send the owner's token.
  json out = *item;
  const std::string base = req.base_url + "/openeo/1.2/jobs/" + job["id"].get<std::string>() + "/results/";
  for (auto& [key, asset] : out["assets"].items()) asset["href"] = base + core::url_encode(key);
  out["links"] = json::array({{{"rel", "self"}, {"href", req.base_url + "/openeo/1.2/jobs/" + job["id"].get<std::string>() + "/results"}, {"type", "application/json"}},
                              {{"rel", "canonical"},
                               {"href", req.base_url + "/stac/collections/" + job["results"]["collection"].get<std::string>() + "/items/" + job["id"].get<std::string>()},
                               {"type", "application/geo+json"}}});
  if (job.contains("title") && job["title"].is_string()) out["properties"]["title"] = job["title"];
  return {200, "application/geo+json", json_text(out), {}};
}

ApiResponse JobService::result_file(const json& job, const std::string& key) const {
  const auto item = job.contains("results") ? store_.item(job["results"]["collection"], job["id"]) : std::nullopt;
  const json asset = item ? item->value("assets", json::object()).value(key, json()) : json();
  if (!asset.is_object()) return openeo_error(404, "AssetNotFound", fmt::format("the job's results have no file '{}'", key));
  ApiResponse r{200, asset.value("type", "application/octet-stream"), ""};
  r.file = asset.value("href", "");
  return r;
}

ApiResponse JobService::logs(const ApiRequest& req, const json& job) const {
  static const std::map<std::string, int> rank = {{"debug", 0}, {"info", 1}, {"warning", 2}, {"error", 3}};
  const auto level = req.query.find("level");
  const int min = level != req.query.end() && rank.count(level->second) ? rank.at(level->second) : 0;
  const auto offset = req.query.find("offset");
  json out = json::array();
  bool after = offset == req.query.end();
  for (const auto& entry : job.value("log", json::array())) {
    if (after && rank.at(entry.value("level", "info")) >= min) out.push_back(entry);
    if (!after && entry.value("id", "") == offset->second) after = true;
  }
  return ok({{"logs", out}, {"links", json::array()}, {"level", level != req.query.end() ? level->second : "debug"}});
}

// The queued job of the user who started one least recently, when its planned memory fits beside the
// running jobs' (or nothing runs); the oldest of that user's queued jobs.
std::string JobService::pick() {
  auto best = queue_.end();
  std::uint64_t best_rank = 0;
  for (auto q = queue_.begin(); q != queue_.end(); ++q) {
    const auto it = last_start_.find(q->owner);
    const std::uint64_t rank = it == last_start_.end() ? 0 : it->second;
    if (best == queue_.end() || rank < best_rank) {
      best = q;
      best_rank = rank;
    }
  }
  if (best == queue_.end()) return "";
  if (!running_.empty() && memory_in_use_ + best->memory > limits_.job_memory) return "";  // waits for memory
  const Queued chosen = *best;
  queue_.erase(best);
  last_start_[chosen.owner] = ++starts_;
  running_[chosen.id] = Running{std::make_shared<core::CancelToken>(), chosen.memory, chosen.owner};
  memory_in_use_ += chosen.memory;
  return chosen.id;
}

void JobService::worker() {
  std::unique_lock lock(mutex_);
  for (;;) {
    std::string id;
    wake_.wait(lock, [&] {
      if (stopping_) return true;
      id = pick();
      return !id.empty();
    });
    if (stopping_) return;
    const auto cancel = running_.at(id).cancel;
    lock.unlock();
    execute(id, cancel);
    lock.lock();
    memory_in_use_ -= running_.at(id).memory;
    running_.erase(id);
    wake_.notify_all();
  }
}

namespace {

struct JobOutcome {
  std::string status, message, code;
};

// The job's process graph run here, its files published in the owner's collection; progress saved to
// the record under `guard`. A cancelled or failed job leaves no file behind.
JobOutcome run_graph_here(catalog::CatalogStore& store, const std::string& catalog_dir, const fs::path& dir, json& job, std::mutex& guard,
                          int threads, const core::CancelToken* cancel) {
  const std::string id = job["id"], owner = job["owner"];
  const int total = std::max(1, job["estimate"].value("nodes", 1));
  int done = 0;
  GraphOptions opts;
  opts.threads = threads;
  opts.catalog_dir = catalog_dir;
  opts.cancel = cancel;
  opts.single_file = false;
  opts.user_process = stored_processes(store, owner);
  opts.on_node = [&](const std::string& node, const std::string& process, double seconds) {
    std::lock_guard lock(guard);
    job["progress"] = std::min(99, 100 * ++done / total);
    log_job(job, "info", fmt::format("node '{}' ({}) done in {:.2f} s", node, process, seconds));
    save_job(store, job);
  };
  const Caller caller{parse_role(job.value("role", "reader")), "", owner};
  try {
    const GraphResult r = run_process_graph(job["process"]["process_graph"], store, caller, (dir / "work").string(), opts);
    fs::create_directories(dir / "results");
    catalog::JobPublication pub{.catalog_dir = catalog_dir, .collection = results_collection(owner),
                                .collection_title = "openEO job results of " + user_name(owner), .visibility = "owner:" + owner, .job_id = id,
                                .title = job.value("title", json()).is_string() ? job["title"].get<std::string>() : "", .files = {},
                                .provenance_path = (dir / "results" / "provenance.json").string(),
                                .process_sha256 = core::sha256_hex(security::canonical_json(job["process"]["process_graph"])),
                                .finished = core::utc_now(), .owner = owner, .bbox = r.bbox};
    json files = json::array();
    for (const auto& f : r.files) {
      const fs::path to = dir / "results" / fs::path(f.path).filename().string().substr(fs::path(f.path).filename().string().find('-') + 1);
      fs::rename(f.path, to);
      pub.files.push_back({to.string(), f.media_type, f.title, f.datetime});
      files.push_back({{"file", to.filename().string()}, {"sha256", core::sha256_file(to.string())}});
    }
    const json provenance = {{"job", id}, {"owner", owner}, {"process", job["process"]}, {"process_sha256", pub.process_sha256},
                             {"inputs", r.inputs}, {"software", {{"sco", core::kVersion}}}, {"started", job["started"]},
                             {"finished", pub.finished}, {"estimate", r.estimate.to_json()}, {"outputs", files}};
    std::ofstream(pub.provenance_path) << provenance.dump(2) << "\n";
    fs::remove_all(dir / "work");
    catalog::publish_job(store, pub);
    std::lock_guard lock(guard);
    job["results"] = {{"collection", pub.collection}};
    return {"finished", fmt::format("finished: {} file{} registered in collection '{}'", r.files.size(), r.files.size() == 1 ? "" : "s", pub.collection), ""};
  } catch (const std::exception& any) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    const auto* e = dynamic_cast<const core::Error*>(&any);
    if (e && e->code() == core::ErrorCode::kCancelled) return {"canceled", "canceled while it ran; its files were removed", ""};
    const auto [code, message] = e ? openeo_code_of(e->what()) : std::pair<std::string, std::string>{"Internal", any.what()};
    return {"error", message, code};
  }
}

// The job's final state in its record.
void finish_job(catalog::CatalogStore& store, json& job, const JobOutcome& o, double seconds) {
  job["status"] = o.status;
  job["usage"] = {{"duration", {{"value", std::round(seconds * 1000) / 1000}, {"unit", "s"}}}};
  if (o.status == "finished") job["progress"] = 100;
  if (o.status == "error") job["error"] = {{"code", o.code}, {"message", o.message}};
  log_job(job, o.status == "error" ? "error" : "info", o.message, o.code);
  save_job(store, job);
}

double seconds_since(std::chrono::steady_clock::time_point t0) { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); }

}  // namespace

void JobService::execute(const std::string& id, std::shared_ptr<core::CancelToken> cancel) {
  if (slurm_) {
    execute_on_slurm(id, *cancel);
    return;
  }
  json job;
  {
    std::lock_guard lock(mutex_);
    job = store_.record("job", id).value();
    job["status"] = "running";
    job["started"] = core::utc_now_ms();
    log_job(job, "info", "running");
    save_job(store_, job);
  }
  const auto t0 = std::chrono::steady_clock::now();
  JobOutcome o = run_graph_here(store_, catalog_dir_, job_dir(id), job, mutex_, std::max(1, threads_ / std::max(1, limits_.job_slots)), cancel.get());
  std::lock_guard lock(mutex_);
  if (o.status == "canceled" && stopping_) {
    o = {"queued", "the node stopped cleanly while the job ran: queued again for its next start", ""};
  }
  finish_job(store_, job, o, seconds_since(t0));
}

// Slurm: the job submitted as a batch script running `sco job run ID` (which runs the graph, publishes
// and writes the final state), followed until Slurm says it ended. Cancelled here: scancel, and the
// job's own process stops cleanly. A job that Slurm ended without its process writing the final state
// (killed, out of memory, a lost node) is marked failed with Slurm's state. A clean stop of the node
// leaves submitted jobs running on the cluster: followed again at the next start.
void JobService::execute_on_slurm(const std::string& id, const core::CancelToken& cancel) {
  json job;
  std::string slurm_id;
  {
    std::lock_guard lock(mutex_);
    job = store_.record("job", id).value();
    slurm_id = job.value("slurm_job", "");
  }
  const fs::path dir = job_dir(id);
  if (slurm_id.empty()) {
    try {
      fs::create_directories(dir);
      const std::string script_path = (dir / "slurm.sh").string();
      std::ofstream(script_path) << slurm_->script(id, catalog_uri_, catalog_dir_, (dir / "slurm.log").string());
      slurm_id = slurm_->submit(script_path);
    } catch (const std::exception& e) {
      std::lock_guard lock(mutex_);
      finish_job(store_, job, {"error", e.what(), "Internal"}, 0.0);
      return;
    }
    std::lock_guard lock(mutex_);
    job["status"] = "queued";
    job["slurm_job"] = slurm_id;
    log_job(job, "info", fmt::format("submitted to Slurm as job {}", slurm_id));
    save_job(store_, job);
  }
  SlurmState st;
  bool cancelled = false;
  for (;;) {
    try {
      st = slurm_->state(slurm_id);
    } catch (const core::Error&) {
      st = {"UNREACHABLE", ""};  // Slurm busy or restarting: asked again
    }
    if (st.state != "UNREACHABLE" && st.ended()) break;
    if (cancel.requested() && !cancelled) {
      std::lock_guard lock(mutex_);
      if (stopping_) return;  // the node stops; the job goes on and is followed at the next start
      cancelled = true;
      try {
        slurm_->cancel(slurm_id);
      } catch (const core::Error& e) {
        log_job(job, "warning", e.what());
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  std::lock_guard lock(mutex_);
  job = store_.record("job", id).value_or(job);
  const std::string status = job.value("status", "");
  if (status == "finished" || status == "error" || status == "canceled") return;  // its process wrote the final state
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (cancelled || st.state == "CANCELLED") {
    finish_job(store_, job, {"canceled", fmt::format("canceled (Slurm job {} {})", slurm_id, st.state), ""}, 0.0);
  } else {
    finish_job(store_, job, {"error", fmt::format("Slurm job {} ended {} ({}) before the job finished", slurm_id, st.state, st.reason), "Internal"}, 0.0);
  }
}

void run_batch_job(catalog::CatalogStore& store, const std::string& catalog_dir, const std::string& id, int threads, const core::CancelToken* cancel) {
  auto rec = store.record("job", id);
  if (!rec) core::fail(core::ErrorCode::kNotFound, "no openEO job '{}' in the catalog", id);
  json job = *rec;
  const std::string status = job.value("status", "");
  if (status != "queued" && status != "running") core::fail(core::ErrorCode::kInvalidInput, "job '{}' is {}: only a started job runs", id, status);
  job["status"] = "running";
  job["started"] = core::utc_now_ms();
  log_job(job, "info", "running");
  save_job(store, job);
  const auto t0 = std::chrono::steady_clock::now();
  std::mutex guard;
  const JobOutcome o = run_graph_here(store, catalog_dir, fs::path(catalog_dir) / "openeo" / "jobs" / id, job, guard, threads, cancel);
  finish_job(store, job, o, seconds_since(t0));
  if (o.status == "error") core::fail(core::ErrorCode::kInvalidInput, "job '{}' failed: {}", id, o.message);
  core::throw_if_cancelled(cancel);
}

}  // namespace sco::server
