#include "run/zonal_table.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "core/error.hpp"
#include "io/raster_dataset.hpp"
#include "zonal/zonal_engine.hpp"

namespace sco::run {

using core::ErrorCode;

namespace {

std::string join_ids(const std::vector<std::string>& ids) {
  std::string s;
  for (std::size_t i = 0; i < ids.size() && i < 10; ++i) s += (i ? ", " : "") + ids[i];
  if (ids.size() > 10) s += fmt::format(" and {} more", ids.size() - 10);
  return s;
}

bool same_grid(const core::Grid& a, const core::Grid& b) { return a.same_geometry(b) && io::same_crs(a.crs_wkt, b.crs_wkt); }

// Bands grouped by grid: one coverage computation per group.
std::vector<std::vector<std::size_t>> group_by_grid(const std::vector<ZonalBand>& bands) {
  std::vector<std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < bands.size(); ++i) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return same_grid(bands[g[0]].grid, bands[i].grid); });
    if (it == groups.end()) groups.push_back({i});
    else it->push_back(i);
  }
  return groups;
}

// The table: one column per band and statistic; frac expands into one column per value.
io::ResultTable build_table(const ZonalTableRequest& req, const io::VectorZones& zones,
                            const std::vector<std::vector<zonal::BandResult>>& per_band) {
  io::ResultTable table;
  const std::size_t n = zones.ids.size();
  table.id_column = req.id_column.empty() ? "fid" : req.id_column;
  table.ids = zones.ids;
  table.rows.assign(n, {});
  const bool prefix = req.bands.size() > 1;
  for (std::size_t b = 0; b < req.bands.size(); ++b) {
    const std::string pre = prefix ? req.bands[b].label + "_" : "";
    for (std::size_t s = 0; s < req.stats.size(); ++s) {
      if (req.stats[s].kind != zonal::StatKind::kFrac) {
        table.columns.push_back(pre + req.stats[s].name);
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
  return table;
}

}  // namespace

ZonalBand zonal_band(const std::string& label, const std::string& path, int band) {
  const io::RasterDataset ds = io::RasterDataset::open(path);
  ds.band(band);  // throws naming the file and its band count
  return {label, {path, band}, ds.grid()};
}

std::vector<ZonalBand> zonal_bands(const std::vector<std::string>& specs) {
  std::vector<ZonalBand> out;
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
      out.push_back({ref.band == 1 && ds.band_count() == 1 ? stem : fmt::format("{}_b{}", stem, ref.band), {ref.path, ref.band}, grid});
    } else {
      for (int b = 1; b <= ds.band_count(); ++b) out.push_back({ds.band_count() == 1 ? stem : fmt::format("{}_b{}", stem, b), {ref.path, b}, grid});
    }
  }
  return out;
}

ZoneSet::ZoneSet(io::VectorZones zones) : zones_(std::move(zones)) {}

std::vector<std::string> ZoneSet::reading_warnings() const {
  std::vector<std::string> w;
  if (!zones_.repaired.empty()) {
    w.push_back(fmt::format("{} invalid geometr{} repaired with GEOS: {}", zones_.repaired.size(), zones_.repaired.size() == 1 ? "y" : "ies",
                            join_ids(zones_.repaired)));
  }
  if (!zones_.empty.empty()) {
    w.push_back(fmt::format("{} zone{} without a polygon geometry: {}", zones_.empty.size(), zones_.empty.size() == 1 ? "" : "s",
                            join_ids(zones_.empty)));
  }
  return w;
}

const std::vector<zonal::Zone>& ZoneSet::for_grid(const core::Grid& grid, std::vector<std::string>& warnings) {
  auto it = std::find_if(grids_.begin(), grids_.end(), [&](const OnGrid& g) { return same_grid(g.grid, grid); });
  if (it == grids_.end()) {
    OnGrid g{grid, {}, {}};
    g.zones = io::zones_for_grid(zones_, grid, g.warnings);
    grids_.push_back(std::move(g));
    it = grids_.end() - 1;
  }
  warnings.insert(warnings.end(), it->warnings.begin(), it->warnings.end());
  return it->zones;
}

ZonalTable compute_zonal_table(ZoneSet& zones, const ZonalTableRequest& req, const ExecOptions& options) {
  const zonal::Needs needs = zonal::needs_of(req.stats);
  if (needs.weights && !req.weights) core::fail(ErrorCode::kInvalidInput, "weighted_mean and weighted_sum need --weights FILE[:BAND]");
  ZonalTable out;
  out.warnings = zones.reading_warnings();
  const std::size_t n = zones.size();
  std::vector<std::vector<zonal::BandResult>> per_band(req.bands.size());
  std::vector<bool> overlaps(n, false);
  for (const auto& group : group_by_grid(req.bands)) {
    const ZonalBand& first = req.bands[group[0]];
    const core::Grid& grid = first.grid;
    if (needs.weights && !same_grid(grid, req.weights->grid)) {
      core::fail(ErrorCode::kInvalidInput, "--weights '{}' is {} in {}, but '{}' is {} in {}: they must share one grid", req.weights->spec.path,
                 req.weights->grid.describe(), io::crs_label(req.weights->grid.crs_wkt), first.spec.path, grid.describe(),
                 io::crs_label(grid.crs_wkt));
    }
    const auto model = io::area_model(grid.crs_wkt);
    if (!model.known) out.warnings.push_back(fmt::format("'{}' has no CRS: areas are in squared CRS units", first.spec.path));
    const auto& zone_geoms = zones.for_grid(grid, out.warnings);
    std::vector<io::BandSpec> specs;
    for (std::size_t i : group) specs.push_back(req.bands[i].spec);
    zonal::ZonalOptions opt;
    {
      const io::RasterDataset ds = io::RasterDataset::open(first.spec.path);
      opt.locality_rows = std::max(1, ds.band(first.spec.band).block_height);
      opt.locality_cols = std::max(1, ds.band(first.spec.band).block_width);
    }
    opt.threads = options.threads;
    opt.progress = options.terminal_progress;
    opt.on_progress = options.on_progress;
    opt.cancel = options.cancel;
    const io::BandSpec weights = needs.weights ? req.weights->spec : io::BandSpec{};
    const auto results = zonal::compute_zonal(zone_geoms, grid, zonal::CellAreaModel{model.geographic, model.metres_per_unit}, req.stats,
                                              [&] { return io::make_gdal_band_reader(specs, weights); }, opt);
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
    if (!overlaps[z] && zones.vector().geometries[z]) outside.push_back(zones.vector().ids[z]);
  }
  if (!outside.empty()) {
    out.warnings.push_back(fmt::format("{} zone{} outside every raster (empty rows): {}", outside.size(), outside.size() == 1 ? "" : "s",
                                       join_ids(outside)));
  }
  out.table = build_table(req, zones.vector(), per_band);
  return out;
}

}  // namespace sco::run
