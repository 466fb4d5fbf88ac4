#pragma once
// A finished openEO batch job's results joining the node's catalog in one transaction: one item (the
// job's id) in the owner's collection of job results, every result file an asset with its size and
// SHA-256, provenance.json (the process graph and its SHA-256, the items read, sco's version, the
// times) as a metadata asset, the processing extension, signed by the node; the collection's
// visibility set in the same transaction; the audit entry written ahead and confirmed by the commit.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/store.hpp"

namespace sco::catalog {

struct JobResultFile {
  std::string path, media_type, title, datetime;
};

struct JobPublication {
  std::string catalog_dir;
  std::string collection, collection_title;
  std::string visibility;  // the collection's ("owner:user:NAME": the owner and admins only)
  std::string job_id, title;
  std::vector<JobResultFile> files;
  std::string provenance_path;  // written by the caller
  std::string process_sha256;   // of the process graph's canonical JSON
  std::string finished;         // RFC 3339: the item's datetime
  std::string owner;
  std::vector<double> bbox;  // WGS 84, for results without a raster (a vector cube's geometries)
};

// Returns the stored item.
nlohmann::json publish_job(CatalogStore& store, const JobPublication& job);
// Removes the job's item (its files are the caller's); false when there was none.
bool unpublish_job(CatalogStore& store, const std::string& catalog_dir, const std::string& collection, const std::string& job_id);

}  // namespace sco::catalog
