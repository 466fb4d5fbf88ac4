#pragma once
// Fault points for tests. Where `SCO_CRASH_AT` names the point, the process ends there at once, as
// if killed (no destructors, no rollback but the database's own), so that tests can show what a
// crash at that moment leaves behind; where `SCO_FAIL_AT` names it, an Error is thrown there (a
// clean failure). `NAME@RANK` fires only on that MPI rank of a run started by mpirun. Unset
// (always, outside tests), a point costs one comparison.
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/error.hpp"

namespace sco::core {

namespace fault_detail {
// True when `spec` (NAME or NAME@RANK) names the point `name` on this process's rank.
inline bool names(const char* spec, const char* name) {
  if (spec == nullptr) return false;
  const char* at = std::strchr(spec, '@');
  const std::size_t len = at ? static_cast<std::size_t>(at - spec) : std::strlen(spec);
  if (len != std::strlen(name) || std::strncmp(spec, name, len) != 0) return false;
  if (!at) return true;
  const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
  if (!rank) rank = std::getenv("PMIX_RANK");
  return rank != nullptr && std::strcmp(rank, at + 1) == 0;
}
}  // namespace fault_detail

inline void crash_point(const char* name) {
  static const char* const at = std::getenv("SCO_CRASH_AT");
  if (at != nullptr && fault_detail::names(at, name)) std::_Exit(86);
  static const char* const fail_at = std::getenv("SCO_FAIL_AT");
  if (fail_at != nullptr && fault_detail::names(fail_at, name)) fail(ErrorCode::kIo, "failure injected at '{}' (SCO_FAIL_AT)", name);
}

}  // namespace sco::core
