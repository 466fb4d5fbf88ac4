// sco index NAME (--input FILE --sensor S | --band ROLE=FILE:BAND ...) -o OUT.tif: spectral indices.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "algebra/spectral_index.hpp"
#include "cli_common.hpp"
#include "io/raster_dataset.hpp"
#include "io/raster_dataset.hpp"
#include "run/expression_job.hpp"

namespace sco::app {

using core::ErrorCode;

namespace {

nlohmann::json indices_json() {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& i : algebra::spectral_indices()) {
    nlohmann::json roles = nlohmann::json::array();
    for (auto r : i.roles) roles.push_back(algebra::role_name(r));
    nlohmann::json params = nlohmann::json::array();
    for (const auto& p : i.parameters) params.push_back({{"name", p.name}, {"default", p.default_value}, {"meaning", p.meaning}});
    arr.push_back({{"id", i.id}, {"title", i.title}, {"formula", i.formula}, {"bands", roles}, {"parameters", params},
                   {"range", i.range}, {"reference", i.reference}, {"needs_reflectance", i.needs_reflectance}});
  }
  return arr;
}

std::string index_help() {
  std::string s = "Indices:\n";
  for (const auto& i : algebra::spectral_indices()) {
    s += fmt::format("  {:<6} {} = {}\n", i.id, i.title, i.formula);
  }
  s += "Sensors (--sensor): " + run::sensor_ids() + " (aliases: landsat5, landsat9, s2, ...)\n";
  s += "Band roles (--band ROLE=FILE:BAND): blue, green, red, nir, swir1, swir2\n";
  s += "Example: sco index ndvi --input L7_ETMs.tif --sensor landsat7 -o ndvi.tif\n";
  s += "Formulas and references: sco index --list (or docs/indices.md)";
  return s;
}

}  // namespace

void register_index(CLI::App& app, GlobalOptions& global) {
  struct Args {
    run::IndexRequest req;
    std::vector<std::string> bands, params;
    OutputOptions out;
    bool list = false;
    bool markdown = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("index", "Spectral indices (NDVI, EVI, SAVI, NDWI, MNDWI, NDBI, NBR, NDMI)");
  cmd->add_option("NAME", args->req.index, "Index id: " + run::index_ids());
  cmd->add_option("--input", args->req.input, "Multi-band file whose band layout --sensor gives");
  cmd->add_option("--sensor", args->req.sensor, "Sensor of --input: " + run::sensor_ids());
  cmd->add_option("--band", args->bands, "ROLE=FILE[:BAND]: a band by role, alone or overriding the sensor layout");
  cmd->add_option("--param", args->params, "NAME=VALUE: override a formula parameter, e.g. L=0.25 for SAVI");
  cmd->add_option("--scale", args->req.scale, "Multiply every band by this before the formula (DN to reflectance)");
  cmd->add_option("--offset", args->req.offset, "Add this to every band after --scale");
  cmd->add_flag("--list", args->list, "List the indices with formulas and references (with --json: as JSON)");
  cmd->add_flag("--markdown", args->markdown, "With --list: the documentation page (docs/indices.md)");
  OutputOptions& out = args->out;
  cmd->add_option("-o,--output", out.path, "Output GeoTIFF (.tif)");
  cmd->add_option("--type", out.type, "Output data type (default float32)");
  cmd->add_option("--nodata", out.nodata, "Output nodata value (default NaN for floats)");
  cmd->add_option("--format", out.format, "COG (default) or GTiff");
  cmd->add_option("--co", out.creation_options, "GDAL creation option KEY=VALUE (repeatable)");
  cmd->footer(index_help());
  cmd->callback([args, &global] {
    if (args->list) {
      if (args->markdown) {
        std::fputs(algebra::indices_markdown().c_str(), stdout);
      } else if (global.json) {
        std::printf("%s\n", indices_json().dump(2).c_str());
      } else {
        for (const auto& i : algebra::spectral_indices()) {
          std::printf("%-6s %s\n       %s\n", i.id, i.title, i.formula);
        }
      }
      return;
    }
    if (args->req.index.empty()) core::fail(ErrorCode::kInvalidInput, "sco index needs an index NAME ({})", run::index_ids());
    if (args->out.path.empty()) core::fail(ErrorCode::kInvalidInput, "sco index needs -o OUT.tif");
    for (const auto& text : args->bands) {
      auto [role, ref] = split_assignment(text, "--band");
      args->req.bands.emplace_back(role, io::parse_band_ref(ref));
    }
    for (const auto& text : args->params) {
      auto [name, value] = split_assignment(text, "--param");
      args->req.params.emplace_back(name, parse_number(value, "--param " + name));
    }
    std::vector<std::string> warnings;
    run::ExpressionJob job = run::build_index_job(args->req, warnings);
    job.output = args->out.to_spec();
    job.output.band_description = args->req.index;
    if (!global.quiet) {
      for (const auto& w : warnings) std::fprintf(stderr, "sco: warning: %s\n", w.c_str());
    }
    const auto result = run::run_expression_job(job, exec_options(global));
    print_warnings(global, result.warnings);
    if (global.json) {
      auto j = run::job_json(job, result);
      j["index"] = args->req.index;
      std::printf("%s\n", j.dump(2).c_str());
    } else if (!global.quiet) {
      std::fputs(run::job_text(job, result).c_str(), stdout);
    }
  });
}

}  // namespace sco::app
