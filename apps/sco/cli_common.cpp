#include "cli_common.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "catalog/store.hpp"
#include "core/progress.hpp"

namespace sco::app {

using core::ErrorCode;

int GlobalOptions::effective_threads() const {
  if (threads > 0) return threads;
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

bool GlobalOptions::progress() const { return core::Progress::terminal_enabled(quiet); }

// The node's folder (keys, tokens, audit log). --catalog (or $SCO_HOME) is that folder, or a
// postgresql:// URI: the catalog is then in that database ($SCO_CATALOG_URI for the libraries) and
// the node's files in $SCO_NODE_DIR, else ./sco-data. A text that looks like a URI but is not a
// PostgreSQL one is refused rather than taken for a folder's name.
std::string GlobalOptions::catalog_dir() const {
  std::string where = catalog;
  if (where.empty()) {
    if (const char* home = std::getenv("SCO_HOME"); home && *home) where = home;
  }
  if (where.empty()) return "./sco-data";
  if (catalog::is_postgres_uri(where)) {
    ::setenv("SCO_CATALOG_URI", where.c_str(), 1);
    const char* node = std::getenv("SCO_NODE_DIR");
    return node && *node ? node : "./sco-data";
  }
  if (where.find("://") != std::string::npos || where.rfind("postgres:", 0) == 0 || where.rfind("postgresql:", 0) == 0) {
    core::fail(core::ErrorCode::kInvalidInput, "--catalog: '{}' is neither a folder nor a postgresql://USER@HOST:PORT/DB URI", where);
  }
  return where;
}

run::ExecOptions exec_options(const GlobalOptions& global) {
  run::ExecOptions o;
  o.threads = global.effective_threads();
  o.terminal_progress = global.progress();
  return o;
}

void print_warnings(const GlobalOptions& global, const std::vector<std::string>& warnings) {
  if (global.quiet) return;
  for (const auto& w : warnings) std::fprintf(stderr, "sco: warning: %s\n", w.c_str());
}

std::pair<std::string, std::string> split_assignment(const std::string& text, const char* what) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    core::fail(ErrorCode::kInvalidInput, "{} '{}' must be NAME=VALUE", what, text);
  }
  return {text.substr(0, eq), text.substr(eq + 1)};
}

double parse_number(const std::string& text, const std::string& what) {
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "nan") return std::nan("");
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) {
    core::fail(ErrorCode::kInvalidInput, "{}: '{}' is not a number", what, text);
  }
  return v;
}

io::OutputSpec OutputOptions::to_spec() const {
  io::OutputSpec spec;
  spec.path = path;
  auto t = core::parse_type(type);
  if (!t) {
    core::fail(ErrorCode::kInvalidInput,
               "--type: unknown data type '{}' (types: byte, uint16, int16, uint32, int32, float32, float64)", type);
  }
  spec.type = *t;
  if (nodata.empty()) {
    spec.nodata = core::default_nodata(spec.type);
  } else {
    spec.nodata = parse_number(nodata, "--nodata");
    if (core::is_integer(spec.type)) {
      if (std::isnan(spec.nodata) || spec.nodata != std::floor(spec.nodata) || spec.nodata < core::type_min(spec.type) ||
          spec.nodata > core::type_max(spec.type)) {
        core::fail(ErrorCode::kInvalidInput, "--nodata {} does not fit the output type {}", nodata, type);
      }
    }
  }
  spec.format = format.empty() ? io::OutputFormat::kCog : io::parse_output_format(format);
  for (const auto& co : creation_options) {
    split_assignment(co, "--co");
    spec.creation_options.push_back(co);
  }
  io::check_output_path(path);
  return spec;
}

void add_output_options(CLI::App* cmd, OutputOptions& out) {
  cmd->add_option("-o,--output", out.path, "Output GeoTIFF (.tif); written under a temporary name, renamed when complete")
      ->required();
  cmd->add_option("--type", out.type, "Output data type: byte, uint16, int16, uint32, int32, float32, float64 "
                                      "(float64 also evaluates in double precision)")
      ->capture_default_str();
  cmd->add_option("--nodata", out.nodata, "Output nodata value (default: NaN for floats, the type's max for unsigned, "
                                          "min for signed integers)");
  cmd->add_option("--format", out.format, "COG (default: DEFLATE, overviews) or GTiff (tiled, uncompressed unless "
                                          "--co COMPRESS=...)");
  cmd->add_option("--co", out.creation_options, "GDAL creation option KEY=VALUE (repeatable), overrides sco's defaults");
}

int exit_code_for(core::ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput: return 2;
    case ErrorCode::kNotFound: return 3;
    case ErrorCode::kIo: return 4;
    case ErrorCode::kUnavailable: return 4;
    case ErrorCode::kCancelled: return 130;
    case ErrorCode::kInternal: return 70;
  }
  return 70;
}

}  // namespace sco::app
