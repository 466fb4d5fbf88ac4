#pragma once
// The TAXII 2.1 server (OASIS TAXII Version 2.1, 10 June 2021) over the node's intel store:
//   GET  /taxii2/                                      discovery (one API root)
//   GET  /taxii2/sco/                                  the API root
//   GET  /taxii2/sco/collections/[ID/]                 the collections the caller may read or write
//   GET  /taxii2/sco/collections/ID/objects/           added_after, limit, next, match[id|type|version|spec_version]
//   POST /taxii2/sco/collections/ID/objects/           an envelope (or bundle) of signed objects -> 202 status
//   GET  /taxii2/sco/collections/ID/objects/OID/[versions/]
//   GET  /taxii2/sco/collections/ID/manifest/
//   GET  /taxii2/sco/status/SID/
// Media type application/taxii+json;version=2.1 both ways (406 / 415 otherwise); errors as TAXII error
// messages. Partner and admin tokens read the sharing-level collections and write the inbound one
// (admins read it too); readers get 403, anonymous callers 401 (discovery and the API root are open).
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "intel/exchange.hpp"
#include "server/stac_api.hpp"

namespace sco::server {

inline constexpr const char* kTaxiiType = "application/taxii+json;version=2.1";

struct TaxiiLimits {
  std::size_t max_page = 10000;       // objects per page
  std::size_t default_page = 1000;
  std::size_t max_post_objects = 10000;
  std::size_t max_content_length = 1 << 20;  // advertised; the server's body limit
};

class TaxiiApi {
 public:
  TaxiiApi(intel::IntelStore& store, std::string catalog_dir, const security::NodeKeys& keys, TaxiiLimits limits);
  ApiResponse handle(const ApiRequest& r, const std::string& accept, const std::string& content_type);
  // A TAXII error message.
  static ApiResponse error(int status, const std::string& title, const std::string& description, const nlohmann::json& details = nullptr);
  // The allow-list posts' rules are checked against (refreshed by the intel service).
  void set_allow(std::vector<intel::Range> allow);

 private:
  ApiResponse discovery(const ApiRequest& r) const;
  ApiResponse api_root() const;
  ApiResponse collection_list(const ApiRequest& r) const;
  ApiResponse objects(const ApiRequest& r, const intel::CollectionInfo& c, const std::string& object_id, bool manifest, bool versions);
  ApiResponse post_objects(const ApiRequest& r, const intel::CollectionInfo& c);
  ApiResponse status(const std::string& id);
  const intel::CollectionInfo* find_collection(const std::string& id) const;

  intel::IntelStore& store_;
  std::string dir_;
  const security::NodeKeys& keys_;
  TaxiiLimits limits_;
  std::vector<intel::CollectionInfo> collections_;
  std::mutex allow_mutex_;
  std::vector<intel::Range> allow_;
};

// Whether an Accept header admits TAXII 2.1 responses.
bool accepts_taxii(const std::string& accept);

}  // namespace sco::server
