// sco ingest PATH... --collection ID: rasters (files, folders recursively) into the node's STAC
// catalog (--catalog DIR, else $SCO_HOME, else ./sco-data).
#include <cstdio>

#include <nlohmann/json.hpp>

#include "catalog/ingest.hpp"
#include "catalog/store.hpp"
#include "cli_common.hpp"
#include "security/audit.hpp"
#include "security/keys.hpp"

namespace sco::app {

void register_ingest(CLI::App& app, GlobalOptions& global) {
  struct Args {
    std::vector<std::string> paths;
    std::string collection, datetime, visibility, description, sensor;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("ingest", "Register rasters in the node's STAC catalog");
  cmd->add_option("PATH", args->paths, "Raster files or folders (searched recursively)")->required();
  cmd->add_option("--collection", args->collection, "Collection id (created when absent)")->required();
  cmd->add_option("--datetime", args->datetime,
                  "Date of files that carry none (YYYY-MM-DD or RFC 3339), or START/END when it is known only within "
                  "bounds (the item gets datetime null, start_datetime and end_datetime)");
  cmd->add_option("--sensor", args->sensor,
                  "The sensor of multispectral files (landsat7, landsat8, sentinel2 or an alias; see sco index --list): "
                  "their bands get STAC eo:bands with names, common names and wavelengths");
  cmd->add_option("--description", args->description, "Description of the new or changed items (e.g. where their date comes from)");
  cmd->add_option("--visibility", args->visibility, "Who may see the collection: public (default), partners or private")
      ->check(CLI::IsMember({"public", "partners", "private"}));
  cmd->footer("Each raster becomes a STAC item: WGS 84 footprint and bbox, datetime (metadata, CF time axis or file\n"
              "name), bands, data type, nodata, EPSG, SHA-256. Re-ingesting an unchanged file changes nothing.\n"
              "The catalog is DIR/catalog.sqlite with DIR from --catalog, $SCO_HOME or ./sco-data.");
  cmd->callback([args, &global] {
    const auto store = catalog::open_node_store(global.catalog_dir());
    const auto keys = security::NodeKeys::load_or_create(global.catalog_dir());
    const auto before = store->collection(args->collection);
    const std::string was = before ? before->value("sco:visibility", std::string("public")) : std::string();
    catalog::IngestOptions options{.items = {.datetime = args->datetime, .description = args->description, .sensor = args->sensor},
                                   .visibility = args->visibility,
                                   .progress = global.progress(),
                                   .sign = [&keys](nlohmann::json& item) { security::sign_item(item, keys); }};
    // The audit entry is written ahead, inside the transaction, and confirmed by its commit.
    options.before_commit = [&](const catalog::IngestReport& r) {
      nlohmann::json detail = {{"collection", args->collection}, {"paths", args->paths}, {"inserted", r.inserted}, {"updated", r.updated},
                               {"unchanged", r.unchanged}};
      if (!args->visibility.empty() && args->visibility != was) detail["visibility"] = args->visibility;
      const auto entry = security::audit_ahead(global.catalog_dir(), keys, "ingest", detail);
      store->confirm_audit(entry.seq, entry.hash);
    };
    const auto r = catalog::ingest(*store, args->paths, args->collection, options);
    if (global.json) {
      nlohmann::json j = {{"collection", args->collection}, {"inserted", r.inserted}, {"updated", r.updated},
                          {"unchanged", r.unchanged}, {"skipped", r.skipped_files}, {"items", r.item_ids},
                          {"catalog", global.catalog_dir()}};
      std::printf("%s\n", j.dump(2).c_str());
    } else if (!global.quiet) {
      std::printf("%s: %d new, %d updated, %d unchanged item%s; %d file%s skipped (not rasters) -> %s/catalog.sqlite\n",
                  args->collection.c_str(), r.inserted, r.updated, r.unchanged, r.unchanged == 1 ? "" : "s", r.skipped,
                  r.skipped == 1 ? "" : "s", global.catalog_dir().c_str());
    }
  });
}

}  // namespace sco::app
