#pragma once
// What the node lets openEO requests use. Synchronous requests (POST /result) are planned first and
// refused before any work when their plan exceeds a limit; batch jobs wait in a queue until memory
// and a slot are free (fair between users: the user who started a job least recently goes first).
#include <cstdint>

namespace sco::server {

struct OpenEoLimits {
  std::uint64_t sync_max_cells = 0;   // pixels x dates x bands one synchronous request may load; 0: sized from RAM
  std::uint64_t sync_max_memory = 0;  // bytes of its planned peak; 0: an eighth of RAM
  double sync_max_seconds = 60;       // its planned seconds
  int job_slots = 0;                  // batch jobs running at once; 0: half the cores (at least 1)
  std::uint64_t job_memory = 0;       // the planned peaks of running jobs add up to at most this; 0: half of RAM
  int jobs_per_user = 20;             // queued or running jobs of one user (more: 429)

  // The zeros replaced by sizes for a machine of `ram` bytes and `cores` cores.
  OpenEoLimits sized(std::uint64_t ram, int cores) const {
    OpenEoLimits l = *this;
    if (l.sync_max_cells == 0) l.sync_max_cells = ram / 4 / 4;
    if (l.sync_max_memory == 0) l.sync_max_memory = ram / 8;
    if (l.job_slots <= 0) l.job_slots = cores / 2 > 0 ? cores / 2 : 1;
    if (l.job_memory == 0) l.job_memory = ram / 2;
    return l;
  }
};

}  // namespace sco::server
