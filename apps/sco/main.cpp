// sco: one binary, one subcommand per task. Errors end as one line on standard error and an exit
// code that tells scripts what kind of failure it was (see cli_common.hpp).
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "cli_common.hpp"
#include "core/cancel.hpp"
#include "core/error.hpp"
#include "core/version.hpp"

int main(int argc, char** argv) {
  using namespace sco;
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
    std::fprintf(stderr, "sco: error: %s\n", e.what());
    return app::exit_code_for(e.code());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sco: internal error: %s\n", e.what());
    return 70;
  }
  return 0;
}
