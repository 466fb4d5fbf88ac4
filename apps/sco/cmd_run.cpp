// sco indicators [--json]: the built-in indicators. sco run ID_OR_RECIPE.json --input NAME=PATH ...
// --aoi VECTOR --out DIR: runs one on an area of interest.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "indicators/builtin.hpp"
#include "recipe_runner.hpp"

namespace sco::app {

namespace {
nlohmann::json recipe_json(const indicators::Recipe& r) {
  nlohmann::json inputs = nlohmann::json::array(), params = nlohmann::json::array(), outputs = nlohmann::json::array();
  for (const auto& i : r.inputs) inputs.push_back({{"name", i.name}, {"kind", indicators::input_kind_name(i.kind)}, {"title", i.title}, {"units", i.units}});
  for (const auto& p : r.parameters) {
    params.push_back({{"name", p.name},
                      {"type", p.type == indicators::ParamType::kNumber ? "number" : p.type == indicators::ParamType::kString ? "string" : "boolean"},
                      {"default", p.default_value}, {"title", p.title}, {"units", p.units}});
  }
  const auto& steps = r.document.at("steps");
  for (const auto& s : steps) {
    if (!s.value("output", false)) continue;
    const std::string op = s.value("op", std::string());
    const bool table = op == "zonal.stats" || op == "zonal.trend" || op == "risk";
    outputs.push_back({{"id", s.value("id", std::string())}, {"kind", table ? "table" : "raster"}, {"title", s.value("title", std::string())},
                       {"units", s.value("units", std::string())}});
  }
  return {{"id", r.id}, {"version", r.version}, {"title", r.title}, {"category", r.category}, {"description", r.description},
          {"inputs", inputs}, {"parameters", params}, {"outputs", outputs}, {"references", r.references}, {"sha256", r.hash}};
}
}  // namespace

void register_indicators(CLI::App& app, GlobalOptions& global) {
  CLI::App* cmd = app.add_subcommand("indicators", "List the built-in indicators: inputs, parameters, units");
  cmd->footer("Run one with: sco run ID --input NAME=PATH ... --aoi DISTRICTS --out DIR (docs/indicators.md)");
  cmd->callback([&global] {
    if (global.json) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& r : indicators::builtin_recipes()) list.push_back(recipe_json(r));
      std::printf("%s\n", list.dump(2).c_str());
      return;
    }
    for (const auto& r : indicators::builtin_recipes()) {
      std::printf("%s  %s (v%s)\n", r.id.c_str(), r.title.c_str(), r.version.c_str());
      std::string in;
      for (const auto& i : r.inputs) {
        in += (in.empty() ? "" : ", ") + i.name + " (" + indicators::input_kind_name(i.kind) + (i.units.empty() ? "" : ", " + i.units) + ")";
      }
      std::printf("    inputs: %s\n", in.c_str());
      if (!r.parameters.empty()) {
        std::string ps;
        for (const auto& p : r.parameters) {
          ps += (ps.empty() ? "" : ", ") + p.name + "=" + (p.default_value.is_string() ? p.default_value.get<std::string>() : p.default_value.dump()) +
                (p.units.empty() ? "" : " " + p.units);
        }
        std::printf("    parameters: %s\n", ps.c_str());
      }
      std::string outs;
      const nlohmann::json described = recipe_json(r);
      for (const auto& o : described["outputs"]) {
        const std::string units = o["units"].get<std::string>();
        outs += (outs.empty() ? "" : ", ") + o["id"].get<std::string>() + (units.empty() ? "" : " [" + units + "]");
      }
      std::printf("    outputs: %s\n", outs.c_str());
    }
  });
}

void register_run(CLI::App& app, GlobalOptions& global) {
  auto args = std::make_shared<RunRequest>();
  CLI::App* cmd = app.add_subcommand("run", "Run an indicator (built-in id or RECIPE.json) over an area of interest");
  cmd->add_option("RECIPE", args->recipe, "Built-in indicator id (sco indicators) or a recipe file (docs/recipes.md)")->required();
  cmd->add_option("--input", args->inputs,
                  "NAME=PATH[:VARIABLE_OR_BAND][@YYYY-MM-DD]; repeat a cube's NAME for each file of a time series")
      ->required();
  cmd->add_option("--aoi", args->aoi, "The districts: a polygon layer in any OGR format and CRS")->required();
  cmd->add_option("--layer", args->layer, "Layer of --aoi (default: the first)");
  cmd->add_option("--id", args->id, "Field naming each district (default: the feature id)");
  cmd->add_option("--out", args->out, "Output folder; it appears only when the run is complete")->required();
  cmd->add_option("--param", args->params, "KEY=VALUE overriding a parameter of the recipe (repeatable)");
  cmd->add_option("--resampling", args->resampling, "How inputs on other grids are warped to the working grid: near, bilinear (default unless the recipe says), cubic, average, mode, ...");
  cmd->add_flag("--overwrite", args->overwrite, "Replace DIR when it exists (only once the new run is complete)");
  cmd->add_option("--visibility", args->visibility, "Who may see the indicator's collection on this node: public, partners, private")
      ->check(CLI::IsMember({"public", "partners", "private"}));
  cmd->add_flag("--no-register", [args](std::int64_t) { args->register_outputs = false; },
                "Do not add the rasters to the node's catalog (--catalog; by default they are, collection = indicator id)");
  cmd->footer("The output folder holds a COG per raster output, a CSV, a GeoJSON and a GeoPackage per table, report.html and provenance.json.\n"
              "Example: sco run heat.hot_months --input tas=bcsd_obs_1999.nc:tas --aoi nc.gpkg --id NAME --out nc_heat");
  cmd->callback([args, &global] {
    const RunResult r = run_recipe(*args, global);
    if (global.json) {
      nlohmann::json outs = nlohmann::json::array();
      for (const auto& o : r.outputs) outs.push_back({{"kind", o.kind}, {"step", o.step}, {"path", o.path}, {"title", o.title}, {"units", o.units}});
      nlohmann::json j = {{"recipe", r.recipe_id}, {"out", r.out}, {"outputs", outs}, {"tables", r.summary}, {"warnings", r.warnings}, {"seconds", r.seconds}, {"catalog_items", r.registered}};
      std::printf("%s\n", j.dump(2).c_str());
      return;
    }
    for (const auto& w : r.warnings) std::fprintf(stderr, "sco: warning: %s\n", w.c_str());
    if (global.quiet) return;
    std::printf("%s: wrote %s in %.2f s\n", r.recipe_id.c_str(), r.out.c_str(), r.seconds);
    for (const auto& o : r.outputs) std::printf("  %-10s %s\n", o.kind.c_str(), o.path.c_str());
    if (!r.registered.empty()) {
      std::printf("  catalog    %zu item%s in collection %s of %s\n", r.registered.size(), r.registered.size() == 1 ? "" : "s",
                  r.recipe_id.c_str(), global.catalog_dir().c_str());
    }
  });
}

}  // namespace sco::app
