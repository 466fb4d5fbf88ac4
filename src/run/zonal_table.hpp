#pragma once
// Statistics per zone as a table: bands grouped by grid (one coverage computation per grid), the
// zones projected once per grid and kept for every later table on it, `frac` expanded into one column
// per value. `sco zonal`, the demo and a recipe's zonal steps run through here.
#include <string>
#include <utility>
#include <vector>

#include "core/grid.hpp"
#include "io/gdal_band_reader.hpp"
#include "io/table_writer.hpp"
#include "io/vector_zones.hpp"
#include "run/expression_job.hpp"
#include "zonal/statistic.hpp"

namespace sco::run {

struct ZonalBand {
  std::string label;  // the column prefix when there are several bands
  io::BandSpec spec;
  core::Grid grid;
};

// "[NAME=]FILE[:BAND]" texts to bands (every band of a file without BAND), opened and checked.
std::vector<ZonalBand> zonal_bands(const std::vector<std::string>& specs);
// One band of a file, opened and checked; `label` names its columns.
ZonalBand zonal_band(const std::string& label, const std::string& path, int band);

// The zones read once, and their conversion to each grid's CRS and cells done once per grid.
class ZoneSet {
 public:
  explicit ZoneSet(io::VectorZones zones);
  const io::VectorZones& vector() const { return zones_; }
  std::size_t size() const { return zones_.ids.size(); }
  // The zones on `grid` (computed at the first call for that grid); its warnings added each time.
  const std::vector<zonal::Zone>& for_grid(const core::Grid& grid, std::vector<std::string>& warnings);
  // Repaired and empty geometries, one warning each kind.
  std::vector<std::string> reading_warnings() const;

 private:
  struct OnGrid {
    core::Grid grid;
    std::vector<zonal::Zone> zones;
    std::vector<std::string> warnings;
  };
  io::VectorZones zones_;
  std::vector<OnGrid> grids_;
};

struct ZonalTableRequest {
  std::vector<ZonalBand> bands;
  std::vector<zonal::StatSpec> stats;
  std::optional<ZonalBand> weights;  // weighted statistics; on the bands' grid
  std::string id_column;              // default: "fid"
};

struct ZonalTable {
  io::ResultTable table;
  std::vector<std::string> warnings;
};

ZonalTable compute_zonal_table(ZoneSet& zones, const ZonalTableRequest& request, const ExecOptions& options);

}  // namespace sco::run
