#pragma once
// `sco intel pull`: a partner's STIX objects read through TAXII 2.1 (any server: sco's, medallion,
// OpenCTI's...). From a discovery or API root URL: the collections the token may read (or the one
// asked for), each paged with `next` from the `added_after` where the previous pull stopped. Each page
// is checked whole (STIX forms, Ed25519 signatures by trusted keys) and stored with the collection's
// new `added_after` in one transaction, or refused whole; its address indicators become deny rules.
// A server whose paging does not advance (a page of objects seen before, "more" with an empty page) is
// refused.
#include <functional>
#include <string>
#include <vector>

#include "federation/http_client.hpp"
#include "intel/exchange.hpp"

namespace sco::federation {

struct PullOptions {
  std::string from;        // a TAXII discovery URL or API root URL
  std::string collection;  // an id, title or alias; empty: every collection the token may read
  std::size_t page = 1000;
  std::size_t max_page_bytes = 256u << 20;
  ClientOptions client;
  std::string catalog_dir;
};

struct PulledCollection {
  std::string id, title;
  std::size_t pages = 0, objects = 0, stored = 0, duplicates = 0;
  std::vector<intel::Rule> rules;
  std::vector<std::string> refused_rules;
};

struct PullReport {
  std::string api_root;
  std::vector<PulledCollection> collections;
};

// Throws (naming the URL, the page and the first problems) when the partner cannot be read or a
// page is refused; pages before it stay stored.
PullReport pull_intel(const PullOptions& options, intel::IntelStore& store, const security::NodeKeys& keys,
                      const std::function<void(const PulledCollection&)>& on_page = {});

}  // namespace sco::federation
