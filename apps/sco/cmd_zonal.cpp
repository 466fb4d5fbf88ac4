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
#include "io/gdal_band_reader.hpp"
#include "io/raster_dataset.hpp"
#include "io/table_writer.hpp"
#include "io/vector_zones.hpp"
#include "zonal/statistic.hpp"
#include "zonal/zonal_engine.hpp"

namespace sco::app {

using core::ErrorCode;

namespace {

struct RasterBand {
  std::string label;
  io::BandSpec spec;
  core::Grid grid;
};

std::string stats_help() {
  std::string s = "Statistics (--stats, comma-separated):\n";
  for (const auto& st : zonal::statistics_table()) s += fmt::format("  {:<15} {}\n", st.name, st.summary);
  s += "Cells cut by a zone's boundary count by the fraction of their area inside it. Zones in another CRS\n"
       "are reprojected to each raster's. Several rasters on one grid share one coverage computation.\n"
       "Example: sco zonal --raster ndvi.tif --zones olinda1.shp --id NM_BAIR --stats mean,median,count -o ndvi.csv";
  return s;
}

std::vector<RasterBand> expand_rasters(const std::vector<std::string>& specs) {
  std::vector<RasterBand> out;
  for (const auto& text : specs) {
    std::string name;
    std::string ref_text = text;
    const auto eq = text.find('=');
    if (eq != std::string::npos && eq > 0 && text.find('/') > eq && text.rfind("/vsi", 0) != 0) {
      name = text.substr(0, eq);
      ref_text = text.substr(eq + 1);
    }
    const io::BandRef ref = io::parse_band_ref(ref_text);
    const io::RasterDataset ds = io::RasterDataset::open(ref.path);
    const std::string stem = name.empty() ? std::filesystem::path(ref.path).stem().string() : name;
    const core::Grid grid = ds.grid();
    if (ref.band_given) {
      ds.band(ref.band);
      out.push_back({ref.band == 1 && ds.band_count() == 1 ? stem : fmt::format("{}_b{}", stem, ref.band),
                     {ref.path, ref.band}, grid});
    } else {
      for (int b = 1; b <= ds.band_count(); ++b) {
        out.push_back({ds.band_count() == 1 ? stem : fmt::format("{}_b{}", stem, b), {ref.path, b}, grid});
      }
    }
  }
  return out;
}

std::string join_ids(const std::vector<std::string>& ids) {
  std::string s;
  for (std::size_t i = 0; i < ids.size() && i < 10; ++i) s += (i ? ", " : "") + ids[i];
  if (ids.size() > 10) s += fmt::format(" and {} more", ids.size() - 10);
  return s;
}

}  // namespace

ZonalJobResult run_zonal_job(const ZonalRequest& req, const GlobalOptions& global) {
  ZonalJobResult result;
  const auto t0 = std::chrono::steady_clock::now();
  const auto stats = zonal::parse_stats(req.stats);
  const zonal::Needs needs = zonal::needs_of(stats);
  if (needs.weights && req.weights.empty()) {
    core::fail(ErrorCode::kInvalidInput, "weighted_mean and weighted_sum need --weights FILE[:BAND]");
  }
  if (!req.output.empty()) io::check_table_path(req.output);

  const std::vector<RasterBand> bands = expand_rasters(req.rasters);
  io::BandSpec weights;
  core::Grid weights_grid;
  if (!req.weights.empty()) {
    const io::BandRef ref = io::parse_band_ref(req.weights);
    const io::RasterDataset ds = io::RasterDataset::open(ref.path);
    ds.band(ref.band);
    weights = {ref.path, ref.band};
    weights_grid = ds.grid();
  }
  io::VectorZones zones = io::read_zones(req.zones, req.layer, req.id);
  std::vector<std::string> warnings;
  if (!zones.repaired.empty()) {
    warnings.push_back(fmt::format("{} invalid geometr{} repaired with GEOS: {}", zones.repaired.size(),
                                   zones.repaired.size() == 1 ? "y" : "ies", join_ids(zones.repaired)));
  }
  if (!zones.empty.empty()) {
    warnings.push_back(fmt::format("{} zone{} without a polygon geometry: {}", zones.empty.size(),
                                   zones.empty.size() == 1 ? "" : "s", join_ids(zones.empty)));
  }

  // Group bands by grid: one coverage computation per group.
  std::vector<std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < bands.size(); ++i) {
    bool placed = false;
    for (auto& g : groups) {
      const core::Grid& gg = bands[g[0]].grid;
      if (gg.same_geometry(bands[i].grid) && io::same_crs(gg.crs_wkt, bands[i].grid.crs_wkt)) {
        g.push_back(i);
        placed = true;
        break;
      }
    }
    if (!placed) groups.push_back({i});
  }
  const std::size_t n = zones.ids.size();
  std::vector<std::vector<zonal::BandResult>> per_band(bands.size());
  std::vector<bool> overlaps(n, false);
  for (const auto& group : groups) {
    const core::Grid& grid = bands[group[0]].grid;
    const bool use_weights = needs.weights;
    if (use_weights && !(grid.same_geometry(weights_grid) && io::same_crs(grid.crs_wkt, weights_grid.crs_wkt))) {
      core::fail(ErrorCode::kInvalidInput, "--weights '{}' is {} in {}, but '{}' is {} in {}: they must share one grid",
                 weights.path, weights_grid.describe(), io::crs_label(weights_grid.crs_wkt), bands[group[0]].spec.path,
                 grid.describe(), io::crs_label(grid.crs_wkt));
    }
    const auto model = io::area_model(grid.crs_wkt);
    if (!model.known) warnings.push_back(fmt::format("'{}' has no CRS: areas are in squared CRS units", bands[group[0]].spec.path));
    const auto zone_geoms = io::zones_for_grid(zones, grid, warnings);
    std::vector<io::BandSpec> specs;
    for (std::size_t i : group) specs.push_back(bands[i].spec);
    zonal::ZonalOptions opt;
    {
      const io::RasterDataset first = io::RasterDataset::open(bands[group[0]].spec.path);
      opt.locality_rows = std::max(1, first.band(bands[group[0]].spec.band).block_height);
      opt.locality_cols = std::max(1, first.band(bands[group[0]].spec.band).block_width);
    }
    opt.threads = global.effective_threads();
    opt.progress = global.progress();
    const auto results = zonal::compute_zonal(
        zone_geoms, grid, zonal::CellAreaModel{model.geographic, model.metres_per_unit}, stats,
        [&] { return io::make_gdal_band_reader(specs, use_weights ? weights : io::BandSpec{}); }, opt);
    for (std::size_t z = 0; z < n; ++z) {
      overlaps[z] = overlaps[z] || results[z].overlaps;
      for (std::size_t k = 0; k < group.size(); ++k) {
        per_band[group[k]].resize(n);
        per_band[group[k]][z] = results[z].bands[k];
      }
    }
  }
  std::vector<std::string> outside;
  for (std::size_t z = 0; z < n; ++z) {
    if (!overlaps[z] && zones.geometries[z]) outside.push_back(zones.ids[z]);
  }
  if (!outside.empty()) {
    warnings.push_back(fmt::format("{} zone{} outside every raster (empty rows): {}", outside.size(),
                                   outside.size() == 1 ? "" : "s", join_ids(outside)));
  }

