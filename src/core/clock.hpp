#pragma once
// The current time as RFC 3339 UTC ("2026-11-23T21:05:00Z"), for provenance, audit and tokens.
#include <string>

namespace sco::core {

std::string utc_now();

}  // namespace sco::core
