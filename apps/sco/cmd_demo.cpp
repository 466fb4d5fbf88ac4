// sco demo: the whole chain on the real sample data: spectral indices of the Landsat-7 scene over
// Olinda, NDVI per census tract, then indicator recipes: hot months, warming trend and dry spells per
// North Carolina county from the monthly climate grids of 1999, built-up share and residents on
// built-up land per Olinda tract. Everything it prints comes from files it writes.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ctime>

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "algebra/spectral_index.hpp"
#include "cli_common.hpp"
#include "catalog/ingest.hpp"
#include "catalog/store.hpp"
#include "security/keys.hpp"
#include "server/http_server.hpp"
#include "io/raster_dataset.hpp"
#include "io/vector_zones.hpp"
#include "run/expression_job.hpp"
#include "run_args.hpp"
#include "zonal_job.hpp"

#ifndef SCO_DEFAULT_SAMPLE_DIR
#define SCO_DEFAULT_SAMPLE_DIR "data/sample"
#endif

namespace sco::app {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct DemoArgs {
  std::string data = SCO_DEFAULT_SAMPLE_DIR;
  std::string out = "sco-demo";
  int port = 8080;
  bool serve = false;
};

bool talk(const GlobalOptions& g) { return !g.quiet && !g.json; }

// Every spectral index of the scene (EVI left out: its blue term makes the denominator cross zero on
// hazy digital numbers, so the demo says so instead of showing meaningless values).
json run_indices(const DemoArgs& args, const std::string& scene, const GlobalOptions& global) {
  json rows = json::array();
  if (talk(global)) {
    std::printf("sco demo: spectral indices of the Landsat-7 ETM+ scene over Olinda, Brazil (%s)\n", scene.c_str());
    std::printf("The scene holds digital numbers (no calibration): normalized differences are computed on them as\n"
                "is; SAVI, whose constant assumes reflectance, uses DN/255 and is illustrative only.\n\n");
    std::printf("%-6s %-48s %9s %9s %9s %7s\n", "index", "output", "min", "max", "mean", "valid");
  }
  run::ExecOptions quiet = exec_options(global);
  quiet.terminal_progress = false;
  for (const auto& index : algebra::spectral_indices()) {
    if (std::string(index.id) == "evi") {
      if (talk(global)) std::printf("%-6s skipped: needs surface reflectance; this sample holds uncalibrated digital numbers\n", index.id);
      continue;
    }
    run::IndexRequest req;
    req.index = index.id;
    req.input = scene;
    req.sensor = "landsat7";
    if (index.needs_reflectance) req.scale = 1.0 / 255.0;
    std::vector<std::string> warnings;
    run::ExpressionJob job = run::build_index_job(req, warnings);
    OutputOptions out;
    out.path = (fs::path(args.out) / (std::string(index.id) + ".tif")).string();
    job.output = out.to_spec();
    job.output.band_description = index.id;
    const auto result = run::run_expression_job(job, quiet);
    auto j = run::job_json(job, result);
    j["index"] = index.id;
    rows.push_back(j);
    if (talk(global)) {
      const auto& s = result.stats;
      std::printf("%-6s %-48s %9.4f %9.4f %9.4f %6.1f%%\n", index.id, out.path.c_str(), s.min, s.max, s.mean(),
                  100.0 * static_cast<double>(s.count) / static_cast<double>(s.total));
    }
  }
  return rows;
}

struct Indicator {
  const char* id;
  std::vector<std::string> inputs;
  std::string aoi, id_field;
  std::vector<std::string> params;
  const char* table;   // the table step to summarise
  const char* column;  // and its column
};

// Indicators as recipes: heat and precipitation per North Carolina county from the monthly grids of
// 1999, built-up share and residents on built-up land per Olinda census tract.
std::vector<Indicator> demo_indicators(const DemoArgs& args, const std::string& scene, const std::string& tracts) {
  const std::string nc = (fs::path(args.data) / "bcsd_obs_1999.nc").string();
  const std::string counties = (fs::path(args.data) / "nc.gpkg").string();
  return {
      {"heat.hot_months", {"tas=" + nc + ":tas"}, counties, "NAME", {}, "hot_steps_by_district", "mean"},
      {"heat.trend", {"tas=" + nc + ":tas"}, counties, "NAME", {}, "trend_by_district", "slope"},
      {"precipitation.dry_spells", {"pr=" + nc + ":pr"}, counties, "NAME", {}, "dry_spell_by_district", "mean"},
      {"urban.ndbi", {"scene=" + scene}, tracts, "ID", {"sensor=landsat7", "population_field=V014"}, "built_up_by_district", "exposed_residents"},
  };
}

std::vector<std::pair<Indicator, run::RunResult>> run_indicators(const DemoArgs& args, const std::vector<Indicator>& list, const GlobalOptions& global) {
  std::vector<std::pair<Indicator, run::RunResult>> results;
  for (const auto& ind : list) {
    RunArgs a;
    a.recipe = ind.id;
    a.inputs = ind.inputs;
    a.aoi = ind.aoi;
    a.id = ind.id_field;
    a.params = ind.params;
    a.out = (fs::path(args.out) / ind.id).string();
    a.overwrite = true;
    results.emplace_back(ind, run::run_recipe(to_request(a, global)));
  }
  return results;
}

// The climate grid joins the catalog too (it carries its dates). The scene carries no acquisition
// date (no TIFF date tag; its documentation in the stars package gives none): it is registered with
// the interval it is known to lie in, from the launch of Landsat 7 (1999-04-15, NASA) to the file's
// own timestamp, and says so, rather than with an invented date.
// The real Sentinel-2 L2A series over Bolzano (Copernicus), carried beside the sample data.
fs::path sentinel2_folder(const DemoArgs& args) { return fs::path(args.data).parent_path() / "sentinel2-l2a-bolzano-2022-06"; }

void ingest_samples(const DemoArgs& args, const std::string& scene, const GlobalOptions& global) {
  const std::string nc = (fs::path(args.data) / "bcsd_obs_1999.nc").string();
  const auto store = catalog::open_node_store(global.catalog_dir());
  const auto keys = security::NodeKeys::load_or_create(global.catalog_dir());
  const auto sign = [&keys](json& item) { security::sign_item(item, keys); };
  catalog::ingest(*store, {nc}, "climate-grids", {.sign = sign});
  struct stat st {};
  if (::stat(scene.c_str(), &st) != 0) core::fail(core::ErrorCode::kIo, "cannot read the timestamp of {}", scene);
  std::tm tm{};
  gmtime_r(&st.st_mtime, &tm);
  const std::string written = fmt::format("{:04d}-{:02d}-{:02d}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  const catalog::ItemOptions scene_item{
      .datetime = "1999-04-15/" + written,
      .description = "Landsat-7 ETM+ subset over Olinda, Brazil (6 bands, digital numbers). Its acquisition date is "
                     "recorded neither in the file nor in its documentation: start_datetime is the launch of Landsat 7 "
                     "(1999-04-15) and end_datetime the file's own timestamp (" + written + ").",
      .sensor = "landsat7"};
  catalog::ingest(*store, {scene}, "landsat7-olinda", {.items = scene_item, .sign = sign});
  // The Sentinel-2 series carried beside the sample, one item of 5 bands per date, when it is there.
  const fs::path s2 = sentinel2_folder(args);
  if (fs::exists(s2 / "20220602" / "B04.tif")) {
    const catalog::ItemOptions s2_items{
        .description = "Contains modified Copernicus Sentinel data [2022]: Sentinel-2 L2A over Bolzano (README.md of the folder).",
        .sensor = "sentinel2"};
    catalog::ingest(*store, {s2.string()}, "s2-bolzano", {.items = s2_items, .sign = sign});
  }
}

// Rows of a table sorted by a column, highest first (rows without a value last).
std::vector<std::size_t> ranked(const io::ResultTable& t, std::size_t col) {
  std::vector<std::size_t> order(t.ids.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const double va = t.rows[a][col], vb = t.rows[b][col];
    if (std::isnan(va) != std::isnan(vb)) return std::isnan(vb);
    return va > vb;
  });
  return order;
}

