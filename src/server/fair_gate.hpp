#pragma once
// At most N requests computing at once, admitted first come, first served. With dozens of keep-alive
// connections and a thread each, an unbounded number of requests time-slice the cores and a few wait
// many slices (a long latency tail); queued in order and run to completion, every request waits
// about the same: the queue's length times one request's time.
#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace sco::server {

class FairGate {
 public:
  explicit FairGate(unsigned width = std::max(1u, std::thread::hardware_concurrency())) : free_(std::max(1u, width)) {}

  class Pass {
   public:
    explicit Pass(FairGate& g) : g_(g) { g_.enter(); }
    ~Pass() { g_.leave(); }
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;

   private:
    FairGate& g_;
  };

 private:
  void enter() {
    std::unique_lock lock(mutex_);
    const std::uint64_t ticket = next_++;
    cv_.wait(lock, [&] { return free_ > 0 && ticket == serving_; });
    ++serving_;
    --free_;
    cv_.notify_all();  // the next ticket may enter if a place is still free
  }
  void leave() {
    std::lock_guard lock(mutex_);
    ++free_;
    cv_.notify_all();
  }

  unsigned free_;
  std::uint64_t next_ = 0, serving_ = 0;
  std::mutex mutex_;
  std::condition_variable cv_;
};

}  // namespace sco::server
