#pragma once
// Crash points for tests: where `SCO_CRASH_AT` names the point, the process ends there at once, as
// if killed (no destructors, no rollback but the database's own), so that tests can show what a
// crash at that moment leaves behind. Unset (always, outside tests), a point costs one comparison.
#include <cstdlib>
#include <cstring>

namespace sco::core {

inline void crash_point(const char* name) {
  static const char* const at = std::getenv("SCO_CRASH_AT");
  if (at != nullptr && std::strcmp(at, name) == 0) std::_Exit(86);
}

}  // namespace sco::core