void print_tracts(const ZonalJobResult& tract_result, const ZonalRequest& tracts) {
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
  for (std::size_t i = 0; i < 3 && i < order.size(); ++i) std::printf("%s%s %.3f", i ? ", " : "", label(order[i]).c_str(), tt.rows[order[i]][0]);
  std::printf("\n  least green:   ");
  std::size_t shown = 0;
  for (std::size_t i = order.size(); i-- > 0 && shown < 3;) {
    if (std::isnan(tt.rows[order[i]][0])) continue;
    std::printf("%s%s %.3f", shown ? ", " : "", label(order[i]).c_str(), tt.rows[order[i]][0]);
    ++shown;
  }
  std::printf("\n");
}

void print_indicators(const std::vector<std::pair<Indicator, run::RunResult>>& results) {
  std::printf("\nIndicators (recipes; each folder has COG rasters, CSV, GeoJSON and GeoPackage tables, report.html, provenance.json):\n");
  for (const auto& [ind, r] : results) {
    const io::ResultTable& t = r.tables.at(ind.table);
    std::size_t col = 0;
    while (col < t.columns.size() && t.columns[col] != ind.column) ++col;
    const auto top = ranked(t, col);
    std::printf("  %-25s -> %s/report.html\n", ind.id, r.out.c_str());
    std::string method;
    for (std::size_t c = 0; c < t.text_columns.size() && !top.empty(); ++c) {
      if (t.text_columns[c] == "method") method = t.text_rows[top[0]][c];
    }
    if (!top.empty() && std::isnan(t.rows[top[0]][col])) {  // e.g. a trend from a record too short to hold one
      std::printf("    no %s%s\n", ind.column, method.empty() ? "" : (": " + method).c_str());
      for (const auto& w : r.warnings) std::printf("    note: %s\n", w.c_str());
      continue;
    }
    std::printf("    highest %s:", ind.column);
    for (std::size_t i = 0; i < 3 && i < top.size(); ++i) {
      std::string cls;
      for (std::size_t c = 0; c < t.text_columns.size(); ++c) {
        if (t.text_columns[c] == "class") cls = " " + t.text_rows[top[i]][c];
      }
      std::printf("%s %s %.3g%s", i ? "," : "", t.ids[top[i]].c_str(), t.rows[top[i]][col], cls.c_str());
    }
    std::printf("\n");
    if (r.tables.count("clear_by_district")) {  // the Sentinel-2 composite: how many dates were clear
      const io::ResultTable& c = r.tables.at("clear_by_district");
      if (!c.rows.empty()) std::printf("    clear dates per pixel: %.1f on average (of the series' acquisitions)\n", c.rows[0][0]);
    }
    for (const auto& w : r.warnings) std::printf("    note: %s\n", w.c_str());
  }
  std::printf("  Note: the climate grid holds 12 months of one year, too short a record for a trend; the scene holds\n"
              "  digital numbers, so NDBI is indicative only. Sentinel-2 over Bolzano: contains modified Copernicus\n"
              "  Sentinel data [2022].\n");
}

