// sco: one binary, one subcommand per task. Errors end as one line on standard error and an exit
// code that tells scripts what kind of failure it was (see cli_common.hpp).
#include <malloc.h>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <set>
#include <string>

#include <CLI/CLI.hpp>

#include "catalog/pg_node_state.hpp"
#include "cli_common.hpp"
#include "core/cancel.hpp"
#include "core/error.hpp"
#include "core/ranks.hpp"
#include "core/version.hpp"
#include "dist/mpi_ranks.hpp"

namespace {

// The subcommand named on the command line (the first word that is not a global option or its value).
std::string command_word(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--catalog" || a == "--threads") {
      ++i;
    } else if (a.empty() || a[0] != '-') {
      return a;
    }
  }
  return "";
}

// Under mpirun: MPI started; ranks other than 0 print nothing on standard output (rank 0 speaks for
// the run).
std::unique_ptr<sco::dist::MpiSession> start_ranks(int* argc, char*** argv) {
  if (!sco::dist::launched_by_mpi()) return nullptr;
  auto session = std::make_unique<sco::dist::MpiSession>(argc, argv);
  if (session->ranks().rank() != 0 && !std::freopen("/dev/null", "w", stdout)) {
    sco::core::fail(sco::core::ErrorCode::kIo, "cannot silence rank {}'s standard output", session->ranks().rank());
  }
  return session;
}

// The commands that split their work across ranks; the others refuse to run under mpirun -np N.
bool splits_across_ranks(const std::string& command) {
  static const std::set<std::string> kSplit = {"calc", "index", "cube", "zonal", "run"};
  return command.empty() || kSplit.count(command) > 0;
}

// Ends the process's part in a failed run: the other ranks are told, and a rank other than 0 stays
// silent about a peer's failure (rank 0 reports it).
bool report_here(const char* message) {
  sco::core::RankLink* ranks = sco::core::process_ranks();
  if (!ranks) return true;
  if (!ranks->peer_failed()) ranks->announce_failure(message);
  return ranks->rank() == 0 || !ranks->peer_failed();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sco;
  // Window buffers (a megabyte or more each, allocated and freed per window) stay in the heap rather
  // than being mapped and unmapped each time: glibc's default maps blocks past 128 KiB (raised as
  // they are freed) and gives back the heap's top past twice that, and each new mapping is faulted in
  // and zeroed again page by page (a tenth of a 36-date temporal mean's time went there).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
  std::unique_ptr<dist::MpiSession> mpi;
  try {
    mpi = start_ranks(&argc, &argv);
  } catch (const core::Error& e) {
    std::fprintf(stderr, "sco: error: %s\n", e.what());
    return app::exit_code_for(e.code());
  }
  if (mpi && mpi->ranks().size() > 1 && !splits_across_ranks(command_word(argc, argv))) {
    if (mpi->ranks().rank() == 0) {
      std::fprintf(stderr, "sco: error: 'sco %s' does not split across MPI ranks (calc, index, cube, zonal and run do); start it without mpirun\n",
                   command_word(argc, argv).c_str());
    }
    return 2;
  }
  // A node whose catalog is in PostgreSQL keeps its tokens, users, audit log and rate limits there too.
  security::set_node_state_resolver(catalog::node_state_in_catalog());
  CLI::App app{
      "sco - Space Climate Observatory engine: Earth-observation rasters, climate grids and local data into\n"
      "climate-impact indicators for the territories that must adapt."};
  app.name("sco");
  app.set_version_flag("--version", std::string("sco ") + core::kVersion);
  app.require_subcommand(1);
  app.fallthrough();
  app.footer("Run 'sco COMMAND --help' for a command's options.\n"
             "Exit codes: 0 success, 2 invalid input, 3 not found, 4 I/O error, 70 internal error, 130 interrupted.");

  app::GlobalOptions global;
  global.quiet = !core::is_root_rank();
  app.add_option("--catalog", global.catalog, "Catalog folder (default: $SCO_HOME, else ./sco-data)");
  app.add_option("--threads", global.threads, "Worker threads (default: all cores)")->check(CLI::PositiveNumber);
  app.add_flag("-q,--quiet", global.quiet, "No progress bar, warnings or summaries");
  app.add_flag("--json", global.json, "Print results as JSON on standard output");

  app::register_info(app, global);
  app::register_calc(app, global);
  app::register_index(app, global);
  app::register_zonal(app, global);
  app::register_cube(app, global);
  app::register_indicators(app, global);
  app::register_run(app, global);
  app::register_ingest(app, global);
  app::register_serve(app, global);
  app::register_trust(app, global);
  app::register_sync(app, global);
  app::register_intel(app, global);
  app::register_catalog(app, global);
  app::register_job(app, global);
  app::register_user(app, global);
  app::register_demo(app, global);

  core::install_interrupt_handler();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::fprintf(stderr, "sco: error: %s (see 'sco --help')\n", e.what());
    return 2;
  } catch (const core::Error& e) {
    if (report_here(e.what())) std::fprintf(stderr, "sco: error: %s\n", e.what());
    return app::exit_code_for(e.code());
  } catch (const std::exception& e) {
    if (report_here(e.what())) std::fprintf(stderr, "sco: internal error: %s\n", e.what());
    return 70;
  }
  return 0;
}
