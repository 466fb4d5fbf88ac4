#pragma once
// Federation sync: a partner's collection pulled through its STAC API into this node's catalog.
//   1. the partner's collection and every item of it are listed (paged, following `next` links on
//      the partner's own origin only);
//   2. items whose signed content is unchanged since the last sync are skipped (incremental);
//   3. every new or changed item's signature is verified against this node's trusted keys, and every
//      asset must carry a file:checksum, before any byte of an asset is fetched;
//   4. assets are downloaded into DIR/sync/staging (named by their expected SHA-256, so that an
//      interrupted sync continues them with Range requests) and each is checked against its signed
//      size and checksum;
//   5. only when every item and asset of the batch passed are the files moved under
//      DIR/synced/COLLECTION/ITEM/ and the items, the removals and the collection committed in one
//      catalog transaction. Any failure leaves the catalog as it was.
// Received items keep the partner's content and signature byte for byte (only asset hrefs point to
// the local copies, and hrefs are outside the signature); the collection records where it came from
// in "sco:origin".
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "federation/http_client.hpp"

namespace sco::federation {

struct SyncOptions {
  std::string from;        // the partner's base URL: http(s)://host:port[/prefix], with or without /stac
  std::string collection;  // the partner's collection id (kept here as is: it is part of the signed items)
  ClientOptions client;
  std::string catalog_dir;
  std::string visibility;  // this node's visibility of the copy; empty: the partner's
  int threads = 4;         // parallel downloads
  int page_size = 1000;    // items per listing request
  // Called as downloads finish: (assets done, assets to fetch).
  std::function<void(std::int64_t, std::int64_t)> progress;
};

struct SyncReport {
  std::string collection, from;
  std::int64_t listed = 0, added = 0, updated = 0, unchanged = 0, removed = 0;
  std::int64_t assets_downloaded = 0, assets_reused = 0;
  std::uint64_t bytes_downloaded = 0;
  double seconds = 0;
  double list_seconds = 0, fetch_seconds = 0, commit_seconds = 0;  // listing + checks, downloads, placing + commit
  std::vector<std::string> signers;
};

// A sync that was refused: what failed, item by item; nothing was committed.
class SyncRejected : public core::Error {
 public:
  SyncRejected(const std::string& message, std::vector<std::string> problems)
      : core::Error(core::ErrorCode::kInvalidInput, message), problems_(std::move(problems)) {}
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

SyncReport sync_collection(const SyncOptions& options);

// For `sco verify` on an item as a partner serves it: fetches each asset with an http(s) href into a
// temporary file under `scratch_dir` and compares it with the signed file:size and file:checksum.
// The token (options.token) goes only to `token_origin` (scheme://host:port, one the user named or
// a partner this node syncs from; empty: to none), never to an origin taken from the item, whose
// links and hrefs no signature covers. Returns what fails, one line each.
std::vector<std::string> check_remote_assets(const nlohmann::json& item, const ClientOptions& options, const std::string& token_origin,
                                             const std::string& scratch_dir);

// The origins (scheme://host:port) of the partners this node syncs from, as their collections here
// record them: where `sco verify` may send a token without being told.
std::vector<std::string> partner_origins(const std::string& catalog_dir);

}  // namespace sco::federation
