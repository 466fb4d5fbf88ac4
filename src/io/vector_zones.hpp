#pragma once
// Zones read from any OGR vector layer: ids, geometries in the layer's CRS (kept for outputs), and
// their conversion to zonal::Zone in a raster's CRS. Invalid geometries are repaired with GEOS
// (through OGR's MakeValid) and reported, never dropped silently.
#include <memory>
#include <string>
#include <vector>

#include "core/grid.hpp"
#include "zonal/coverage.hpp"

class OGRGeometry;

namespace sco::io {

struct GeometryDeleter {
  void operator()(OGRGeometry* g) const;
};
using GeometryPtr = std::unique_ptr<OGRGeometry, GeometryDeleter>;

struct VectorZones {
  std::string path;
  std::string layer;
  std::string id_field;  // empty: the feature id (FID)
  std::string crs_wkt;   // the layer's CRS (empty when it has none)
  std::vector<std::string> ids;
  std::vector<GeometryPtr> geometries;  // in the layer's CRS, repaired where needed; null for empty ones
  std::vector<std::string> repaired;    // ids of invalid geometries that were repaired
  std::vector<std::string> empty;       // ids of features without a polygon geometry
  // Every attribute field as text, per feature in the order of `ids` (reals as %.15g): residents,
  // vulnerability scores and the like, read with the geometries.
  std::vector<std::string> field_names;
  std::vector<std::vector<std::string>> fields;  // [field][feature]

  // A numeric attribute, NaN where empty or not a number. Throws kNotFound naming the fields.
  std::vector<double> numeric_field(const std::string& name) const;
};

// Throws naming the file, layer or field: a missing file, an unknown layer or id field (the error
// lists the fields), an empty layer.
VectorZones read_zones(const std::string& path, const std::string& layer, const std::string& id_field);

// The zones in the CRS of `grid` (reprojected on the fly). Throws when the CRS cannot be transformed.
// When the layer has no CRS, its coordinates are taken as the raster's (a warning is added).
std::vector<zonal::Zone> zones_for_grid(const VectorZones& zones, const core::Grid& grid,
                                        std::vector<std::string>& warnings);

}  // namespace sco::io
