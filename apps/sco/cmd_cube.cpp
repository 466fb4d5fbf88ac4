// sco cube --input FILE[:VARIABLE] --op OP -o OUT.tif: one per-pixel operation over a time series
// (the bands of a NetCDF variable or of a multi-band raster), streamed block by block.
#include <cstdio>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "run/series_worker.hpp"
#include "cube_job.hpp"
#include "core/error.hpp"
#include "core/version.hpp"
#include "cube/series_op.hpp"
#include "io/block_pipeline.hpp"
#include "io/raster_dataset.hpp"
#include "io/time_axis.hpp"

namespace sco::app {


CubeJobResult run_cube_job(const CubeRequest& req, const GlobalOptions& global) {
  const cube::SeriesOp op = cube::parse_series_op(req.op);
  const std::string path = io::resolve_variable(req.input);
  const io::RasterDataset ds = io::RasterDataset::open(path);
  const int steps = ds.band_count();
  std::vector<std::size_t> all(static_cast<std::size_t>(steps));
  for (std::size_t k = 0; k < all.size(); ++k) all[k] = k;
  std::vector<double> t = cube::decimal_years({}, cube::Calendar::kStandard, all);
  std::string time_note = "step number";
  cube::SeasonLayout seasons = cube::season_layout({}, all);
  std::vector<double> labels = cube::step_labels({}, cube::Calendar::kStandard, all);
  if (const auto axis = io::find_time_axis(ds); axis && static_cast<int>(axis->dates.size()) == steps) {
    t = cube::decimal_years(axis->dates, cube::parse_calendar(axis->calendar), all);
    time_note = "years (CF time axis: " + axis->units + ")";
    seasons = cube::season_layout(axis->dates, all);
    labels = cube::step_labels(axis->dates, cube::parse_calendar(axis->calendar), all);
  }
  const bool trend = op.kind == cube::SeriesOpKind::kSenSlope || op.kind == cube::SeriesOpKind::kMkZ || op.kind == cube::SeriesOpKind::kMkP;
  const bool spi = op.kind == cube::SeriesOpKind::kSpi;
  cube::SeasonLayout months;
  if (spi) {
    const auto axis = io::find_time_axis(ds);
    if (!axis || static_cast<int>(axis->dates.size()) != steps) {
      core::fail(core::ErrorCode::kInvalidInput, "'{}': {} needs monthly steps with dates (a CF time axis)", req.input, op.name);
    }
    months = cube::month_layout(axis->dates, all);
  }
  std::vector<io::PipelineInput> inputs;
  for (int b = 1; b <= steps; ++b) inputs.push_back({path, b});
  OutputOptions out = req.out;
  out.type = "float32";
  io::OutputSpec spec = out.to_spec();
  spec.metadata = {{"SCO_CUBE_OP", op.name}, {"SCO_INPUT", path}, {"SCO_TIME", time_note},
                   {"SCO_VERSION", core::kVersion}};
  spec.band_description = op.name;
  spec.tile = io::series_tile(inputs.size());  // many steps: smaller windows, bounded memory
  std::vector<std::string> warnings;
  if (spi) {
    int years = 0;
    for (std::size_t i = 0; i < all.size(); ++i) years += months.season[i] == months.season.back();
    spec.metadata.emplace_back("SCO_SPI", fmt::format("{} months, at the last step; fitted over every year of the series", op.param));
    if (steps < static_cast<int>(op.param)) {
      core::fail(core::ErrorCode::kInvalidInput, "'{}': {} monthly step(s), fewer than {}'s scale of {} months", req.input, steps, op.name, op.param);
    }
    if (years < req.min_years) {
      core::fail(core::ErrorCode::kInvalidInput, "'{}': {} to fit {} (--min-years; the WMO recommends 30)", req.input,
                 cube::record_too_short(years, req.min_years), op.name);
    }
  }
  if (trend) {
    const int years = cube::years_observed(nullptr, seasons);
    const std::string method = cube::trend_method(seasons, years, req.min_years);
    spec.metadata.emplace_back("SCO_TREND_METHOD", method);
    if (years < req.min_years) warnings.push_back(fmt::format("{}: every pixel is nodata (set --min-years to change it)", method));
  }
  io::PipelineOptions options;
  options.threads = global.effective_threads();
  options.progress = global.progress();
  const auto result = io::run_block_pipeline(
      inputs, spec,
      [&]() -> std::unique_ptr<io::BlockWorker> {
        if (trend) return std::make_unique<run::SeriesWorker>(op, t, seasons, req.min_years);
        if (spi) return std::make_unique<run::SeriesWorker>(op, t, months, req.min_years, true);
        if (op.kind == cube::SeriesOpKind::kDateOfMax || op.kind == cube::SeriesOpKind::kDateOfMin) return std::make_unique<run::SeriesWorker>(op, t, labels);
        return std::make_unique<run::SeriesWorker>(op, t);
      },
      options);
  return CubeJobResult{spec.path, op.name, steps, time_note, result, warnings};
}

void register_cube(CLI::App& app, GlobalOptions& global) {
  auto args = std::make_shared<CubeRequest>();
  CLI::App* cmd = app.add_subcommand("cube", "Per-pixel operation over a time series (a NetCDF variable or a band stack)");
  cmd->add_option("--input", args->input, "FILE[:VARIABLE], e.g. bcsd_obs_1999.nc:tas; each band is one time step")->required();
  cmd->add_option("--op", args->op, "Operation (see below)")->required();
  cmd->add_option("-o,--output", args->out.path, "Output GeoTIFF (.tif), float32")->required();
  cmd->add_option("--min-years", args->min_years,
                  "Trends (sen_slope, mk_z, mk_p) and spi:K: the fewest years with data a pixel's value is given from (default 10)");
  cmd->add_option("--format", args->out.format, "COG (default) or GTiff");
  cmd->add_option("--co", args->out.creation_options, "GDAL creation option KEY=VALUE (repeatable)");
  cmd->footer("Operations: " + cube::series_ops_help() +
              "\nTimes come from the CF time axis when there is one (slopes per year), else the step number. Trends of series\n"
              "with several steps a year are seasonal (Seasonal Kendall test, seasonal Sen slope over calendar months).\n"
              "Example: sco cube --input bcsd_obs_1999.nc:tas --op count_above:25 -o hot_months.tif");
  cmd->callback([args, &global] {
    const CubeJobResult r = run_cube_job(*args, global);
    print_warnings(global, r.warnings);
    if (global.json) {
      nlohmann::json j = {{"output", r.output}, {"operation", r.operation}, {"steps", r.steps}, {"time", r.time_note},
                          {"width", r.pipeline.grid.width}, {"height", r.pipeline.grid.height},
                          {"seconds", r.pipeline.compute_seconds + r.pipeline.finalize_seconds}};
      std::printf("%s\n", j.dump(2).c_str());
    } else if (!global.quiet) {
      std::printf("wrote %s: %s over %d steps (%dx%d, time in %s) in %.2f s\n", r.output.c_str(), r.operation.c_str(),
                  r.steps, r.pipeline.grid.width, r.pipeline.grid.height, r.time_note.c_str(),
                  r.pipeline.compute_seconds + r.pipeline.finalize_seconds);
    }
  });
}

}  // namespace sco::app
