#pragma once
// The current time as RFC 3339 UTC ("2026-11-23T21:05:00Z"), for provenance, audit and tokens.
#include <string>

namespace sco::core {

std::string utc_now();
// The same with milliseconds ("2026-11-23T21:05:00.123Z"), for versions that must order.
std::string utc_now_ms();

}  // namespace sco::core
