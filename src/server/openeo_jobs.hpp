#pragma once
// openEO batch jobs (/jobs): created from a process graph, started (POST .../results), queued, run
// by sco's engine in the server's process, cancelled (DELETE .../results), deleted. Jobs are records
// of the catalog (kind "job"), so they outlive the server: at start-up queued jobs are queued again,
// and a job that was running when the node stopped unexpectedly is marked failed with that reason
// (a clean stop puts its running jobs back in the queue). The queue: `job_slots` jobs at once, their
// planned peak memories adding up to at most `job_memory`, the next job taken from the user who
// started one least recently (fair between users), each user holding at most `jobs_per_user`
// queued or running jobs (more: 429). Results are registered in the catalog (publish_job), signed,
// in the owner's collection "openeo-NAME" seen only by its owner and admins; a cancelled or failed
// job leaves no file behind.
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/store.hpp"
#include "core/cancel.hpp"
#include "server/openeo_graph.hpp"
#include "server/openeo_limits.hpp"
#include "server/slurm.hpp"
#include "server/stac_api.hpp"

namespace sco::server {

class JobService {
 public:
  // With `slurm`, jobs run on a Slurm cluster (server/slurm.hpp) instead of in this process; the
  // slots then bound the jobs submitted at once.
  JobService(catalog::CatalogStore& store, std::string catalog_dir, const OpenEoLimits& limits, int threads,
             const std::optional<SlurmOptions>& slurm = std::nullopt);
  ~JobService();  // running jobs are cancelled and queued again for the next start
  JobService(const JobService&) = delete;
  JobService& operator=(const JobService&) = delete;

  // The routes under /jobs; `rest` is the path after /jobs ("", "/ID", "/ID/results", "/ID/logs").
  ApiResponse handle(const ApiRequest& req, const std::string& rest);

 private:
  struct Queued {
    std::string id, owner;
    std::uint64_t memory = 0;  // its planned peak
  };
  struct Running {
    std::shared_ptr<core::CancelToken> cancel;
    std::uint64_t memory = 0;
    std::string owner;
  };

  std::optional<ApiResponse> plan(const nlohmann::json& graph, const Caller& caller, const std::string& owner, GraphEstimate& estimate) const;
  ApiResponse create(const ApiRequest& req);
  ApiResponse list(const ApiRequest& req);
  ApiResponse describe(const ApiRequest& req, const nlohmann::json& job) const;
  ApiResponse update(const ApiRequest& req, nlohmann::json job);
  ApiResponse remove(nlohmann::json job);
  ApiResponse start(const ApiRequest& req, nlohmann::json job);
  ApiResponse results(const ApiRequest& req, const nlohmann::json& job) const;
  ApiResponse result_file(const nlohmann::json& job, const std::string& key) const;
  ApiResponse cancel(nlohmann::json job);
  ApiResponse logs(const ApiRequest& req, const nlohmann::json& job) const;

  static Queued queued_entry(const nlohmann::json& job);
  // A job left by a server that stopped (killed: running -> failed; cleanly: queued -> queued here).
  void adopt(nlohmann::json job);
  // A queued or running job of this server stopped; false when it is not this server's. With `wait`,
  // returns once the job's worker has cleaned up.
  bool cancel_here(const std::string& id, std::unique_lock<std::mutex>& lock, bool wait);
  // A job of another live server: asked through the catalog, answered when that server stopped it.
  ApiResponse cancel_elsewhere(const nlohmann::json& job);

  // Replicas (server/job_replicas.cpp): servers on one catalog share its jobs. Each server is a record
  // of kind "server" beating every second; a job names the server that queued it; a cancellation
  // asked of another server is a record of kind "job_cancel" acted on within a second by the job's
  // server; the jobs of a server whose beat stopped (or whose process is gone, on this host) are
  // adopted by the live server with the smallest id.
  void beat();
  std::set<std::string> live_servers() const;
  void take_cancellations();
  void adopt_orphans();
  void watch();
  void worker();
  // The next job to run (fairness, memory), or empty; called with mutex_ held.
  std::string pick();
  void execute(const std::string& id, std::shared_ptr<core::CancelToken> cancel);
  void execute_on_slurm(const std::string& id, const core::CancelToken& cancel);
  std::string job_dir(const std::string& id) const;

  catalog::CatalogStore& store_;
  std::string catalog_dir_;
  OpenEoLimits limits_;
  int threads_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Queued> queue_;                            // in the order they were started
  std::map<std::string, Running> running_;               // job id -> its run
  std::map<std::string, std::uint64_t> last_start_;      // owner -> sequence number of their last start
  std::uint64_t starts_ = 0;
  std::uint64_t memory_in_use_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  std::unique_ptr<SlurmClient> slurm_;
  std::string catalog_uri_;  // what the cluster's `sco job run` opens: the PostgreSQL URI, or the node folder
  const std::string server_id_;  // this server among the replicas
  std::set<std::string> seen_servers_;  // the live servers at the last look for orphans (the watcher's)
  bool looked_ = false;
  std::condition_variable watch_wake_;
  std::thread watcher_;
};

// One started job run to its end in this process (`sco job run ID`, what a Slurm job executes): the
// record marked running, the graph run, the results published, the final state written. Throws when
// the job failed (its record says why) or was cancelled.
void run_batch_job(catalog::CatalogStore& store, const std::string& catalog_dir, const std::string& id, int threads, const core::CancelToken* cancel);

}  // namespace sco::server
