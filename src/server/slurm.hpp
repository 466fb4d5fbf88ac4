#pragma once
// Slurm as the node's executor of openEO batch jobs (`sco serve --executor slurm`): each job becomes
// a batch script submitted with `sbatch` (one task of `cpus` cores running `sco job run ID` against
// the node's catalog with as many threads), followed through `scontrol show job` until it ends, cancelled
// with `scancel`. Slurm's commands are run as they are installed (SLURM_CONF and the rest of the
// environment passed on); the node and the cluster share the catalog (a folder on a shared file
// system, or PostgreSQL) and the node folder.
#include <string>
#include <vector>

namespace sco::server {

struct SlurmOptions {
  std::string partition;              // empty: the cluster's default
  int cpus = 1;                       // cores of the job's one task (--cpus-per-task), sco's threads
  std::vector<std::string> sbatch;    // extra `#SBATCH` options, e.g. --time=02:00:00, --mem=8G
  std::string sco;                    // the sco binary the cluster runs (default: this one)
};

// One submitted job's state as Slurm names it (PENDING, RUNNING, COMPLETED, FAILED, CANCELLED,
// TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, ...), or "UNKNOWN" once Slurm has forgotten it.
struct SlurmState {
  std::string state;
  std::string reason;
  bool ended() const;
};

class SlurmClient {
 public:
  explicit SlurmClient(SlurmOptions options);
  // The batch script of one job: its id, the node's catalog and folder, where Slurm writes its log.
  std::string script(const std::string& job_id, const std::string& catalog, const std::string& node_dir, const std::string& log_path) const;
  // sbatch: the Slurm job id; an Error naming sbatch's message when Slurm refuses.
  std::string submit(const std::string& script_path) const;
  SlurmState state(const std::string& slurm_id) const;
  void cancel(const std::string& slurm_id) const;
  // Slurm answers (sinfo): empty when it does, else why not.
  std::string check() const;

 private:
  SlurmOptions options_;
};

}  // namespace sco::server
