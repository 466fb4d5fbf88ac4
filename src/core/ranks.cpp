#include "core/ranks.hpp"

#include <atomic>

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

}  // namespace sco::core
