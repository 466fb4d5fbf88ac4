// sco demo: the whole chain on the real sample data. For now: the spectral indices of the Landsat-7
// scene over Olinda, written as COGs, with a summary table.
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "algebra/spectral_index.hpp"
#include "cli_common.hpp"
#include "raster_job.hpp"

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
      GlobalOptions quiet = global;
      quiet.quiet = true;
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
    if (global.json) {
      std::printf("%s\n", rows.dump(2).c_str());
    } else if (!global.quiet) {
      std::printf("\nInspect one with: sco info %s/ndvi.tif\n", args->out.c_str());
    }
  });
}

}  // namespace sco::app
