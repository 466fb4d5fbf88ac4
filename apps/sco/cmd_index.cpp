// sco index NAME (--input FILE --sensor S | --band ROLE=FILE:BAND ...) -o OUT.tif: spectral indices.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "algebra/spectral_index.hpp"
#include "cli_common.hpp"
#include "io/raster_dataset.hpp"
#include "raster_job.hpp"

namespace sco::app {

using core::ErrorCode;

namespace {

std::string index_ids() {
  std::string s;
  for (const auto& i : algebra::spectral_indices()) s += (s.empty() ? "" : ", ") + std::string(i.id);
  return s;
}

std::string sensor_ids() {
  std::string s;
  for (const auto& x : algebra::sensors()) s += (s.empty() ? "" : ", ") + std::string(x.id);
  return s;
}

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
  s += "Sensors (--sensor): " + sensor_ids() + " (aliases: landsat5, landsat9, s2, ...)\n";
  s += "Band roles (--band ROLE=FILE:BAND): blue, green, red, nir, swir1, swir2\n";
  s += "Example: sco index ndvi --input L7_ETMs.tif --sensor landsat7 -o ndvi.tif\n";
  s += "Formulas and references: sco index --list (or docs/indices.md)";
  return s;
}

}  // namespace

ExpressionJob build_index_job(const IndexRequest& req, std::vector<std::string>& warnings) {
  const algebra::SpectralIndex* index = algebra::find_index(req.index);
  if (!index) core::fail(ErrorCode::kInvalidInput, "unknown index '{}' (indices: {})", req.index, index_ids());

  std::vector<std::pair<algebra::BandRole, io::BandRef>> roles;
  if (!req.sensor.empty()) {
    const algebra::Sensor* sensor = algebra::find_sensor(req.sensor);
    if (!sensor) core::fail(ErrorCode::kInvalidInput, "unknown sensor '{}' (sensors: {})", req.sensor, sensor_ids());
    if (req.input.empty()) core::fail(ErrorCode::kInvalidInput, "--sensor needs --input FILE (a multi-band file)");
    const io::RasterDataset ds = io::RasterDataset::open(req.input);
    const algebra::SensorLayout* layout = algebra::find_layout(*sensor, ds.band_count());
    if (!layout) {
      std::string counts;
      for (const auto& l : sensor->layouts) counts += (counts.empty() ? "" : ", ") + std::to_string(l.band_count);
      core::fail(ErrorCode::kInvalidInput,
                 "'{}' has {} bands; no {} band layout with {} bands is known ({} bands are); give the bands with "
                 "--band ROLE=FILE:BAND",
                 req.input, ds.band_count(), sensor->id, ds.band_count(), counts);
    }
    for (const auto& [role, band] : layout->bands) roles.emplace_back(role, io::BandRef{req.input, band, true});
  } else if (!req.input.empty() && req.bands.empty()) {
    core::fail(ErrorCode::kInvalidInput, "--input needs --sensor ({}) to know which band is which, or use --band",
               sensor_ids());
  }
  for (const auto& text : req.bands) {
    auto [role_name, ref_text] = split_assignment(text, "--band");
    const auto role = algebra::parse_role(role_name);
    if (!role) {
      core::fail(ErrorCode::kInvalidInput, "--band '{}': unknown band role '{}' (roles: blue, green, red, nir, swir1, swir2)",
                 text, role_name);
    }
    io::BandRef ref = io::parse_band_ref(ref_text);
    bool replaced = false;
    for (auto& [r, existing] : roles) {
      if (r == *role) {
        existing = ref;
        replaced = true;
      }
    }
    if (!replaced) roles.emplace_back(*role, ref);
  }

  ExpressionJob job;
  for (algebra::BandRole needed : index->roles) {
    const io::BandRef* found = nullptr;
    for (const auto& [r, ref] : roles) {
      if (r == needed) found = &ref;
    }
    if (!found) {
      core::fail(ErrorCode::kInvalidInput, "{} needs the {} band: give --sensor with --input, or --band {}=FILE:BAND",
                 index->id, algebra::role_name(needed), algebra::role_name(needed));
    }
    io::PipelineInput in;
    in.path = found->path;
    in.band = found->band;
    in.scale = req.scale;
    in.offset = req.offset;
    job.inputs.emplace_back(algebra::role_name(needed), in);
  }

  std::vector<std::pair<std::string, double>> overrides;
  for (const auto& text : req.params) {
    auto [name, value] = split_assignment(text, "--param");
    overrides.emplace_back(name, parse_number(value, "--param " + name));
  }
  job.expression = algebra::index_expression(*index, overrides);

  if (index->needs_reflectance && req.scale == 1.0 && req.offset == 0.0) {
    for (const auto& [name, in] : job.inputs) {
      const io::RasterDataset ds = io::RasterDataset::open(in.path);
      const io::BandInfo b = ds.band(in.band);
      if (core::is_integer(b.type) && b.scale == 1.0 && b.offset == 0.0) {
        warnings.push_back(fmt::format(
            "{} assumes surface reflectance in 0..1, but '{}' band {} holds integer values with no scale; pass "
            "--scale (and --offset), e.g. --scale 0.0001 for Sentinel-2 L2A",
            index->id, in.path, in.band));
        break;
      }
    }
  }
  job.extra_metadata.emplace_back("SCO_INDEX", index->id);
  return job;
}

void register_index(CLI::App& app, GlobalOptions& global) {
  struct Args {
    IndexRequest req;
    OutputOptions out;
    bool list = false;
    bool markdown = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("index", "Spectral indices (NDVI, EVI, SAVI, NDWI, MNDWI, NDBI, NBR, NDMI)");
  cmd->add_option("NAME", args->req.index, "Index id: " + index_ids());
  cmd->add_option("--input", args->req.input, "Multi-band file whose band layout --sensor gives");
  cmd->add_option("--sensor", args->req.sensor, "Sensor of --input: " + sensor_ids());
  cmd->add_option("--band", args->req.bands, "ROLE=FILE[:BAND]: a band by role, alone or overriding the sensor layout");
  cmd->add_option("--param", args->req.params, "NAME=VALUE: override a formula parameter, e.g. L=0.25 for SAVI");
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
    if (args->req.index.empty()) core::fail(ErrorCode::kInvalidInput, "sco index needs an index NAME ({})", index_ids());
    if (args->out.path.empty()) core::fail(ErrorCode::kInvalidInput, "sco index needs -o OUT.tif");
    std::vector<std::string> warnings;
    ExpressionJob job = build_index_job(args->req, warnings);
    job.output = args->out.to_spec();
    job.output.band_description = args->req.index;
    if (!global.quiet) {
      for (const auto& w : warnings) std::fprintf(stderr, "sco: warning: %s\n", w.c_str());
    }
    const auto result = run_expression_job(job, global);
    if (global.json) {
      auto j = job_json(job, result);
      j["index"] = args->req.index;
      std::printf("%s\n", j.dump(2).c_str());
    } else if (!global.quiet) {
      std::fputs(job_text(job, result).c_str(), stdout);
    }
  });
}

}  // namespace sco::app
