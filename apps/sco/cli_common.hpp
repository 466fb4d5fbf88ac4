#pragma once
// Options shared by every subcommand, the output options of raster-writing commands (declared once,
// so their help and validation are the same everywhere), and exit codes.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/data_type.hpp"
#include "core/error.hpp"
#include "io/raster_output.hpp"
#include "run/expression_job.hpp"

namespace sco::app {

struct GlobalOptions {
  std::string catalog;
  int threads = 0;  // 0: all cores
  bool quiet = false;
  bool json = false;

  int effective_threads() const;
  bool progress() const;
  std::string catalog_dir() const;  // --catalog, else $SCO_HOME, else ./sco-data
};

struct OutputOptions {
  std::string path;
  std::string type = "float32";
  std::string nodata;  // empty: the type's default
  std::string format;  // empty: COG
  std::vector<std::string> creation_options;

  // Validates and converts; errors name the option.
  io::OutputSpec to_spec() const;
};

void add_output_options(CLI::App* cmd, OutputOptions& out);

// The library's execution options from the global ones: threads, the terminal bar, Ctrl-C.
run::ExecOptions exec_options(const GlobalOptions& global);
// "sco: warning: ..." on standard error, unless --quiet.
void print_warnings(const GlobalOptions& global, const std::vector<std::string>& warnings);

// Exit codes: 0 success, 2 invalid input or usage, 3 not found, 4 I/O, 70 internal, 130 interrupted.
int exit_code_for(core::ErrorCode code);

// Registration of each subcommand (one file each).
void register_info(CLI::App& app, GlobalOptions& global);
void register_calc(CLI::App& app, GlobalOptions& global);
void register_index(CLI::App& app, GlobalOptions& global);
void register_zonal(CLI::App& app, GlobalOptions& global);
void register_cube(CLI::App& app, GlobalOptions& global);
void register_demo(CLI::App& app, GlobalOptions& global);
void register_indicators(CLI::App& app, GlobalOptions& global);
void register_run(CLI::App& app, GlobalOptions& global);
void register_ingest(CLI::App& app, GlobalOptions& global);
void register_serve(CLI::App& app, GlobalOptions& global);
void register_trust(CLI::App& app, GlobalOptions& global);
void register_sync(CLI::App& app, GlobalOptions& global);
void register_intel(CLI::App& app, GlobalOptions& global);
void register_catalog(CLI::App& app, GlobalOptions& global);
void register_job(CLI::App& app, GlobalOptions& global);
void register_user(CLI::App& app, GlobalOptions& global);

// Splits "KEY=VALUE"; the error names `what`.
std::pair<std::string, std::string> split_assignment(const std::string& text, const char* what);
double parse_number(const std::string& text, const std::string& what);

}  // namespace sco::app
