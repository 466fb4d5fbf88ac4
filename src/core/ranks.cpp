#include "core/ranks.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

namespace sco::core {

namespace {
std::atomic<RankLink*> g_ranks{nullptr};
}

RankLink* process_ranks() { return g_ranks.load(); }
void set_process_ranks(RankLink* ranks) { g_ranks.store(ranks); }

std::vector<std::vector<std::byte>> RankLink::gather(std::span<const std::byte> mine) {
  std::vector<std::vector<std::byte>> all;
  if (rank() != 0) {
    send(0, kTagGather, mine);
    return all;
  }
  all.emplace_back(mine.begin(), mine.end());
  for (int r = 1; r < size(); ++r) all.push_back(receive(r, kTagGather));
  return all;
}

std::vector<std::byte> RankLink::broadcast(std::span<const std::byte> bytes) {
  if (rank() != 0) return receive(0, kTagBroadcast);
  for (int r = 1; r < size(); ++r) send(r, kTagBroadcast, bytes);
  return {bytes.begin(), bytes.end()};
}

void PollBackoff::pause() {
  // No sched_yield: on a core shared with a busy worker (rank 0's coordinator beside its workers),
  // Linux's scheduler hands the worker the rest of a time slice (1.5-3 ms), and the other ranks'
  // sends wait that long; measured, the NDVI COG at 2 ranks ran 5-10 % slower with yields.
  if (spins_ < 64) {
    ++spins_;
    return;
  }
  std::this_thread::sleep_for(std::chrono::microseconds(delay_us_));
  delay_us_ = std::min(delay_us_ * 2, max_us_);
}

IndexFetcher::IndexFetcher(RankLink& link, int depth, bool ahead) : link_(link), depth_(ahead ? std::max(1, depth) : 1), ahead_(ahead) {
  std::lock_guard lock(mutex_);
  for (int i = 0; i < depth_ && ahead_; ++i) request();
}

void IndexFetcher::request() {
  const std::int32_t depth = depth_;
  link_.send(0, kTagRequest, std::as_bytes(std::span(&depth, 1)));
  ++in_flight_;
}

std::optional<std::int64_t> IndexFetcher::next() {
  std::lock_guard lock(mutex_);
  if (!ahead_ && ready_.empty() && !exhausted_ && in_flight_ == 0) request();
  while (ready_.empty() && !exhausted_) {
    const auto bytes = link_.receive(0, kTagAssign);
    --in_flight_;
    const auto index = ByteReader(bytes).get<std::int64_t>();
    if (index < 0) {
      exhausted_ = true;
    } else {
      ready_.push_back(index);
    }
  }
  if (exhausted_) {
    // The answers to the other requests in flight are -1 too: taken now, so that none is left over.
    while (in_flight_ > 0) {
      link_.receive(0, kTagAssign);
      --in_flight_;
    }
  }
  if (ready_.empty()) return std::nullopt;
  const std::int64_t index = ready_.front();
  ready_.pop_front();
  if (!exhausted_ && ahead_) request();
  return index;
}

std::optional<IndexRequest> try_take_request(RankLink& link) {
  auto m = link.try_receive_any(kTagRequest);
  if (!m) return std::nullopt;
  return IndexRequest{m->first, ByteReader(m->second).get<std::int32_t>()};
}

void answer_request(RankLink& link, int source, std::int64_t index) { link.send(source, kTagAssign, std::as_bytes(std::span(&index, 1))); }

}  // namespace sco::core
