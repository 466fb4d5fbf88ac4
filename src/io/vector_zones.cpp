#include "io/vector_zones.hpp"

#include <gdal_priv.h>
#include <ogrsf_frmts.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <vector>

#include <fmt/format.h>

#include "core/error.hpp"
#include "io/gdal_session.hpp"
#include "io/raster_dataset.hpp"

namespace sco::io {

using core::ErrorCode;

void GeometryDeleter::operator()(OGRGeometry* g) const { OGRGeometryFactory::destroyGeometry(g); }

namespace {

void add_polygon(const OGRPolygon* poly, zonal::Zone& zone) {
  zonal::Polygon p;
  auto ring_points = [](const OGRLinearRing* ring) {
    std::vector<zonal::Point> pts;
    if (!ring) return pts;
    pts.reserve(static_cast<std::size_t>(ring->getNumPoints()));
    for (int i = 0; i < ring->getNumPoints(); ++i) pts.push_back({ring->getX(i), ring->getY(i)});
    return pts;
  };
  p.exterior = ring_points(poly->getExteriorRing());
  for (int i = 0; i < poly->getNumInteriorRings(); ++i) p.holes.push_back(ring_points(poly->getInteriorRing(i)));
  if (!p.exterior.empty()) zone.parts.push_back(std::move(p));
}

// Polygons of any geometry: polygons, multipolygons, collections (MakeValid output), curves.
void collect_polygons(const OGRGeometry* g, zonal::Zone& zone) {
  if (!g || g->IsEmpty()) return;
  switch (wkbFlatten(g->getGeometryType())) {
    case wkbPolygon:
      add_polygon(g->toPolygon(), zone);
      break;
    case wkbMultiPolygon:
    case wkbGeometryCollection:
    case wkbMultiSurface: {
      const auto* coll = g->toGeometryCollection();
      for (int i = 0; i < coll->getNumGeometries(); ++i) collect_polygons(coll->getGeometryRef(i), zone);
      break;
    }
    case wkbCurvePolygon: {
      GeometryPtr lin(g->getLinearGeometry());
      collect_polygons(lin.get(), zone);
      break;
    }
    default:
      break;  // points and lines enclose no area
  }
}

// A shapefile's .dbf header against the file (dBase III layout: record count at bytes 4-7, header
// length at 8-9 and record length at 10-11, little-endian; 32-byte field descriptors after a 32-byte
// header, each with its field's length at byte 16, ended by 0x0D; a record is a deletion flag and
// the fields). OGR reads a header it cannot make sense of as a table without fields, or with fewer
// records, and says nothing.
void check_dbf(const std::string& shp) {
  std::string dbf = shp.substr(0, shp.size() - 4) + ".dbf";
  if (::access(dbf.c_str(), F_OK) != 0) dbf = shp.substr(0, shp.size() - 4) + ".DBF";
  std::ifstream f(dbf, std::ios::binary);
  if (!f) return;  // no table: OGR gives FIDs only
  unsigned char h[12] = {};
  f.read(reinterpret_cast<char*>(h), sizeof h);
  f.seekg(0, std::ios::end);
  const auto size = static_cast<std::uint64_t>(f.tellg());
  const std::uint64_t records = h[4] | (h[5] << 8) | (h[6] << 16) | (std::uint64_t{h[7]} << 24);
  const unsigned header = h[8] | (h[9] << 8), record = h[10] | (h[11] << 8);
  const std::uint64_t needed = header + records * record;
  // The field descriptors up to the terminator: their lengths add up to the record's.
  std::vector<unsigned char> d(std::min<std::uint64_t>(header, size));
  f.clear();
  f.seekg(0);
  f.read(reinterpret_cast<char*>(d.data()), static_cast<std::streamsize>(d.size()));
  std::size_t at = 32, fields_bytes = 1;
  while (at < d.size() && d[at] != 0x0D) {
    if (at + 32 > d.size()) break;
    fields_bytes += d[at + 16];
    at += 32;
  }
  const bool layout_ok = at < d.size() && d[at] == 0x0D && fields_bytes == record;
  if (size < 32 || header < 33 || record == 0 || needed > size || !layout_ok) {
    core::fail(ErrorCode::kInvalidInput,
               "'{}': the table's header is corrupt (header of {} bytes, {} records of {} bytes: {} bytes needed, the file has {})", dbf, header,
               records, record, needed, size);
  }
}

}  // namespace

std::vector<double> VectorZones::numeric_field(const std::string& name) const {
  const auto it = std::find(field_names.begin(), field_names.end(), name);
  if (it == field_names.end()) {
    std::string names;
    for (std::size_t i = 0; i < field_names.size(); ++i) names += (i ? ", " : "") + field_names[i];
    core::fail(ErrorCode::kNotFound, "layer '{}' of '{}' has no field '{}' (fields: {})", layer, path, name, names);
  }
  std::vector<double> values;
  for (const auto& text : fields[static_cast<std::size_t>(it - field_names.begin())]) {
    char* end = nullptr;
    const double x = std::strtod(text.c_str(), &end);
    values.push_back(text.empty() || *end ? std::nan("") : x);
  }
  return values;
}

VectorZones read_zones(const std::string& path, const std::string& layer_name, const std::string& id_field) {
  init_gdal();
  refuse_special_file(path);
  clear_gdal_error();
  auto* ds = static_cast<GDALDataset*>(GDALOpenEx(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, nullptr, nullptr));
  if (!ds) {
    VSIStatBufL st;
    if (VSIStatL(path.c_str(), &st) != 0) core::fail(ErrorCode::kNotFound, "file not found: {}", path);
    core::fail(ErrorCode::kInvalidInput, "cannot open '{}' as a vector layer: {}", path, take_gdal_error());
  }
  std::unique_ptr<GDALDataset, void (*)(GDALDataset*)> guard(ds, [](GDALDataset* d) { GDALClose(d); });
  if (std::string(ds->GetDriver()->GetDescription()) == "ESRI Shapefile" && path.size() > 4 &&
      (path.compare(path.size() - 4, 4, ".shp") == 0 || path.compare(path.size() - 4, 4, ".SHP") == 0)) {
    check_dbf(path);
  }
  OGRLayer* layer = nullptr;
  if (layer_name.empty()) {
    if (ds->GetLayerCount() == 0) core::fail(ErrorCode::kInvalidInput, "'{}' has no vector layer", path);
    layer = ds->GetLayer(0);
  } else {
    layer = ds->GetLayerByName(layer_name.c_str());
    if (!layer) {
      std::string names;
      for (int i = 0; i < ds->GetLayerCount(); ++i) names += (i ? ", " : "") + std::string(ds->GetLayer(i)->GetName());
      core::fail(ErrorCode::kNotFound, "'{}' has no layer '{}' (layers: {})", path, layer_name, names);
    }
  }
  VectorZones out;
  out.path = path;
  out.layer = layer->GetName();
  out.id_field = id_field;
  if (const OGRSpatialReference* srs = layer->GetSpatialRef()) {
    char* wkt = nullptr;
    const char* opts[] = {"FORMAT=WKT2_2019", nullptr};
    if (srs->exportToWkt(&wkt, opts) == OGRERR_NONE && wkt) out.crs_wkt = wkt;
    CPLFree(wkt);
  }
  int id_index = -1;
  OGRFeatureDefn* defn = layer->GetLayerDefn();
  if (!id_field.empty()) {
    id_index = defn->GetFieldIndex(id_field.c_str());
    if (id_index < 0) {
      std::string names;
      for (int i = 0; i < defn->GetFieldCount(); ++i) names += (i ? ", " : "") + std::string(defn->GetFieldDefn(i)->GetNameRef());
      core::fail(ErrorCode::kNotFound, "layer '{}' of '{}' has no field '{}' (fields: {})", out.layer, path, id_field,
                 names);
    }
  }
  for (int i = 0; i < defn->GetFieldCount(); ++i) out.field_names.emplace_back(defn->GetFieldDefn(i)->GetNameRef());
  out.fields.resize(out.field_names.size());
  auto field_text = [defn](OGRFeature* f, int index) -> std::string {
    if (defn->GetFieldDefn(index)->GetType() == OFTReal && f->IsFieldSetAndNotNull(index)) {
      return fmt::format("{:.15g}", f->GetFieldAsDouble(index));  // 28801, not 28801.000000000000000
    }
    return f->GetFieldAsString(index);
  };
  layer->ResetReading();
  clear_gdal_error();
  while (OGRFeature* f = layer->GetNextFeature()) {
    std::unique_ptr<OGRFeature, void (*)(OGRFeature*)> fg(f, [](OGRFeature* x) { OGRFeature::DestroyFeature(x); });
    std::string id = id_index < 0 ? std::to_string(f->GetFID()) : field_text(f, id_index);
    for (std::size_t i = 0; i < out.fields.size(); ++i) out.fields[i].push_back(field_text(f, static_cast<int>(i)));
    OGRGeometry* g = f->StealGeometry();
    GeometryPtr geom(g);
    if (!geom || geom->IsEmpty()) {
      out.empty.push_back(id);
      geom.reset();
    } else if (!geom->IsValid()) {
      clear_gdal_error();
      GeometryPtr fixed(geom->MakeValid());
      if (!fixed) {
        core::fail(ErrorCode::kInvalidInput, "feature {} of '{}' has an invalid geometry that GEOS cannot repair: {}",
                   id, path, take_gdal_error());
      }
      geom = std::move(fixed);
      out.repaired.push_back(id);
    }
    out.ids.push_back(std::move(id));
    out.geometries.push_back(std::move(geom));
  }
  // A read that failed part-way (a truncated or corrupted file) ends the loop like the last feature:
  // GDAL's error, or fewer features than the layer's own count, tells them apart.
  if (const std::string why = take_gdal_error(); !why.empty()) {
    core::fail(ErrorCode::kInvalidInput, "layer '{}' of '{}': reading failed after {} features (truncated or corrupted?): {}", out.layer, path,
               out.ids.size(), why);
  }
  if (const GIntBig declared = layer->GetFeatureCount(FALSE); declared >= 0 && static_cast<std::size_t>(declared) != out.ids.size()) {
    core::fail(ErrorCode::kInvalidInput, "layer '{}' of '{}' declares {} features but {} could be read (truncated or corrupted)", out.layer, path,
               declared, out.ids.size());
  }
  if (out.ids.empty()) core::fail(ErrorCode::kInvalidInput, "layer '{}' of '{}' has no features", out.layer, path);
  return out;
}

std::vector<zonal::Zone> zones_for_grid(const VectorZones& zones, const core::Grid& grid,
                                        std::vector<std::string>& warnings) {
  std::unique_ptr<OGRCoordinateTransformation, void (*)(OGRCoordinateTransformation*)> ct(
      nullptr, [](OGRCoordinateTransformation* c) { OGRCoordinateTransformation::DestroyCT(c); });
  if (zones.crs_wkt.empty() || grid.crs_wkt.empty()) {
    if (zones.crs_wkt.empty() != grid.crs_wkt.empty()) {
      warnings.push_back(fmt::format("'{}' or the raster has no CRS: coordinates are taken as they are", zones.path));
    }
  } else if (!same_crs(zones.crs_wkt, grid.crs_wkt)) {
    OGRSpatialReference src, dst;
    src.importFromWkt(zones.crs_wkt.c_str());
    dst.importFromWkt(grid.crs_wkt.c_str());
    src.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    dst.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    clear_gdal_error();
    ct.reset(OGRCreateCoordinateTransformation(&src, &dst));
    if (!ct) {
      core::fail(ErrorCode::kInvalidInput, "cannot transform the zones of '{}' ({}) to the raster's CRS ({}): {}",
                 zones.path, crs_label(zones.crs_wkt), crs_label(grid.crs_wkt), take_gdal_error());
    }
  }
  std::vector<zonal::Zone> out(zones.geometries.size());
  for (std::size_t i = 0; i < zones.geometries.size(); ++i) {
    const OGRGeometry* g = zones.geometries[i].get();
    if (!g) continue;
    if (ct) {
      GeometryPtr copy(g->clone());
      if (copy->transform(ct.get()) != OGRERR_NONE) {
        core::fail(ErrorCode::kInvalidInput, "feature {} of '{}' cannot be transformed to {}", zones.ids[i], zones.path,
                   crs_label(grid.crs_wkt));
      }
      collect_polygons(copy.get(), out[i]);
    } else {
      collect_polygons(g, out[i]);
    }
  }
  return out;
}

}  // namespace sco::io
