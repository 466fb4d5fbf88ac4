#pragma once
// Cooperative cancellation: Ctrl-C sets a flag that long loops poll, so work stops cleanly and
// temporary outputs are removed instead of being left half-written.
namespace sco::core {

void install_interrupt_handler();
bool cancel_requested();
void request_cancel();
void reset_cancel();
// Throws Error(kCancelled) when cancellation was requested.
void throw_if_cancelled();

}  // namespace sco::core
