#pragma once
// One zonal-statistics job, shared by `sco zonal` and the demo.
#include <string>
#include <vector>

#include "cli_common.hpp"
#include "io/table_writer.hpp"

namespace sco::app {

struct ZonalRequest {
  std::vector<std::string> rasters;  // [NAME=]FILE[:BAND]
  std::string zones, layer, id, stats, weights, output;
};

struct ZonalJobResult {
  io::ResultTable table;
  std::vector<std::string> warnings;
  double seconds = 0.0;
  std::size_t zone_count = 0, band_count = 0, stat_count = 0;
};

// Computes the statistics and writes `output` when it is not empty.
ZonalJobResult run_zonal_job(const ZonalRequest& request, const GlobalOptions& global);

}  // namespace sco::app