  // The table: one column per band and statistic; frac expands into one column per value.
  io::ResultTable table;
  table.id_column = req.id.empty() ? "fid" : req.id;
  table.ids = zones.ids;
  table.rows.assign(n, {});
  const bool prefix = bands.size() > 1;
  for (std::size_t b = 0; b < bands.size(); ++b) {
    const std::string pre = prefix ? bands[b].label + "_" : "";
    for (std::size_t s = 0; s < stats.size(); ++s) {
      if (stats[s].kind != zonal::StatKind::kFrac) {
        table.columns.push_back(pre + stats[s].name);
        for (std::size_t z = 0; z < n; ++z) table.rows[z].push_back(per_band[b][z].values[s]);
        continue;
      }
      std::set<double> classes;
      for (std::size_t z = 0; z < n; ++z) {
        for (const auto& [v, share] : per_band[b][z].fractions) classes.insert(v);
      }
      for (double c : classes) {
        table.columns.push_back(fmt::format("{}frac_{:g}", pre, c));
        for (std::size_t z = 0; z < n; ++z) {
          double share = per_band[b][z].fractions.empty() ? std::nan("") : 0.0;
          for (const auto& [v, sh] : per_band[b][z].fractions) {
            if (v == c) share = sh;
          }
          table.rows[z].push_back(share);
        }
      }
    }
  }
  if (!req.output.empty()) io::write_table(table, req.output, zones);
  result.table = std::move(table);
  result.warnings = std::move(warnings);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  result.zone_count = n;
  result.band_count = bands.size();
  result.stat_count = stats.size();
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
