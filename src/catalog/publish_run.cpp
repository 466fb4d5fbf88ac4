#include "catalog/publish_run.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "catalog/ingest.hpp"
#include "catalog/store.hpp"
#include "core/digest.hpp"
#include "core/fault.hpp"
#include "core/version.hpp"
#include "security/audit.hpp"
#include "security/keys.hpp"

namespace sco::catalog {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Every asset carries its size and SHA-256 (file extension), so that partners who sync the product
// can prove each file: from provenance.json's records, or hashed here.
class AssetFiles {
 public:
  explicit AssetFiles(const json& provenance) {
    for (const auto& rec : provenance["outputs"]) recorded_[rec["path"].get<std::string>()] = rec["sha256"].get<std::string>();
  }
  std::string recorded_sha(const std::string& path) const {
    const auto it = recorded_.find(fs::path(path).filename().string());
    return it != recorded_.end() ? it->second : std::string();
  }
  json with_file(json asset) {
    const std::string path = asset["href"].get<std::string>();
    auto it = fields_.find(path);
    if (it == fields_.end()) {
      std::string sha = recorded_sha(path);
      if (sha.empty()) sha = core::sha256_file(path);
      it = fields_.emplace(path, json{{"file:checksum", "1220" + sha}, {"file:size", fs::file_size(path)}}).first;
    }
    asset.update(it->second);
    return asset;
  }

 private:
  std::map<std::string, std::string> recorded_;
  std::map<std::string, json> fields_;
};

BuiltItem run_item(const RunPublication& run, const RunOutputFile& o, AssetFiles& files) {
  const fs::path out_dir(run.out_dir);
  const std::string item_id = out_dir.filename().string() + "-" + o.step;
  BuiltItem built = catalog::raster_item(o.path, run.collection,
                                         {.id = item_id, .datetime = run.start.empty() ? run.provenance["finished"].get<std::string>() : run.start},
                                         files.recorded_sha(o.path));
  json& props = built.item["properties"];
  if (!run.start.empty() && run.start != run.end) {
    props["datetime"] = nullptr;
    props["start_datetime"] = run.start;
    props["end_datetime"] = run.end;
  }
  props["title"] = o.title;
  if (!o.units.empty()) props["sco:units"] = o.units;
  props["processing:software"] = {{"sco", core::kVersion}};
  props["processing:lineage"] = fmt::format("recipe {} {} (sha256 {}), step {}", run.collection, run.recipe_version, run.recipe_hash, o.step);
  props["processing:level"] = "L4";
  built.item["stac_extensions"].push_back(kProcessingExtension);
  built.item["assets"]["provenance"] = files.with_file({{"href", (out_dir / "provenance.json").string()}, {"type", "application/json"},
                                                       {"title", "provenance"}, {"roles", json::array({"metadata"})}});
  built.item["assets"]["report"] = files.with_file(
      {{"href", (out_dir / "report.html").string()}, {"type", "text/html"}, {"title", "report"}, {"roles", json::array({"overview"})}});
  for (const auto& t : run.outputs) {
    if (t.kind == "table" && t.path.ends_with(".geojson")) {
      built.item["assets"]["table_" + t.step] =
          files.with_file({{"href", t.path}, {"type", "application/geo+json"}, {"title", t.title}, {"roles", json::array({"data"})}});
    }
  }
  return built;
}

json feature_table(const RunPublication& run, const RunOutputFile& o) {
  const fs::path out_dir(run.out_dir);
  const std::string name = out_dir.filename().string();
  const auto id_column = run.id_columns.find(o.step);
  return {{"id", name + "-" + o.step},
          {"title", o.title + " (" + name + ")"},
          {"description", run.title + ": " + o.title},
          {"path", o.path},
          {"id_column", id_column != run.id_columns.end() ? id_column->second : ""},
          {"recipe", run.collection},
          {"units", o.units},
          {"run", name},
          {"step", o.step},
          {"series", fs::exists(out_dir / (o.step + "_series.json"))},
          {"bbox", run.bbox}};
}

}  // namespace

std::vector<std::string> publish_run(const RunPublication& run) {
  std::vector<std::string> registered;
  const auto store = open_node_store(run.catalog_dir);
  const auto keys = security::NodeKeys::load_or_create(run.catalog_dir);
  store->transaction([&] {
    registered.clear();
    // The collection with its visibility first, in the transaction that adds the items.
    json c = store->collection(run.collection).value_or(new_collection(run.collection, run.title, run.description.empty() ? run.title : run.description, ""));
    if (!run.visibility.empty()) c["sco:visibility"] = run.visibility;
    store->put_collection(c);
    AssetFiles files(run.provenance);
    for (const auto& o : run.outputs) {
      if (o.kind != "raster") continue;
      BuiltItem built = run_item(run, o, files);
      security::sign_item(built.item, keys);
      store->put_item(built.item, built.sha256);
      registered.push_back(built.item["id"].get<std::string>());
    }
    store->refresh_extent(run.collection);
    for (const auto& o : run.outputs) {
      if (o.kind != "table" || !o.path.ends_with(".geojson")) continue;
      const json table = feature_table(run, o);
      store->put_feature_table(table);
      registered.push_back(table["id"].get<std::string>());
    }
    // Written ahead of the commit and confirmed by it.
    json detail = {{"recipe", run.collection}, {"recipe_sha256", run.recipe_hash}, {"out", run.out_dir}, {"items", registered}};
    if (!run.visibility.empty()) detail["visibility"] = run.visibility;
    core::crash_point("run.staged");
    const auto entry = security::audit_ahead(run.catalog_dir, keys, "run.register", detail);
    store->confirm_audit(entry.seq, entry.hash);
    core::crash_point("run.audited");
  });
  return registered;
}

}  // namespace sco::catalog
