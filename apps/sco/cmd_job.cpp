// sco job run ID: one started openEO batch job of the node run to its end in this process. What a
// Slurm job submitted by `sco serve --executor slurm` executes on a cluster node; it opens the node's
// catalog (--catalog: the node's folder on a shared file system, or its PostgreSQL URI), runs the
// job's process graph, publishes its results and writes the job's final state, as the server would.
#include <cstdio>
#include <memory>
#include <string>

#include "catalog/store.hpp"
#include "cli_common.hpp"
#include "server/openeo_jobs.hpp"

namespace sco::app {

void register_job(CLI::App& app, GlobalOptions& global) {
  CLI::App* job = app.add_subcommand("job", "openEO batch jobs of the node, run where they are sent (a Slurm cluster)");
  job->require_subcommand(1);
  auto id = std::make_shared<std::string>();
  CLI::App* run = job->add_subcommand("run", "Run one started batch job (what `sco serve --executor slurm` submits to Slurm)");
  run->add_option("ID", *id, "The job's id (openEO's /jobs/{id})")->required();
  run->footer("The job must be queued or running (started through the openEO API). Its record follows its progress; on\n"
              "SIGTERM (scancel) it stops and removes its files. Exit codes: 0 finished, 2 the job failed (its record says\n"
              "why), 3 no such job, 130 cancelled.");
  run->callback([id, &global] {
    const std::string node = global.catalog_dir();
    const auto store = catalog::open_node_store(node);
    server::run_batch_job(*store, node, *id, global.effective_threads(), nullptr);
    if (!global.quiet) std::printf("job %s finished\n", id->c_str());
  });
}

}  // namespace sco::app
