// sco demo: the whole chain on the real sample data: spectral indices of the Landsat-7 scene over
// Olinda, NDVI per census tract, and hot months and mean temperature of 1999 per North Carolina
// county from the monthly climate grid. Everything it prints comes from files it writes.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "algebra/spectral_index.hpp"
#include "cli_common.hpp"
#include "cube_job.hpp"
#include "io/vector_zones.hpp"
#include "raster_job.hpp"
#include "zonal_job.hpp"

#ifndef SCO_DEFAULT_SAMPLE_DIR
#define SCO_DEFAULT_SAMPLE_DIR "data/sample"
#endif

namespace sco::app {

void register_demo(CLI::App& app, GlobalOptions& global) {
  struct Args {
    std::string data = SCO_DEFAULT_SAMPLE_DIR;
    std::string out = "sco-demo";
    int port = 8080;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("demo", "Run sco on the real sample data (scripts/fetch-data.sh) and summarise");
  cmd->add_option("--data", args->data, "Folder of the sample data")->capture_default_str();
  cmd->add_option("--out", args->out, "Folder for the outputs")->capture_default_str();
  cmd->add_option("--port", args->port, "Port of the web map (reserved: the server arrives with the catalog)");
  cmd->callback([args, &global] {
    namespace fs = std::filesystem;
    const std::string scene = (fs::path(args->data) / "L7_ETMs.tif").string();
    if (!fs::exists(scene)) {
      core::fail(core::ErrorCode::kNotFound, "sample data not found: {} (run scripts/fetch-data.sh)", scene);
    }
    fs::create_directories(args->out);
    nlohmann::json rows = nlohmann::json::array();
    GlobalOptions quiet = global;  // the jobs run silently; the demo prints its own summary
    quiet.quiet = true;
    if (!global.quiet && !global.json) {
      std::printf("sco demo: spectral indices of the Landsat-7 ETM+ scene over Olinda, Brazil (%s)\n", scene.c_str());
      std::printf("The scene holds digital numbers (no calibration): normalized differences are computed on them as\n"
                  "is; SAVI, whose constant assumes reflectance, uses DN/255 and is illustrative only.\n\n");
      std::printf("%-6s %-48s %9s %9s %9s %7s\n", "index", "output", "min", "max", "mean", "valid");
    }
    for (const auto& index : algebra::spectral_indices()) {
      if (std::string(index.id) == "evi") {
        // EVI's blue term makes its denominator cross zero on hazy digital numbers: the values would
        // be meaningless, so the demo says so instead of showing them.
        if (!global.quiet && !global.json) {
          std::printf("%-6s skipped: needs surface reflectance; this sample holds uncalibrated digital numbers\n", index.id);
        }
        continue;
      }
      IndexRequest req;
      req.index = index.id;
      req.input = scene;
      req.sensor = "landsat7";
      if (index.needs_reflectance) req.scale = 1.0 / 255.0;
      std::vector<std::string> warnings;
      ExpressionJob job = build_index_job(req, warnings);
      OutputOptions out;
      out.path = (fs::path(args->out) / (std::string(index.id) + ".tif")).string();
      job.output = out.to_spec();
      job.output.band_description = index.id;
      const auto result = run_expression_job(job, quiet);
      auto j = job_json(job, result);
      j["index"] = index.id;
      rows.push_back(j);
      if (!global.quiet && !global.json) {
        const auto& s = result.stats;
        std::printf("%-6s %-48s %9.4f %9.4f %9.4f %6.1f%%\n", index.id, out.path.c_str(), s.min, s.max, s.mean(),
                    100.0 * static_cast<double>(s.count) / static_cast<double>(s.total));
      }
    }
    // Figures per local entity: each Olinda census tract's mean NDVI (exact coverage).
    ZonalRequest tracts;
    tracts.rasters = {(fs::path(args->out) / "ndvi.tif").string()};
    tracts.zones = (fs::path(args->data) / "olinda1.shp").string();
    tracts.id = "ID";
    tracts.stats = "mean,count,valid_fraction";
    tracts.output = (fs::path(args->out) / "olinda_tracts_ndvi.gpkg").string();
    const ZonalJobResult tract_result = run_zonal_job(tracts, quiet);

    // Climate: hot months (monthly mean above 25 C) and mean temperature of 1999 on the climate
    // grid, then per North Carolina county; both rasters share one grid, so one coverage.
    const std::string nc = (fs::path(args->data) / "bcsd_obs_1999.nc").string();
    CubeRequest hot;
    hot.input = nc + ":tas";
    hot.op = "count_above:25";
    hot.out.path = (fs::path(args->out) / "nc_hot_months_1999.tif").string();
    run_cube_job(hot, quiet);
    CubeRequest mean = hot;
    mean.op = "mean";
    mean.out.path = (fs::path(args->out) / "nc_mean_temperature_1999.tif").string();
    run_cube_job(mean, quiet);
    ZonalRequest counties;
    counties.rasters = {"hot_months=" + hot.out.path, "temperature=" + mean.out.path};
    counties.zones = (fs::path(args->data) / "nc.gpkg").string();
    counties.id = "NAME";
    counties.stats = "mean";
    counties.output = (fs::path(args->out) / "nc_counties_climate_1999.gpkg").string();
    const ZonalJobResult county_result = run_zonal_job(counties, quiet);

    // Rows of a table sorted by a column, highest first (rows without a value last).
    auto ranked = [](const io::ResultTable& t, std::size_t col) {
      std::vector<std::size_t> order(t.ids.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        const double va = t.rows[a][col], vb = t.rows[b][col];
        if (std::isnan(va) != std::isnan(vb)) return std::isnan(vb);
        return va > vb;
      });
      return order;
    };
    if (global.json) {
      nlohmann::json out = {{"indices", rows}};
      auto table_json = [](const ZonalJobResult& r, const std::string& path) {
        return nlohmann::json{{"output", path}, {"zones", r.zone_count}, {"columns", r.table.columns}, {"warnings", r.warnings}};
      };
      out["olinda_tracts"] = table_json(tract_result, tracts.output);
      out["nc_counties"] = table_json(county_result, counties.output);
      std::printf("%s\n", out.dump(2).c_str());
      return;
    }
    if (global.quiet) return;
    const auto& tt = tract_result.table;
    const auto order = ranked(tt, 0);
    // Tracts are named by their neighbourhood (NM_BAIR; some have none) and census tract ID.
    const io::VectorZones names = io::read_zones(tracts.zones, "", "NM_BAIR");
    auto label = [&](std::size_t row) {
      const std::string& n = names.ids[row];
      return fmt::format("{} ({})", n.empty() ? "unnamed" : n, tt.ids[row]);
    };
    std::printf("\nNDVI per census tract (%zu tracts, exact cell coverage) -> %s\n", tt.ids.size(), tracts.output.c_str());
    std::printf("  greenest:      ");
    for (std::size_t i = 0; i < 3 && i < order.size(); ++i) {
      std::printf("%s%s %.3f", i ? ", " : "", label(order[i]).c_str(), tt.rows[order[i]][0]);
    }
    std::printf("\n  least green:   ");
    std::size_t shown = 0;
    for (std::size_t i = order.size(); i-- > 0 && shown < 3;) {
      if (std::isnan(tt.rows[order[i]][0])) continue;
      std::printf("%s%s %.3f", shown ? ", " : "", label(order[i]).c_str(), tt.rows[order[i]][0]);
      ++shown;
    }
    const auto& ct = county_result.table;
    const auto hot_order = ranked(ct, 0);
    std::printf("\n\nClimate 1999 per North Carolina county (%zu counties) -> %s\n", ct.ids.size(), counties.output.c_str());
    std::printf("  most months with a mean above 25 C:\n");
    for (std::size_t i = 0; i < 5 && i < hot_order.size(); ++i) {
      std::printf("    %-14s %4.1f months, mean temperature %.1f C\n", ct.ids[hot_order[i]].c_str(), ct.rows[hot_order[i]][0],
                  ct.rows[hot_order[i]][1]);
    }
    for (const auto& w : county_result.warnings) std::printf("  note: %s\n", w.c_str());
    std::printf("\nInspect: sco info %s/ndvi.tif; open the .gpkg files in any GIS\n", args->out.c_str());
  });
}

}  // namespace sco::app
