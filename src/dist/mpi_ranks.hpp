#pragma once
// sco's ranks over MPI (OpenMPI): started by `mpirun -np N sco ...` or Slurm's `srun`, each process
// is one rank of MPI_COMM_WORLD. Alone, sco never initialises MPI (a singleton MPI_Init costs a
// third of a second and starts helper processes).
//
// Waits poll (MPI_Improbe / MPI_Test with short sleeps) instead of blocking in MPI: OpenMPI's
// blocking calls spin a core, which on a rank of one thread takes the core from the work. Every
// wait also watches for a peer's failure message and for Ctrl-C / SIGTERM (mpirun's way of
// stopping the other ranks when one dies).
#include <memory>
#include <string>

#include "core/ranks.hpp"

namespace sco::dist {

// True when this process was started by an MPI launcher (mpirun, srun with PMIx).
bool launched_by_mpi();

class MpiSession {
 public:
  // Initialises MPI (MPI_THREAD_MULTIPLE) and registers the ranks as the process's.
  MpiSession(int* argc, char*** argv);
  ~MpiSession();  // MPI_Finalize
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  core::RankLink& ranks();

 private:
  std::unique_ptr<core::RankLink> ranks_;
};

}  // namespace sco::dist
