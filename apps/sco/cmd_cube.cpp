// sco cube --input FILE[:VARIABLE] --op OP -o OUT.tif: one per-pixel operation over a time series
// (the bands of a NetCDF variable or of a multi-band raster), streamed block by block.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "core/version.hpp"
#include "cube/series_op.hpp"
#include "io/block_pipeline.hpp"
#include "io/raster_dataset.hpp"
#include "io/time_axis.hpp"

namespace sco::app {

namespace {
class SeriesWorker : public io::BlockWorker {
 public:
  SeriesWorker(const cube::SeriesOp& op, const std::vector<double>& t) : eval_(op, t) {}
  void process(std::span<const core::BlockView> inputs, const core::MutableBlockView& out) override {
    steps_.assign(inputs.begin(), inputs.end());
    eval_.evaluate(steps_, out);
  }

 private:
  cube::SeriesEvaluator eval_;
  std::vector<core::BlockView> steps_;
};
}  // namespace

void register_cube(CLI::App& app, GlobalOptions& global) {
  struct Args {
    std::string input, op;
    OutputOptions out;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("cube", "Per-pixel operation over a time series (a NetCDF variable or a band stack)");
  cmd->add_option("--input", args->input, "FILE[:VARIABLE], e.g. bcsd_obs_1999.nc:tas; each band is one time step")->required();
  cmd->add_option("--op", args->op, "Operation (see below)")->required();
  cmd->add_option("-o,--output", args->out.path, "Output GeoTIFF (.tif), float32")->required();
  cmd->add_option("--format", args->out.format, "COG (default) or GTiff");
  cmd->add_option("--co", args->out.creation_options, "GDAL creation option KEY=VALUE (repeatable)");
  cmd->footer("Operations: " + cube::series_ops_help() +
              "\nTimes come from the CF time axis when there is one (slopes per year), else the step number.\n"
              "Example: sco cube --input bcsd_obs_1999.nc:tas --op count_above:25 -o hot_months.tif");
  cmd->callback([args, &global] {
    const cube::SeriesOp op = cube::parse_series_op(args->op);
    const std::string path = io::resolve_variable(args->input);
    const io::RasterDataset ds = io::RasterDataset::open(path);
    const int steps = ds.band_count();
    std::vector<double> t(static_cast<std::size_t>(steps));
    std::string time_note = "step number";
    try {
      const io::TimeAxis axis = io::read_time_axis(ds);
      if (static_cast<int>(axis.dates.size()) == steps) {
        const auto cal = cube::parse_calendar(axis.calendar);
        for (int k = 0; k < steps; ++k) t[static_cast<std::size_t>(k)] = cube::days_from_epoch(axis.dates[static_cast<std::size_t>(k)], cal) / 365.25;
        time_note = "years (CF time axis: " + axis.units + ")";
      }
    } catch (const core::Error&) {
      for (int k = 0; k < steps; ++k) t[static_cast<std::size_t>(k)] = k;
    }
    std::vector<io::PipelineInput> inputs;
    for (int b = 1; b <= steps; ++b) inputs.push_back({path, b});
    OutputOptions out = args->out;
    out.type = "float32";
    io::OutputSpec spec = out.to_spec();
    spec.metadata = {{"SCO_CUBE_OP", op.name}, {"SCO_INPUT", path}, {"SCO_TIME", time_note},
                     {"SCO_VERSION", core::kVersion}};
    spec.band_description = op.name;
    io::PipelineOptions options;
    options.threads = global.effective_threads();
    options.progress = global.progress();
    const auto result = io::run_block_pipeline(
        inputs, spec, [&] { return std::make_unique<SeriesWorker>(op, t); }, options);
    if (global.json) {
      nlohmann::json j = {{"output", spec.path}, {"operation", op.name}, {"steps", steps}, {"time", time_note},
                          {"width", result.grid.width}, {"height", result.grid.height},
                          {"seconds", result.compute_seconds + result.finalize_seconds}};
      std::printf("%s\n", j.dump(2).c_str());
    } else if (!global.quiet) {
      std::printf("wrote %s: %s over %d steps (%dx%d, time in %s) in %.2f s\n", spec.path.c_str(), op.name.c_str(), steps,
                  result.grid.width, result.grid.height, time_note.c_str(), result.compute_seconds + result.finalize_seconds);
    }
  });
}

}  // namespace sco::app