void serve_demo(const DemoArgs& args, const GlobalOptions& global) {
  server::ServerOptions so;
  so.host = "127.0.0.1";
  so.port = args.port;
  so.catalog_dir = global.catalog_dir();
  so.access_log = false;
  so.web_dir = SCO_WEB_DIR;
  server::serve(so, [](int port) {
    std::printf("\nOpen http://127.0.0.1:%d/ (the map; APIs: /stac, /features, /tiles, /api). Ctrl-C stops.\n", port);
    std::fflush(stdout);
  });
}

// The cloud-masked NDVI composite of the Sentinel-2 series (ingested by ingest_samples) over its
// window (one "district": the window itself, written here as GeoJSON), its bands read from the
// catalog. Nothing when the folder is absent.
std::vector<std::pair<Indicator, run::RunResult>> run_sentinel2(const DemoArgs& args, const GlobalOptions& quiet) {
  const fs::path folder = sentinel2_folder(args);
  if (!fs::exists(folder / "20220602" / "B04.tif")) return {};
  const io::RasterDataset b04 = io::RasterDataset::open((folder / "20220602" / "B04.tif").string());
  const core::Grid g = b04.grid();
  const double x0 = g.transform[0], y0 = g.transform[3], x1 = x0 + g.width * g.transform[1], y1 = y0 + g.height * g.transform[5];
  const json window = {{"type", "FeatureCollection"},
                       {"crs", {{"type", "name"}, {"properties", {{"name", "urn:ogc:def:crs:EPSG::32632"}}}}},
                       {"features", json::array({{{"type", "Feature"}, {"properties", {{"name", "Bolzano sample window"}}},
                                                  {"geometry", {{"type", "Polygon"}, {"coordinates", json::array({json::array({
                                                      json::array({x0, y1}), json::array({x1, y1}), json::array({x1, y0}),
                                                      json::array({x0, y0}), json::array({x0, y1})})})}}}}})}};
  const std::string aoi = (fs::path(args.out) / "bolzano_window.geojson").string();
  std::ofstream(aoi) << window.dump() << "\n";
  return run_indicators(args, {{"vegetation.ndvi_composite",
                                {"red=collection:s2-bolzano:red", "nir=collection:s2-bolzano:nir", "scl=collection:s2-bolzano:SCL"},
                                aoi, "name", {}, "ndvi_by_district", "mean"}}, quiet);
}

