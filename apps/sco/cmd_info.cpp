// sco info FILE [--json] [--stats]: what a raster is (grid, CRS, bands, nodata, layout).
#include <cstdio>

#include "cli_common.hpp"
#include "io/raster_info.hpp"

namespace sco::app {

void register_info(CLI::App& app, GlobalOptions& global) {
  struct Args {
    std::string path;
    bool stats = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("info", "Describe a raster: size, grid, CRS, bounds, bands, nodata, layout");
  cmd->add_option("FILE", args->path, "Any raster GDAL reads (GeoTIFF, NetCDF, JP2, ...)")->required();
  cmd->add_flag("--stats", args->stats, "Also compute exact min, max, mean and stddev of every band");
  cmd->footer("Example: sco info data/sample/L7_ETMs.tif --json");
  cmd->callback([args, &global] {
    const auto info = io::raster_info(args->path, args->stats);
    if (global.json) {
      std::printf("%s\n", info.dump(2).c_str());
    } else {
      std::fputs(io::raster_info_text(info).c_str(), stdout);
    }
  });
}

}  // namespace sco::app
