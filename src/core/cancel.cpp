#include "core/cancel.hpp"

#include <atomic>
#include <csignal>

#include "core/error.hpp"

namespace sco::core {

namespace {
std::atomic<bool> g_cancel{false};
extern "C" void on_interrupt(int) { g_cancel.store(true); }
}  // namespace

void install_interrupt_handler() {
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
}
bool cancel_requested() { return g_cancel.load(std::memory_order_relaxed); }
void request_cancel() { g_cancel.store(true); }
void reset_cancel() { g_cancel.store(false); }
void throw_if_cancelled() {
  if (cancel_requested()) throw Error(ErrorCode::kCancelled, "interrupted");
}

bool cancelled(const CancelToken* token) { return token ? token->requested() : cancel_requested(); }
void throw_if_cancelled(const CancelToken* token) {
  if (cancelled(token)) throw Error(ErrorCode::kCancelled, "interrupted");
}

}  // namespace sco::core
