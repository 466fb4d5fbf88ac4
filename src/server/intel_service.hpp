#pragma once
// The node's intel at work while it serves: a thread that, every second, turns the audit log's new
// entries into STIX objects (so that a burst is in the TAXII collections within seconds) and reloads
// the deny rules with the allow-list (loopback, `sco intel allow` entries, and the addresses of the
// partners' own nodes: the origins of STAC syncs and intel pulls). Requests ask `denied(address)`.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "intel/exchange.hpp"

namespace sco::server {

class TaxiiApi;

class IntelService {
 public:
  IntelService(std::string catalog_dir, const security::NodeKeys& keys, intel::DeriveOptions options);
  ~IntelService();
  IntelService(const IntelService&) = delete;
  IntelService& operator=(const IntelService&) = delete;

  void start(TaxiiApi* taxii);  // the TAXII API gets the allow-list for posted indicators
  // Ends the refreshing thread (idempotent); called before the TAXII API given to start() goes away.
  void stop();
  intel::IntelStore& store() { return *store_; }
  // The rule that denies this client address, "" when none.
  std::string denied(const std::string& address) const;
  // One round of work (derive, reload), as the thread does it.
  void refresh();

 private:
  std::string dir_;
  const security::NodeKeys& keys_;
  intel::DeriveOptions options_;
  std::unique_ptr<intel::IntelStore> store_;
  TaxiiApi* taxii_ = nullptr;
  mutable std::mutex mutex_;
  std::shared_ptr<const intel::DenyList> deny_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::uintmax_t audit_size_ = static_cast<std::uintmax_t>(-1);
  int round_ = 0;
  std::int64_t generation_ = -1;
  std::vector<intel::Range> allow_;
};

// The hosts of the partners' own nodes (STAC sync origins and intel pull origins).
std::vector<std::string> partner_hosts(const std::string& catalog_dir, intel::IntelStore& store);

}  // namespace sco::server
