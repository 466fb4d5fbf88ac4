// sco zonal --raster FILE[:BAND] ... --zones VECTOR --stats LIST -o OUT: statistics per local entity,
// with exact coverage fractions.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "zonal_job.hpp"
#include "core/error.hpp"
#include "io/raster_dataset.hpp"
#include "io/table_writer.hpp"
#include "io/vector_zones.hpp"
#include "zonal/statistic.hpp"
#include "run/zonal_table.hpp"

namespace sco::app {

using core::ErrorCode;

namespace {

std::string stats_help() {
  std::string s = "Statistics (--stats, comma-separated):\n";
  for (const auto& st : zonal::statistics_table()) s += fmt::format("  {:<15} {}\n", st.name, st.summary);
  s += "Cells cut by a zone's boundary count by the fraction of their area inside it. Zones in another CRS\n"
       "are reprojected to each raster's. Several rasters on one grid share one coverage computation.\n"
       "Example: sco zonal --raster ndvi.tif --zones olinda1.shp --id NM_BAIR --stats mean,median,count -o ndvi.csv";
  return s;
}

}  // namespace

ZonalJobResult run_zonal_job(const ZonalRequest& req, const GlobalOptions& global) {
  ZonalJobResult result;
  const auto t0 = std::chrono::steady_clock::now();
  run::ZonalTableRequest tr;
  tr.stats = zonal::parse_stats(req.stats);
  if (zonal::needs_of(tr.stats).weights && req.weights.empty()) {
    core::fail(ErrorCode::kInvalidInput, "weighted_mean and weighted_sum need --weights FILE[:BAND]");
  }
  if (!req.output.empty()) io::check_table_path(req.output);
  tr.bands = run::zonal_bands(req.rasters);
  if (!req.weights.empty()) {
    const io::BandRef ref = io::parse_band_ref(req.weights);
    tr.weights = run::zonal_band("weights", ref.path, ref.band);
  }
  tr.id_column = req.id;
  run::ZoneSet zones(io::read_zones(req.zones, req.layer, req.id));
  run::ZonalTable t = run::compute_zonal_table(zones, tr, exec_options(global));
  if (!req.output.empty()) io::write_table(t.table, req.output, zones.vector());
  result.table = std::move(t.table);
  result.warnings = std::move(t.warnings);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  result.zone_count = zones.size();
  result.band_count = tr.bands.size();
  result.stat_count = tr.stats.size();
  return result;
}

void register_zonal(CLI::App& app, GlobalOptions& global) {
  auto args = std::make_shared<ZonalRequest>();
  CLI::App* cmd = app.add_subcommand("zonal", "Statistics per zone (district, tract, county) with exact cell coverage");
  cmd->add_option("--raster", args->rasters,
                  "[NAME=]FILE[:BAND]; all bands when BAND is left out; repeat for more rasters or dates")
      ->required();
  cmd->add_option("--zones", args->zones, "Polygon layer in any OGR format and CRS (Shapefile, GeoPackage, GeoJSON...)")
      ->required();
  cmd->add_option("--layer", args->layer, "Layer of --zones (default: the first)");
  cmd->add_option("--id", args->id, "Field that names each zone (default: the feature id)");
  cmd->add_option("--stats", args->stats, "Statistics, e.g. count,mean,median,p90 (see below)")->required();
  cmd->add_option("--weights", args->weights, "FILE[:BAND] of weights on the raster's grid (e.g. population)");
  cmd->add_option("-o,--output", args->output, "Table: .csv, .geojson (WGS 84) or .gpkg (with the zones' geometry)");
  cmd->footer(stats_help());
  cmd->callback([args, &global] {
    if (args->output.empty() && !global.json) core::fail(ErrorCode::kInvalidInput, "give -o OUT.csv|.geojson|.gpkg, or --json");
    const ZonalJobResult r = run_zonal_job(*args, global);
    const io::ResultTable& table = r.table;
    const std::size_t n = r.zone_count;
    if (global.json) {
      nlohmann::json rows = nlohmann::json::array();
      for (std::size_t z = 0; z < n; ++z) {
        nlohmann::json row;
        row[table.id_column] = table.ids[z];
        for (std::size_t c = 0; c < table.columns.size(); ++c) {
          const double v = table.rows[z][c];
          row[table.columns[c]] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
        }
        rows.push_back(row);
      }
      nlohmann::json out = {{"zones", rows}, {"columns", table.columns}, {"warnings", r.warnings}, {"seconds", r.seconds}};
      if (!args->output.empty()) out["output"] = args->output;
      std::printf("%s\n", out.dump(2).c_str());
    } else if (!global.quiet) {
      for (const auto& w : r.warnings) std::fprintf(stderr, "sco: warning: %s\n", w.c_str());
      std::printf("wrote %s: %zu zones x %zu band%s x %zu statistic%s in %.2f s\n", args->output.c_str(), n, r.band_count,
                  r.band_count == 1 ? "" : "s", r.stat_count, r.stat_count == 1 ? "" : "s", r.seconds);
    }
  });
}

}  // namespace sco::app
