#include <atomic>

#include <cpl_vsi.h>
#include <fmt/format.h>

#include "core/error.hpp"
#include "io/gdal_session.hpp"
#include "run/run.hpp"

namespace sco::run {

AreaOfInterest AreaOfInterest::from_file(const std::string& path, const std::string& layer, const std::string& id_field) {
  return {io::read_zones(path, layer, id_field), path, layer, id_field, ""};
}

AreaOfInterest AreaOfInterest::from_geojson(const std::string& text, const std::string& id_field) {
  io::init_gdal();
  static std::atomic<int> counter{0};
  const std::string name = fmt::format("/vsimem/sco-aoi-{}.geojson", counter.fetch_add(1));
  VSILFILE* f = VSIFileFromMemBuffer(name.c_str(), reinterpret_cast<GByte*>(const_cast<char*>(text.data())), text.size(), FALSE);
  if (!f) core::fail(core::ErrorCode::kIo, "cannot stage the area of interest in memory");
  VSIFCloseL(f);
  struct Unlink {
    std::string name;
    ~Unlink() { VSIUnlink(name.c_str()); }
  } unlink{name};
  try {
    AreaOfInterest a{io::read_zones(name, "", id_field), "GeoJSON", "", id_field, text};
    a.zones.path = "GeoJSON";
    return a;
  } catch (const core::Error& e) {
    std::string why = e.what();
    for (std::size_t at = why.find(name); at != std::string::npos; at = why.find(name)) why.replace(at, name.size(), "the GeoJSON");
    throw core::Error(e.code(), "area of interest: " + why);
  }
}

AreaOfInterest AreaOfInterest::from_feature_table(const catalog::CatalogStore& store, const std::string& table_id, const std::string& id_field) {
  const auto table = store.feature_table(table_id);
  if (!table) core::fail(core::ErrorCode::kNotFound, "the catalog has no district table '{}'", table_id);
  const std::string field = id_field.empty() ? table->value("id_column", std::string()) : id_field;
  return from_file((*table)["path"].get<std::string>(), "", field == "fid" ? "" : field);
}

}  // namespace sco::run
