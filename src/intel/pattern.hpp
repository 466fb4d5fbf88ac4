#pragma once
// STIX 2.1 patterns (STIX 2.1 section 9, "STIX Patterning"): parsed in full for their syntax
// (observation expressions joined by AND / OR / FOLLOWEDBY with WITHIN, REPEATS and START / STOP
// qualifiers; comparison expressions with = != < <= > >= IN LIKE MATCHES ISSUBSET ISSUPERSET, NOT,
// EXISTS; string, integer, float, boolean, t'', h'' and b'' constants), so that a pattern sco cannot
// read is refused with its column. What sco acts on is narrower: a pattern that is only an OR of
// `ipv4-addr:value` / `ipv6-addr:value` equalities or ISSUBSET ranges names addresses to deny.
#include <string>
#include <string_view>
#include <vector>

#include "intel/net.hpp"

namespace sco::intel {

struct PatternSummary {
  std::vector<Range> addresses;  // the addresses and ranges compared to (= or ISSUBSET, not negated)
  bool only_addresses = false;   // the pattern matches exactly those addresses (an OR of such comparisons)
};

// Throws core::Error (kInvalidInput) "pattern: ... at column N" on a syntax error.
PatternSummary parse_stix_pattern(std::string_view pattern);

}  // namespace sco::intel
