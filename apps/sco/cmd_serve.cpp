// sco serve [--host H] [--port P]: the node's web APIs over its catalog (--catalog DIR).
#include <cstdio>

#include "cli_common.hpp"
#include "server/http_server.hpp"

namespace sco::app {

void register_serve(CLI::App& app, GlobalOptions& global) {
  auto opts = std::make_shared<server::ServerOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve the catalog: STAC API, OGC API Features (district tables), OpenAPI document, health check");
  cmd->add_option("--host", opts->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", opts->port, "Port (0: any free port, printed)")->capture_default_str();
  cmd->add_option("--max-body", opts->max_body_bytes, "Largest request body in bytes (larger: 413)")->capture_default_str();
  auto cache_mb = std::make_shared<std::size_t>(256);
  cmd->add_option("--tile-cache-mb", *cache_mb, "Memory for rendered tiles, MiB")->capture_default_str();
  auto raster_mb = std::make_shared<std::size_t>(512);
  cmd->add_option("--raster-cache-mb", *raster_mb,
                  "Memory for decoded raster blocks that tiles are cut from, MiB: three quarters for blocks shared by\n"
                  "all rendering threads, a quarter for GDAL's own block cache (cubic, average, mode); the server's\n"
                  "memory stays within about this plus --tile-cache-mb plus some 100 MiB")
      ->capture_default_str();
  opts->web_dir = SCO_WEB_DIR;
  cmd->add_option("--web", opts->web_dir, "Folder of the built web map served at /")->capture_default_str();
  cmd->add_option("--openeo-sync-max-cells", opts->openeo.sync_max_cells,
                  "openEO: the most cells (pixels x dates x bands) a synchronous /result may load; larger ones go to batch jobs "
                  "(0: a quarter of RAM in float32 cells)");
  auto sync_mb = std::make_shared<std::uint64_t>(0);
  cmd->add_option("--openeo-sync-max-memory-mb", *sync_mb, "openEO: the largest planned peak memory of a synchronous /result, MiB (0: an eighth of RAM)");
  cmd->add_option("--openeo-sync-max-seconds", opts->openeo.sync_max_seconds, "openEO: the longest planned time of a synchronous /result")
      ->capture_default_str();
  cmd->add_option("--openeo-jobs", opts->openeo.job_slots, "openEO: batch jobs running at once (0: half the cores)");
  auto job_mb = std::make_shared<std::uint64_t>(0);
  cmd->add_option("--openeo-job-memory-mb", *job_mb, "openEO: the planned peak memories of running batch jobs add up to at most this, MiB (0: half of RAM)");
  cmd->add_option("--openeo-jobs-per-user", opts->openeo.jobs_per_user, "openEO: queued or running jobs one user may hold (more: 429)")
      ->capture_default_str();
  auto executor = std::make_shared<std::string>("in-process");
  cmd->add_option("--executor", *executor,
                  "openEO batch jobs run in this process (in-process) or on a Slurm cluster (slurm: sbatch a script running\n"
                  "`sco job run ID`, followed with scontrol, cancelled with scancel; docs/scale.md)")
      ->check(CLI::IsMember({"in-process", "slurm"}))
      ->capture_default_str();
  auto slurm = std::make_shared<server::SlurmOptions>();
  cmd->add_option("--slurm-partition", slurm->partition, "--executor slurm: the partition (default: the cluster's)");
  cmd->add_option("--slurm-cpus", slurm->cpus, "--executor slurm: cores per job (--cpus-per-task; sco's --threads there)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--slurm-option", slurm->sbatch, "--executor slurm: an #SBATCH option, e.g. --time=02:00:00 (repeatable)");
  cmd->add_option("--slurm-sco", slurm->sco, "--executor slurm: the sco binary on the cluster's nodes (default: this one)");
  cmd->add_option("--rate-limit", opts->rate_limit, "Requests per second per token or address (429 beyond; 0: none)")->capture_default_str();
  cmd->add_option("--intel-burst", opts->intel.burst_min,
                  "Security events: refusals from one address, each within a minute of the last, that make a STIX sighting")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--intel-indicator", opts->intel.indicator_min,
                  "Security events: refusals in one burst that make a STIX indicator of the address (shared over TAXII)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--tls-cert", opts->tls_cert, "PEM certificate (chain) for HTTPS; with --tls-key");
  cmd->add_option("--tls-key", opts->tls_key, "PEM private key of --tls-cert");
  cmd->add_flag("--trust-proxy", opts->trust_proxy,
                "Behind a reverse proxy: take links' scheme and host from X-Forwarded-Proto / -Host and the client's\n"
                "address (rate limits, audit) from X-Forwarded-For. Only when the proxy is the sole way in.");
  cmd->add_option("--timeout", opts->timeout_seconds, "Timeout of each read and write on a connection, in seconds")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--request-timeout", opts->request_timeout_seconds,
                  "Seconds to receive a whole request (line, headers, body) from its first byte; slower clients are cut off")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--max-connections-per-address", opts->max_connections_per_address,
                  "Connections one client address may hold at once (more: 503); 0: three quarters of the connection pool (192 on 2 cores). Off with "
                  "--trust-proxy (the proxy limits its clients)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  cmd->footer("Routes: /healthz, /api (OpenAPI 3), /stac (STAC API 1.0: landing page, conformance, collections, items,\n"
              "search by GET and POST), /features (OGC API - Features: the district tables of sco run),\n"
              "/tiles/{collection}/{item}/{asset}/{z}/{x}/{y}.png with bidx, expression, rescale, colormap, resampling,\n"
              "and .../tilejson.json, /assets/{collection}/{item}/{asset} (range requests), /outputs (run reports and downloads).\n"
              "HTTPS with --tls-cert and --tls-key, or behind a reverse proxy with --trust-proxy (docs/federation.md).\n"
              "Several replicas of one node behind nginx share its catalog, tokens, users, audit log, rate limits and\n"
              "jobs when the catalog is in PostgreSQL (docs/scale.md, docs/nginx-replicas.conf). Tokens:\n"
              "Authorization: Bearer TOKEN (sco token create). Stops cleanly on SIGTERM or Ctrl-C. Access log on standard\n"
              "error unless --quiet.");
  cmd->callback([opts, cache_mb, raster_mb, sync_mb, job_mb, executor, slurm, &global] {
    if (*executor == "slurm") opts->slurm = *slurm;
    opts->catalog_dir = global.catalog_dir();
    opts->tile_cache_bytes = *cache_mb << 20;
    opts->raster_cache_bytes = *raster_mb << 20;
    opts->openeo.sync_max_memory = *sync_mb << 20;
    opts->openeo.job_memory = *job_mb << 20;
    opts->threads = global.threads;
    opts->access_log = !global.quiet;
    server::serve(*opts, [&](int port) {
      if (!global.quiet) std::printf("sco serve: %s://%s:%d/ (catalog %s)\n", opts->tls_cert.empty() ? "http" : "https", opts->host.c_str(), port, opts->catalog_dir.c_str());
      std::fflush(stdout);
    });
  });
}

}  // namespace sco::app
