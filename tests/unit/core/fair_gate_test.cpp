// The gate in front of the API handlers and tile rendering: never more than its width inside, admitted in arrival order.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "core/fair_gate.hpp"

using namespace sco;

TEST(FairGate, NeverMoreThanItsWidthInside) {
  core::FairGate gate(2);
  std::atomic<int> inside{0}, most{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int k = 0; k < 50; ++k) {
        const core::FairGate::Pass pass(gate);
        const int now = ++inside;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::yield();
        --inside;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(most.load(), 2);
}

TEST(FairGate, AdmitsInArrivalOrder) {
  // Width 1, held by the test while 8 threads queue one after another (each starts once the previous
  // one is seen waiting in the gate's queue, whatever the machine's load): released, they must enter
  // in the order they arrived.
  core::FairGate gate(1);
  std::vector<int> order;
  std::mutex order_mutex;
  std::vector<std::thread> threads;
  {
    const core::FairGate::Pass held(gate);
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        const core::FairGate::Pass pass(gate);
        std::lock_guard lock(order_mutex);
        order.push_back(t);
      });
      while (gate.waiting() != static_cast<std::size_t>(t + 1)) std::this_thread::yield();  // t queued before t + 1 starts
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
}
