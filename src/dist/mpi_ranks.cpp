#include "dist/mpi_ranks.hpp"

#include <mpi.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/cancel.hpp"
#include "core/error.hpp"

namespace sco::dist {

using core::ErrorCode;

namespace {

constexpr int kFailTag = (1 << 20) + 1;

class MpiRanks final : public core::RankLink {
 public:
  MpiRanks() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void send(int to, int tag, std::span<const std::byte> bytes) override {
    if (bytes.size() > static_cast<std::size_t>(INT_MAX)) {
      core::fail(ErrorCode::kInternal, "a message of {} bytes for rank {} is larger than MPI can send at once", bytes.size(), to);
    }
    MPI_Request req;
    MPI_Isend(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, to, tag, MPI_COMM_WORLD, &req);
    core::PollBackoff backoff;
    for (;;) {
      int done = 0;
      MPI_Test(&req, &done, MPI_STATUS_IGNORE);
      if (done) return;
      if (!check_peers()) {
        MPI_Cancel(&req);
        MPI_Request_free(&req);
        raise();
      }
      backoff.pause();
    }
  }

  void receive_with(int from, int tag, const std::function<std::byte*(std::size_t)>& place) override {
    core::PollBackoff backoff;
    while (!try_receive_with(from, tag, place)) backoff.pause();
  }

  std::optional<std::pair<int, std::vector<std::byte>>> try_receive_any(int tag) override {
    std::vector<std::byte> out;
    const auto source = try_receive_with(MPI_ANY_SOURCE, tag, [&out](std::size_t n) {
      out.resize(n);
      return out.data();
    });
    if (!source) return std::nullopt;
    return std::make_pair(*source, std::move(out));
  }

  void announce_failure(const std::string& message) noexcept override {
    std::lock_guard lock(mutex_);
    if (announced_ || failure_) return;  // a peer's failure is not announced again
    announced_ = true;
    for (int r = 0; r < size_; ++r) {
      if (r == rank_) continue;
      MPI_Request req;
      MPI_Isend(message.data(), static_cast<int>(std::min<std::size_t>(message.size(), 4096)), MPI_CHAR, r, kFailTag, MPI_COMM_WORLD, &req);
      MPI_Request_free(&req);
    }
  }

  bool run_failed() const override {
    std::lock_guard lock(mutex_);
    return announced_ || failure_.has_value();
  }

  bool peer_failed() const override {
    std::lock_guard lock(mutex_);
    return failure_.has_value();
  }

 private:
  // A message from `from` (or MPI_ANY_SOURCE) under `tag`, if one has arrived, written where
  // `place(n)` says: its source. Throws when a peer failed or this process was interrupted.
  std::optional<int> try_receive_with(int from, int tag, const std::function<std::byte*(std::size_t)>& place) {
    int found = 0;
    MPI_Message msg;
    MPI_Status status;
    MPI_Improbe(from, tag, MPI_COMM_WORLD, &found, &msg, &status);
    if (!found) {
      if (!check_peers()) raise();
      return std::nullopt;
    }
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    MPI_Mrecv(place(static_cast<std::size_t>(count)), count, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
    return status.MPI_SOURCE;
  }

  // False once a peer announced its failure or this process was interrupted.
  bool check_peers() {
    if (core::cancel_requested()) return false;
    std::lock_guard lock(mutex_);
    if (failure_) return false;
    int found = 0;
    MPI_Message msg;
    MPI_Status status;
    MPI_Improbe(MPI_ANY_SOURCE, kFailTag, MPI_COMM_WORLD, &found, &msg, &status);
    if (!found) return true;
    int count = 0;
    MPI_Get_count(&status, MPI_CHAR, &count);
    std::string text(static_cast<std::size_t>(count), '\0');
    MPI_Mrecv(text.data(), count, MPI_CHAR, &msg, MPI_STATUS_IGNORE);
    failure_ = std::make_pair(status.MPI_SOURCE, text);
    return false;
  }

  [[noreturn]] void raise() {
    std::lock_guard lock(mutex_);
    if (!failure_) core::throw_if_cancelled();
    if (!failure_) core::fail(ErrorCode::kCancelled, "interrupted");
    core::fail(ErrorCode::kIo, "rank {} of {} failed: {}", failure_->first, size_, failure_->second);
  }

  int rank_ = 0, size_ = 1;
  mutable std::mutex mutex_;
  std::optional<std::pair<int, std::string>> failure_;
  bool announced_ = false;
};

}  // namespace

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"}) {
    if (std::getenv(v) != nullptr) return true;
  }
  return false;
}

