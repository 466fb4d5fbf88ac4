#include "server/intel_service.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "core/clock.hpp"
#include "federation/http_client.hpp"
#include "federation/sync.hpp"
#include "security/node_state.hpp"
#include "server/taxii_api.hpp"

namespace sco::server {

std::vector<std::string> partner_hosts(const std::string& catalog_dir, intel::IntelStore& store) {
  std::vector<std::string> origins = federation::partner_origins(catalog_dir);
  for (const auto& [key, value] : store.states("pull:")) origins.push_back(key.substr(5, key.find('|') - 5));
  std::vector<std::string> hosts;
  for (const auto& o : origins) {
    try {
      std::string host = federation::parse_url(o).host;
      if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
      if (std::find(hosts.begin(), hosts.end(), host) == hosts.end()) hosts.push_back(host);
    } catch (const std::exception&) {
    }
  }
  return hosts;
}

IntelService::IntelService(std::string catalog_dir, const security::NodeKeys& keys, intel::DeriveOptions options)
    : dir_(std::move(catalog_dir)), keys_(keys), options_(std::move(options)), store_(intel::open_intel_store(dir_)),
      deny_(std::make_shared<intel::DenyList>()) {}

IntelService::~IntelService() { stop(); }

void IntelService::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void IntelService::start(TaxiiApi* taxii) {
  taxii_ = taxii;
  refresh();
  thread_ = std::thread([this] {
    while (!stop_) {
      for (int i = 0; i < 10 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      try {
        refresh();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "sco serve: intel: %s\n", e.what());
      }
    }
  });
}

void IntelService::refresh() {
  const std::uint64_t size = security::node_state(dir_)->audit_end();
  if (size != audit_size_) {
    intel::derive_from_audit(*store_, dir_, keys_, options_);
    audit_size_ = size;
  }
  store_->checkpoint(16u << 20);  // after large posts or pulls, pages are read from the mapped file again
  // Rules change through pulls, posts and revocations (other processes too): reloaded every second;
  // the partners' addresses (name lookups) every 30 s.
  bool allow_changed = false;
  if (round_++ % 30 == 0 || allow_.empty()) {
    auto allow = intel::allow_ranges(*store_, partner_hosts(dir_, *store_));
    allow_changed = allow.size() != allow_.size() ||
                    !std::equal(allow.begin(), allow.end(), allow_.begin(), [](const intel::Range& a, const intel::Range& b) { return a.text() == b.text(); });
    allow_ = std::move(allow);
    if (taxii_) taxii_->set_allow(allow_);
  }
  // The rules are loaded again when they changed (any process), when one ends or starts, and when the
  // allow-list was refreshed.
  const std::int64_t generation = store_->rules_generation();
  const std::int64_t now = intel::epoch_ms(core::utc_now());
  if (generation == generation_ && now < deny_->next_expiry_ms() && !allow_changed) return;
  generation_ = generation;
  auto next = std::make_shared<intel::DenyList>();
  next->load(store_->rules(), allow_, core::utc_now());
  std::lock_guard lock(mutex_);
  deny_ = std::move(next);
}

std::string IntelService::denied(const std::string& address) const {
  std::shared_ptr<const intel::DenyList> d;
  {
    std::lock_guard lock(mutex_);
    d = deny_;
  }
  return d->denied(address);
}

}  // namespace sco::server