void run_demo(const DemoArgs& args, const GlobalOptions& global) {
  const std::string scene = (fs::path(args.data) / "L7_ETMs.tif").string();
  if (!fs::exists(scene)) core::fail(core::ErrorCode::kNotFound, "sample data not found: {} (run scripts/fetch-data.sh)", scene);
  fs::create_directories(args.out);
  GlobalOptions quiet = global;  // the jobs run silently; the demo prints its own summary
  quiet.quiet = true;
  const json rows = run_indices(args, scene, global);
  // Figures per local entity: each Olinda census tract's mean NDVI (exact coverage).
  ZonalRequest tracts;
  tracts.rasters = {(fs::path(args.out) / "ndvi.tif").string()};
  tracts.zones = (fs::path(args.data) / "olinda1.shp").string();
  tracts.id = "ID";
  tracts.stats = "mean,count,valid_fraction";
  tracts.output = (fs::path(args.out) / "olinda_tracts_ndvi.gpkg").string();
  const ZonalJobResult tract_result = run_zonal_job(tracts, quiet);
  auto results = run_indicators(args, demo_indicators(args, scene, tracts.zones), quiet);
  ingest_samples(args, scene, global);
  for (auto& r : run_sentinel2(args, quiet)) results.push_back(std::move(r));
  if (global.json) {
    json out = {{"indices", rows}};
    out["olinda_tracts"] = {{"output", tracts.output}, {"zones", tract_result.zone_count}, {"columns", tract_result.table.columns},
                            {"warnings", tract_result.warnings}};
    json inds = json::array();
    for (const auto& [ind, r] : results) inds.push_back({{"indicator", ind.id}, {"out", r.out}, {"tables", r.summary}, {"warnings", r.warnings}});
    out["indicators"] = inds;
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  if (global.quiet) return;
  print_tracts(tract_result, tracts);
  print_indicators(results);
  std::printf("\nThe indicators' rasters and district tables are in the catalog %s (collections named after the\n"
              "indicators), with the climate grids (climate-grids), the scene (landsat7-olinda: its acquisition date\n"
              "is recorded nowhere, so it is dated by the interval it lies in) and the Sentinel-2 series (s2-bolzano,\n"
              "one item of 5 bands per date); `sco demo --serve` or `sco serve` publishes them.\n",
              global.catalog_dir().c_str());
  std::printf("Inspect: sco info %s/ndvi.tif; open the .gpkg files in any GIS\n", args.out.c_str());
  if (args.serve) serve_demo(args, global);
}

}  // namespace

void register_demo(CLI::App& app, GlobalOptions& global) {
  auto args = std::make_shared<DemoArgs>();
  CLI::App* cmd = app.add_subcommand("demo", "Run sco on the real sample data (scripts/fetch-data.sh) and summarise");
  cmd->add_option("--data", args->data, "Folder of the sample data")->capture_default_str();
  cmd->add_option("--out", args->out, "Folder for the outputs")->capture_default_str();
  cmd->add_option("--port", args->port, "Port of the server with --serve")->capture_default_str();
  cmd->add_flag("--serve", args->serve, "Then serve the catalog (STAC, district tables, tiles) on 127.0.0.1:PORT until Ctrl-C");
  cmd->callback([args, &global] { run_demo(*args, global); });
}

}  // namespace sco::app