namespace {

// Whether the site chose OpenMPI's point-to-point layers itself: OMPI_MCA_pml, or a "pml" line in the
// user's or the system's MCA parameter file naming the layers to use (a list of exclusions such as
// Debian's "pml = ^ucx" chooses nothing, unless it excludes ob1).
bool pml_chosen() {
  if (std::getenv("OMPI_MCA_pml") != nullptr) return true;
  std::vector<std::string> files = {"/etc/openmpi/openmpi-mca-params.conf"};
  if (const char* home = std::getenv("HOME")) files.push_back(std::string(home) + "/.openmpi/mca-params.conf");
  for (const auto& f : files) {
    std::ifstream in(f);
    for (std::string line; std::getline(in, line);) {
      const auto start = line.find_first_not_of(" \t");
      if (start == std::string::npos || line.compare(start, 3, "pml") != 0) continue;
      const auto eq = line.find('=', start + 3);
      if (eq == std::string::npos || line.find_first_not_of(" \t", start + 3) != eq) continue;  // pml_foo = ...
      const auto value = line.find_first_not_of(" \t", eq + 1);
      if (value == std::string::npos || line[value] != '^' || line.find("ob1", value) != std::string::npos) return true;
    }
  }
  return false;
}

// OpenMPI 4.1 opens and probes every point-to-point layer it may use in MPI_Init (UCX, or with
// Debian's "pml = ^ucx" the cm layer and its transports, for InfiniBand, RoCE, Omni-Path): 0.2 s of
// every launch here, half of `mpirun -np 2 sco --version`, with nothing to find on a machine that has
// no such device, where ob1 over shared memory and TCP is what runs anyway. So without one (an empty
// or missing /sys/class/infiniband), and unless the site chose its layers, ob1 is asked for.
void prefer_ob1_without_rdma() {
  if (pml_chosen()) return;
  std::error_code ec;
  const std::filesystem::path devices = "/sys/class/infiniband";
  if (std::filesystem::exists(devices, ec) && !std::filesystem::is_empty(devices, ec)) return;
  ::setenv("OMPI_MCA_pml", "ob1", 0);
}

bool loopback_peer(int fd) {
  sockaddr_storage peer{};
  socklen_t len = sizeof peer;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) return false;
  if (peer.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(peer);
    return (ntohl(v4.sin_addr.s_addr) >> 24) == 127;
  }
  if (peer.ss_family == AF_INET6) return IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6&>(peer).sin6_addr);
  return false;
}

// The rank's link to its node's PMIx server (mpirun or orted) is a TCP connection over loopback that
// PMIx 4.2 leaves with Nagle's algorithm on. MPI_Finalize's fence sends a few small messages in a
// row; the second waits for the first's acknowledgement, which the kernel delays by 40 ms: 45 ms of
// every MPI_Finalize here, 3 ms with TCP_NODELAY. MPI's own TCP transport already disables Nagle
// (btl_tcp_use_nagle = 0); these are the only TCP sockets sco has open right after MPI_Init.
void no_delay_to_local_server() {
  for (int fd = 3; fd < 1024; ++fd) {
    int type = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM || !loopback_peer(fd)) continue;
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
}

}  // namespace

MpiSession::MpiSession(int* argc, char*** argv) {
  prefer_ob1_without_rdma();
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS) {
    core::fail(ErrorCode::kIo, "MPI could not start (MPI_Init_thread failed)");
  }
  no_delay_to_local_server();
  if (provided < MPI_THREAD_MULTIPLE) {
    MPI_Finalize();
    core::fail(ErrorCode::kInternal, "this MPI library does not support threads (MPI_THREAD_MULTIPLE); run with --threads 1 per rank");
  }
  ranks_ = std::make_unique<MpiRanks>();
  core::set_process_ranks(ranks_.get());
}

MpiSession::~MpiSession() {
  // Every rank waits here, sleeping between polls, for the others to be done: MPI_Finalize's own
  // barrier spins a core for as long as the slowest rank still works (rank 0 writing the output).
  // Not after a peer's failure (it will not come), nor when interrupted.
  if (ranks_->size() > 1 && !ranks_->run_failed() && !core::cancel_requested()) {
    try {
      ranks_->gather({});
      ranks_->broadcast({});
    } catch (...) {
    }
  }
  core::set_process_ranks(nullptr);
  ranks_.reset();
  MPI_Finalize();
}

core::RankLink& MpiSession::ranks() { return *ranks_; }

}  // namespace sco::dist
