#include "catalog/publish_job.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "catalog/ingest.hpp"
#include "core/digest.hpp"
#include "core/version.hpp"
#include "security/audit.hpp"
#include "security/keys.hpp"

namespace sco::catalog {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

json file_asset(const std::string& path, const std::string& type, const std::string& title, const std::string& role) {
  return {{"href", path}, {"type", type}, {"title", title}, {"roles", json::array({role})},
          {"file:checksum", "1220" + core::sha256_file(path)}, {"file:size", fs::file_size(path)}};
}

// The item: geometry and projection from the first GeoTIFF or netCDF result when there is one, else the
// box of the vector cube's geometries; one asset per file.
json job_item(const JobPublication& job) {
  json item;
  for (const auto& f : job.files) {
    if (f.path.ends_with(".tif") || f.path.ends_with(".nc")) {
      item = raster_item(f.path, job.collection, {.id = job.job_id, .datetime = job.finished}).item;
      break;
    }
  }
  if (item.is_null()) {
    const auto& b = job.bbox.size() == 4 ? job.bbox : std::vector<double>{-180, -90, 180, 90};
    const json ring = json::array({{b[0], b[1]}, {b[2], b[1]}, {b[2], b[3]}, {b[0], b[3]}, {b[0], b[1]}});
    item = {{"type", "Feature"}, {"stac_version", "1.0.0"}, {"stac_extensions", json::array({kFileExtension})}, {"id", job.job_id},
            {"collection", job.collection}, {"geometry", {{"type", "Polygon"}, {"coordinates", json::array({ring})}}}, {"bbox", b},
            {"properties", {{"datetime", job.finished}}}, {"links", json::array()}};
  }
  item["assets"] = json::object();
  for (std::size_t k = 0; k < job.files.size(); ++k) {
    const auto& f = job.files[k];
    json a = file_asset(f.path, f.media_type, f.title, "data");
    if (!f.datetime.empty()) a["datetime"] = f.datetime;
    item["assets"][fs::path(f.path).filename().string()] = a;
  }
  item["assets"]["provenance.json"] = file_asset(job.provenance_path, "application/json", "provenance", "metadata");
  json& props = item["properties"];
  props["title"] = job.title.empty() ? "openEO job " + job.job_id : job.title;
  props["processing:software"] = {{"sco", core::kVersion}};
  props["processing:lineage"] = fmt::format("openEO process graph (sha256 {}), batch job {}", job.process_sha256, job.job_id);
  props["processing:level"] = "L4";
  props["sco:owner"] = job.owner;
  item["stac_extensions"].push_back(kProcessingExtension);
  return item;
}

}  // namespace

json publish_job(CatalogStore& store, const JobPublication& job) {
  const auto keys = security::NodeKeys::load_or_create(job.catalog_dir);
  json item = job_item(job);
  security::sign_item(item, keys);
  const std::string checksum = core::sha256_hex(item.dump());
  store.transaction([&] {
    json c = store.collection(job.collection).value_or(new_collection(job.collection, job.collection_title, job.collection_title, ""));
    c["sco:visibility"] = job.visibility;
    store.put_collection(c);
    store.put_item(item, checksum);
    store.refresh_extent(job.collection);
    const auto entry = security::audit_ahead(job.catalog_dir, keys, "openeo.job.register",
                                             {{"job", job.job_id}, {"owner", job.owner}, {"collection", job.collection}, {"process_sha256", job.process_sha256}});
    store.confirm_audit(entry.seq, entry.hash);
  });
  return item;
}

bool unpublish_job(CatalogStore& store, const std::string& catalog_dir, const std::string& collection, const std::string& job_id) {
  bool removed = false;
  const auto keys = security::NodeKeys::load_or_create(catalog_dir);
  store.transaction([&] {
    removed = store.delete_item(collection, job_id);
    if (!removed) return;
    store.refresh_extent(collection);
    const auto entry = security::audit_ahead(catalog_dir, keys, "openeo.job.unregister", {{"job", job_id}, {"collection", collection}});
    store.confirm_audit(entry.seq, entry.hash);
  });
  return removed;
}

}  // namespace sco::catalog
