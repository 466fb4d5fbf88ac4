#pragma once
// STAC items from raster files, and ingestion of files and folders into a catalog store.
// An item carries its footprint in WGS 84 (the grid's outline, densified, reprojected), its bbox, its
// datetime (given, from the file's metadata, its CF time axis or a date in its name), and the raster,
// projection and file extensions: bands with data type, nodata, scale and offset; EPSG code, shape
// and transform; size and SHA-256 (as a multihash).
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/store.hpp"

namespace sco::catalog {

inline constexpr const char* kRasterExtension = "https://stac-extensions.github.io/raster/v1.1.0/schema.json";
inline constexpr const char* kProjectionExtension = "https://stac-extensions.github.io/projection/v1.1.0/schema.json";
inline constexpr const char* kFileExtension = "https://stac-extensions.github.io/file/v2.1.0/schema.json";
inline constexpr const char* kEoExtension = "https://stac-extensions.github.io/eo/v1.1.0/schema.json";
inline constexpr const char* kProcessingExtension = "https://stac-extensions.github.io/processing/v1.2.0/schema.json";

struct ItemOptions {
  std::string id = {};  // empty: the file's stem
  // Used where the file has no date of its own: RFC 3339 or YYYY-MM-DD, or an interval START/END
  // (STAC's datetime null with start_datetime and end_datetime: an acquisition known only within
  // bounds). Empty: the file must carry a date.
  std::string datetime = {};
  std::string description = {};  // the item's description (STAC common metadata); empty: none
  // A sensor sco knows (`sco index --list`: landsat7, landsat8, sentinel2 and aliases): the file's
  // bands get STAC eo:bands (name, common name, centre wavelength, width) by its band layout.
  std::string sensor = {};
};

// The item for one raster file (not yet stored) and the file's SHA-256. Throws naming the file when
// it is not a raster, has no CRS, or has no date and none is given.
struct BuiltItem {
  nlohmann::json item;
  std::string sha256;
};
BuiltItem raster_item(const std::string& path, const std::string& collection, const ItemOptions& options,
                      const std::string& known_sha256 = "");

// A new, empty collection document (STAC 1.0, license "proprietary" unless given).
nlohmann::json new_collection(const std::string& id, const std::string& title, const std::string& description,
                              const std::string& license);

struct IngestReport {
  int inserted = 0, updated = 0, unchanged = 0, skipped = 0;
  std::vector<std::string> skipped_files;  // not rasters
  std::vector<std::string> item_ids;
};

struct IngestOptions {
  // Apply to every new or changed item (datetime, description, sensor); their `id` is not used:
  // each item's id comes from its file.
  ItemOptions items = {};
  // The collection's visibility (public, partners, private), written in the same transaction as the
  // items and before them: a collection never exists, even uncommitted, with less protection than
  // asked. Empty: unchanged (public for a new collection).
  std::string visibility = {};
  bool progress = false;
  std::function<void(nlohmann::json&)> sign = {};  // signs each new or changed item (the node's key)
  // Called inside the transaction once every item is staged, just before the commit: where the
  // audit entry is written ahead (CatalogStore::confirm_audit). Throwing rolls everything back.
  std::function<void(const IngestReport&)> before_commit = {};
};

// Ingests files and folders (recursively) into `collection`, creating it when absent. A file whose
// SHA-256 equals the stored item's is left alone. All of it lands in one transaction, or nothing.
// A file named explicitly that is not a readable raster is an error; in folders, files that are
// not rasters are skipped and reported.
IngestReport ingest(CatalogStore& store, const std::vector<std::string>& paths, const std::string& collection, const IngestOptions& options);

}  // namespace sco::catalog
