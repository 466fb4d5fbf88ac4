#pragma once
// The processes one run is split across (sco started by mpirun or srun), as the engine sees them:
// a rank number, a count, and byte messages between ranks. The engine (the block pipeline, the
// zonal engine) splits its work through this interface; `dist/` implements it over MPI. Alone (no
// mpirun), `process_ranks()` is null and nothing changes.
//
// Every wait on another rank also watches for a peer's failure: when any rank fails, the others'
// waits throw an Error naming that rank and its message, so a run fails as a whole.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <deque>
#include <mutex>
#include <optional>
#include <span>
#include <utility>
#include <string>
#include <type_traits>
#include <vector>

#include "core/error.hpp"

namespace sco::core {

class RankLink {
 public:
  virtual ~RankLink() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Sends `bytes` to rank `to` under `tag` (0 <= tag < 2^20); returns once the buffer may be reused.
  virtual void send(int to, int tag, std::span<const std::byte> bytes) = 0;
  // The next message from `from` under `tag`, written where `place(n)` says for its n bytes.
  virtual void receive_with(int from, int tag, const std::function<std::byte*(std::size_t)>& place) = 0;
  // ...into `out`, resized to the message: a buffer of the message's size is written over, neither
  // cleared first nor reallocated.
  template <typename Byte>
  void receive_into(int from, int tag, std::vector<Byte>& out) {
    static_assert(sizeof(Byte) == 1);
    receive_with(from, tag, [&out](std::size_t n) {
      out.resize(n);
      return reinterpret_cast<std::byte*>(out.data());
    });
  }
  std::vector<std::byte> receive(int from, int tag) {
    std::vector<std::byte> out;
    receive_into(from, tag, out);
    return out;
  }
  // A message under `tag` from any rank if one has arrived (its source and bytes), without waiting;
  // throws as a wait does when a peer failed.
  virtual std::optional<std::pair<int, std::vector<std::byte>>> try_receive_any(int tag) = 0;
  // Rank 0 gets every rank's bytes, in rank order (its own first); the others get nothing.
  std::vector<std::vector<std::byte>> gather(std::span<const std::byte> mine);
  // Every rank gets rank 0's bytes (`bytes` is read on rank 0 only).
  std::vector<std::byte> broadcast(std::span<const std::byte> bytes);
  // Tells every other rank that this one failed (best effort, never throws; not again when the
  // failure came from a peer).
  virtual void announce_failure(const std::string& message) noexcept = 0;
  // A peer announced its failure (this rank's own error only repeats it).
  virtual bool peer_failed() const = 0;
  // This rank announced its failure, or a peer did: the run is over.
  virtual bool run_failed() const = 0;
};

// The ranks of this process's run; null when sco runs alone.
RankLink* process_ranks();
void set_process_ranks(RankLink* ranks);
// True on rank 0 or when alone: the rank that writes files and prints.
inline bool is_root_rank() { return process_ranks() == nullptr || process_ranks()->rank() == 0; }

// Tags the engine uses (distinct so that messages of one exchange never match another's).
enum RankTag : int { kTagGather = 1, kTagBroadcast = 2, kTagRequest = 3, kTagAssign = 4, kTagWindow = 5, kTagWindowData = 6,
               kTagWindowWritten = 7 };

// Sleeps between polls of a wait on other ranks: a few polls at once first (a message is usually on
// its way), then sleeps growing to a tenth of a millisecond, below a window's work. OpenMPI's blocking
// calls spin a core instead, which a rank of one thread needs for its work.
class PollBackoff {
 public:
  explicit PollBackoff(int max_delay_us = 100) : max_us_(max_delay_us) {}
  void pause();
  void reset() { spins_ = 0, delay_us_ = 10; }

 private:
  int max_us_;
  int spins_ = 0, delay_us_ = 10;
};

// Work handed out by rank 0 one index at a time, so that a rank that is faster (or less busy)
// takes more: the other ranks ask through an IndexFetcher, rank 0 answers each request with the
// next index or -1 (`answer_request`). A fetcher keeps `depth` requests in flight (no wait between
// two pieces of work) and, once told -1, collects its other answers: no message outlives the work.
class IndexFetcher {
 public:
  // `depth` requests kept in flight: each index taken is replaced by a new request at once, so that
  // the next one is there when asked for. Without `ahead`, a request is sent only when an index is
  // asked for: for coarse work (a few ranges per rank), where an index held ahead by one rank is one
  // another rank, idle, could have had.
  IndexFetcher(RankLink& link, int depth, bool ahead = true);
  // The next index, or nothing when rank 0 has none left; any thread.
  std::optional<std::int64_t> next();

 private:
  void request();
  RankLink& link_;
  int depth_;
  bool ahead_;
  std::mutex mutex_;
  std::deque<std::int64_t> ready_;
  int in_flight_ = 0;
  bool exhausted_ = false;
};

// Rank 0's side: a request's source and the depth its fetcher keeps; answers with an index or -1.
struct IndexRequest {
  int source = 0;
  int depth = 1;
};
std::optional<IndexRequest> try_take_request(RankLink& link);
void answer_request(RankLink& link, int source, std::int64_t index);

// Plain values and byte strings into a message and back; a short or malformed message is an
// internal error (ranks run one binary).
class ByteWriter {
 public:
  template <typename T>
  void put(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    const auto* p = reinterpret_cast<const std::byte*>(&v);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void put_bytes(std::span<const std::byte> b) {
    put<std::uint64_t>(b.size());
    bytes_.insert(bytes_.end(), b.begin(), b.end());
  }
  void put_string(const std::string& s) { put_bytes(std::as_bytes(std::span(s.data(), s.size()))); }
  std::vector<std::byte>& bytes() { return bytes_; }

 private:
  std::vector<std::byte> bytes_;
};

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> b) : b_(b) {}
  template <typename T>
  T get() {
    static_assert(std::is_trivially_copyable_v<T>);
    need(sizeof(T));
    T v;
    std::memcpy(&v, b_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return v;
  }
  std::span<const std::byte> get_bytes() {
    const auto n = get<std::uint64_t>();
    need(n);
    auto s = b_.subspan(at_, n);
    at_ += n;
    return s;
  }
  std::string get_string() {
    const auto s = get_bytes();
    return std::string(reinterpret_cast<const char*>(s.data()), s.size());
  }
  bool done() const { return at_ == b_.size(); }

 private:
  void need(std::size_t n) const {
    if (b_.size() - at_ < n) fail(ErrorCode::kInternal, "a message between ranks ended early ({} of {} bytes read)", at_, b_.size());
  }
  std::span<const std::byte> b_;
  std::size_t at_ = 0;
};

}  // namespace sco::core
