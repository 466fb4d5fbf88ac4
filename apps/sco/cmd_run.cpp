// sco indicators [--json]: the built-in indicators. sco run ID_OR_RECIPE.json --input NAME=PATH ...
// --aoi VECTOR --out DIR [--dry-run]: runs one on an area of interest (the run library, src/run/).
#include <algorithm>
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "catalog/store.hpp"
#include "cli_common.hpp"
#include "core/progress.hpp"
#include "indicators/builtin.hpp"
#include "run_args.hpp"

namespace sco::app {

using nlohmann::json;

namespace {

json recipe_json(const indicators::Recipe& r) {
  json inputs = json::array(), params = json::array(), outputs = json::array();
  for (const auto& i : r.inputs) inputs.push_back({{"name", i.name}, {"kind", indicators::input_kind_name(i.kind)}, {"title", i.title}, {"units", i.units}});
  for (const auto& p : r.parameters) {
    params.push_back({{"name", p.name},
                      {"type", p.type == indicators::ParamType::kNumber ? "number" : p.type == indicators::ParamType::kString ? "string" : "boolean"},
                      {"default", p.default_value}, {"title", p.title}, {"units", p.units}});
  }
  for (const auto& s : r.document.at("steps")) {
    if (!s.value("output", false)) continue;
    const run::StepOp* op = run::find_op(s.value("op", std::string()));
    outputs.push_back({{"id", s.value("id", std::string())}, {"kind", op && op->makes_raster() ? "raster" : "table"},
                       {"title", s.value("title", std::string())}, {"units", s.value("units", std::string())}});
  }
  return {{"id", r.id}, {"version", r.version}, {"title", r.title}, {"category", r.category}, {"description", r.description},
          {"inputs", inputs}, {"parameters", params}, {"outputs", outputs}, {"references", r.references}, {"sha256", r.hash}};
}

void print_indicator(const indicators::Recipe& r) {
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
  for (const auto& o : recipe_json(r)["outputs"]) {
    const std::string units = o["units"].get<std::string>();
    outs += (outs.empty() ? "" : ", ") + o["id"].get<std::string>() + (units.empty() ? "" : " [" + units + "]");
  }
  std::printf("    outputs: %s\n", outs.c_str());
}

void print_plan(const run::RunPlan& plan, const GlobalOptions& global) {
  if (global.json) {
    std::printf("%s\n", plan.to_json().dump(2).c_str());
    return;
  }
  const auto mib = [](std::uint64_t b) { return static_cast<double>(b) / (1 << 20); };
  std::printf("%s: %zu district%s on a %d x %d grid (%s), %d thread%s\n", plan.request.recipe.id.c_str(), plan.districts,
              plan.districts == 1 ? "" : "s", plan.grid.width, plan.grid.height, plan.resampling.c_str(), plan.request.threads, plan.request.threads == 1 ? "" : "s");
  for (const auto& sp : plan.step_plans) {
    std::printf("  %-24s %-13s %s%8.1f MiB read, peak %7.1f MiB  %s\n", sp.id.c_str(), sp.op.c_str(), sp.output ? "out " : "    ",
                mib(sp.estimate.bytes_read), mib(sp.estimate.peak_bytes), sp.estimate.detail.c_str());
  }
  std::printf("estimate: %.1f MiB read, %.1f MiB written, peak memory %.0f MiB\n", mib(plan.bytes_read), mib(plan.bytes_written),
              mib(plan.peak_memory));
  for (const auto& w : plan.warnings) std::fprintf(stderr, "sco: warning: %s\n", w.c_str());
}

void print_result(const run::RunResult& r, const GlobalOptions& global) {
  if (global.json) {
    json outs = json::array();
    for (const auto& o : r.outputs) outs.push_back({{"kind", o.kind}, {"step", o.step}, {"path", o.path}, {"title", o.title}, {"units", o.units}});
    json steps = json::array();
    for (const auto& e : r.step_times) steps.push_back({{"step", e.step}, {"op", e.op}, {"seconds", e.seconds}, {"bytes_written", e.bytes_written}});
    const json j = {{"recipe", r.recipe_id}, {"out", r.out},           {"outputs", outs},         {"tables", r.summary},
                    {"warnings", r.warnings}, {"seconds", r.seconds}, {"catalog_items", r.registered}, {"steps", steps}};
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  for (const auto& w : r.warnings) std::fprintf(stderr, "sco: warning: %s\n", w.c_str());
  if (global.quiet) return;
  std::printf("%s: wrote %s in %.2f s\n", r.recipe_id.c_str(), r.out.c_str(), r.seconds);
  for (const auto& o : r.outputs) std::printf("  %-10s %s\n", o.kind.c_str(), o.path.c_str());
  if (!r.registered.empty()) {
    std::printf("  catalog    %zu item%s in collection %s of %s\n", r.registered.size(), r.registered.size() == 1 ? "" : "s", r.recipe_id.c_str(),
                global.catalog_dir().c_str());
  }
}

// Each step on its own line, with a bar while it runs (a terminal without --quiet).
run::RunCallbacks terminal_callbacks(const GlobalOptions& global) {
  run::RunCallbacks cb;
  if (global.quiet || global.json || !global.progress()) return cb;
  auto bar = std::make_shared<std::unique_ptr<core::Progress>>();
  cb.on_event = [bar](const run::RunEvent& e) {
    switch (e.kind) {
      case run::RunEvent::Kind::kStepStarted:
        std::fprintf(stderr, "sco: step %zu/%zu %s (%s)\n", e.index + 1, e.count, e.step.c_str(), e.op.c_str());
        *bar = std::make_unique<core::Progress>(e.step, 100, true);
        break;
      case run::RunEvent::Kind::kStepProgress:
        if (*bar) (*bar)->set_fraction(e.fraction);
        break;
      case run::RunEvent::Kind::kStepFinished:
        if (*bar) (*bar)->finish();
        bar->reset();
        break;
    }
  };
  return cb;
}

}  // namespace

run::RunRequest to_request(const RunArgs& a, const GlobalOptions& global) {
  run::RunRequest r;
  r.recipe = run::load_recipe(a.recipe);
  for (const auto& p : a.params) r.params.push_back(split_assignment(p, "--param"));
  if (a.out.empty()) core::fail(core::ErrorCode::kInvalidInput, "give --out DIR");
  if (a.aoi.empty()) core::fail(core::ErrorCode::kInvalidInput, "give --aoi VECTOR (the districts)");
  const bool from_catalog = std::any_of(a.inputs.begin(), a.inputs.end(), [](const std::string& t) {
    return t.find("=collection:") != std::string::npos;
  });
  std::unique_ptr<catalog::CatalogStore> store;
  if (from_catalog) store = catalog::open_node_store(global.catalog_dir());
  r.inputs = run::parse_inputs(a.inputs, store.get());
  r.aoi = run::AreaOfInterest::from_file(a.aoi, a.layer, a.id);
  r.out = a.out;
  r.resampling = a.resampling;
  r.overwrite = a.overwrite;
  if (a.register_outputs) r.catalog_dir = global.catalog_dir();
  r.visibility = a.visibility;
  r.threads = global.effective_threads();
  return r;
}

void register_indicators(CLI::App& app, GlobalOptions& global) {
  CLI::App* cmd = app.add_subcommand("indicators", "List the built-in indicators: inputs, parameters, units");
  auto ops = std::make_shared<bool>(false);
  cmd->add_flag("--ops-markdown", *ops, "Print the table of the recipe step ops (docs/recipes.md, made from the op registry)");
  cmd->footer("Run one with: sco run ID --input NAME=PATH ... --aoi DISTRICTS --out DIR (docs/indicators.md)");
  cmd->callback([&global, ops] {
    if (*ops) {
      std::fputs(run::ops_markdown().c_str(), stdout);
      return;
    }
    if (global.json) {
      json list = json::array();
      for (const auto& r : indicators::builtin_recipes()) list.push_back(recipe_json(r));
      std::printf("%s\n", list.dump(2).c_str());
      return;
    }
    for (const auto& r : indicators::builtin_recipes()) print_indicator(r);
  });
}

void register_run(CLI::App& app, GlobalOptions& global) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "Run an indicator (built-in id or RECIPE.json) over an area of interest");
  cmd->add_option("RECIPE", args->recipe, "Built-in indicator id (sco indicators) or a recipe file (docs/recipes.md)")->required();
  cmd->add_option("--input", args->inputs, "NAME=PATH[:VARIABLE_OR_BAND][@YYYY-MM-DD]; repeat a cube's NAME for each file of a time series")
      ->required();
  cmd->add_option("--aoi", args->aoi, "The districts: a polygon layer in any OGR format and CRS")->required();
  cmd->add_option("--layer", args->layer, "Layer of --aoi (default: the first)");
  cmd->add_option("--id", args->id, "Field naming each district (default: the feature id)");
  cmd->add_option("--out", args->out, "Output folder; it appears only when the run is complete")->required();
  cmd->add_option("--param", args->params, "KEY=VALUE overriding a parameter of the recipe (repeatable)");
  cmd->add_option("--resampling", args->resampling,
                  "How inputs on other grids are warped to the working grid: near, bilinear (default unless the recipe says), cubic, average, mode, ...");
  cmd->add_flag("--overwrite", args->overwrite, "Replace DIR when it exists (only once the new run is complete)");
  cmd->add_option("--visibility", args->visibility, "Who may see the indicator's collection on this node: public, partners, private")
      ->check(CLI::IsMember({"public", "partners", "private"}));
  cmd->add_flag("--no-register", [args](std::int64_t) { args->register_outputs = false; },
                "Do not add the rasters to the node's catalog (--catalog; by default they are, collection = indicator id)");
  cmd->add_flag("--dry-run", args->dry_run,
                "Check everything and print the plan (working grid, steps, bytes to read and write, peak memory) without reading pixels; "
                "with --json as JSON");
  cmd->footer("The output folder holds a COG per raster output, a CSV, a GeoJSON and a GeoPackage per table, report.html and provenance.json.\n"
              "Example: sco run heat.hot_months --input tas=bcsd_obs_1999.nc:tas --aoi nc.gpkg --id NAME --out nc_heat");
  cmd->callback([args, &global] {
    run::RunPlan plan = run::plan_run(to_request(*args, global));
    if (args->dry_run) {
      print_plan(plan, global);
      return;
    }
    print_result(run::execute_run(std::move(plan), terminal_callbacks(global)), global);
  });
}

}  // namespace sco::app
