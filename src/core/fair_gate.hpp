#pragma once
// At most N computations at once, admitted first come, first served, each holding one of N numbered
// places (for per-place state such as open files). With dozens of keep-alive connections and a
// thread each, unbounded requests time-slice the cores and a few wait many slices (a long latency
// tail); queued in order and run to completion, every request waits about the same: the queue's
// length times one request's time. A leaving holder hands its place straight to the oldest waiter
// and wakes only that thread (waking every waiter on each release would cost more than the work).
#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace sco::core {

class FairGate {
 public:
  explicit FairGate(std::size_t width = std::max(1u, std::thread::hardware_concurrency())) : width_(std::max<std::size_t>(1, width)) {
    for (std::size_t k = width_; k-- > 0;) free_.push_back(k);
  }
  std::size_t width() const { return width_; }
  // How many wait for a place now.
  std::size_t waiting() {
    std::lock_guard lock(mutex_);
    return queue_.size();
  }

  // Holds a place from construction to destruction.
  class Pass {
   public:
    explicit Pass(FairGate& g) : g_(g), place_(g.enter()) {}
    ~Pass() { g_.leave(place_); }
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;
    std::size_t place() const { return place_; }

   private:
    FairGate& g_;
    std::size_t place_;
  };

 private:
  struct Waiter {
    std::condition_variable cv;
    bool ready = false;
    std::size_t place = 0;
  };

  std::size_t enter() {
    std::unique_lock lock(mutex_);
    if (!free_.empty() && queue_.empty()) {
      const std::size_t k = free_.back();
      free_.pop_back();
      return k;
    }
    Waiter w;
    queue_.push_back(&w);
    w.cv.wait(lock, [&] { return w.ready; });
    return w.place;
  }

  void leave(std::size_t place) {
    std::lock_guard lock(mutex_);
    if (queue_.empty()) {
      free_.push_back(place);
      return;
    }
    Waiter* next = queue_.front();
    queue_.pop_front();
    next->place = place;
    next->ready = true;
    next->cv.notify_one();
  }

  std::size_t width_;
  std::vector<std::size_t> free_;
  std::deque<Waiter*> queue_;
  std::mutex mutex_;
};

}  // namespace sco::core
