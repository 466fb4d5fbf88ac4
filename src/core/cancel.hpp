#pragma once
// Cooperative cancellation: Ctrl-C sets a flag that long loops poll, so work stops cleanly and
// temporary outputs are removed instead of being left half-written.
#include <atomic>

namespace sco::core {

void install_interrupt_handler();
bool cancel_requested();
void request_cancel();
void reset_cancel();
// Throws Error(kCancelled) when cancellation was requested.
void throw_if_cancelled();

// One piece of work's own cancellation (a run asked by the server, a cluster rank): cancelled when
// its owner says so, or when the whole process is interrupted.
class CancelToken {
 public:
  void cancel() { flag_.store(true, std::memory_order_relaxed); }
  bool requested() const { return flag_.load(std::memory_order_relaxed) || cancel_requested(); }

 private:
  std::atomic<bool> flag_{false};
};
// The token's state when there is one, else the process's.
bool cancelled(const CancelToken* token);
void throw_if_cancelled(const CancelToken* token);

}  // namespace sco::core
