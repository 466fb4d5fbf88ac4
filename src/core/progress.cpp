#include "core/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace sco::core {

Progress::Progress(std::string label, std::int64_t total, bool enabled)
    : label_(std::move(label)), total_(std::max<std::int64_t>(total, 1)), enabled_(enabled) {
  start_ = std::chrono::steady_clock::now();
  last_draw_ = start_ - std::chrono::seconds(1);
}

Progress::~Progress() {
  if (enabled_ && !finished_) {
    std::fputs("\n", stderr);
  }
}

bool Progress::terminal_enabled(bool quiet) { return !quiet && isatty(STDERR_FILENO) == 1; }

void Progress::advance(std::int64_t n) {
  if (!enabled_ && !listener_) return;
  const auto done = done_.fetch_add(n, std::memory_order_relaxed) + n;
  const double fraction = static_cast<double>(done) / static_cast<double>(total_);
  tell(fraction);
  if (enabled_) draw(fraction, false);
}

void Progress::set_fraction(double fraction) {
  tell(fraction);
  if (!enabled_) return;
  draw(fraction, false);
}

void Progress::tell(double fraction) {
  if (!listener_) return;
  const int percent = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * 100.0);
  int told = told_percent_.load(std::memory_order_relaxed);
  while (percent > told) {
    if (told_percent_.compare_exchange_weak(told, percent)) {
      std::lock_guard lock(mutex_);
      listener_(percent / 100.0);
      return;
    }
  }
}

void Progress::finish() {
  tell(1.0);
  if (!enabled_ || finished_) return;
  draw(1.0, true);
  finished_ = true;
}

void Progress::draw(double fraction, bool final) {
  const auto now = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock() && !final) return;
  if (!lock.owns_lock()) lock.lock();
  if (!final && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  fraction = std::clamp(fraction, 0.0, 1.0);
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth);
  char bar[kWidth + 1];
  for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : '.';
  bar[kWidth] = '\0';
  const double seconds = std::chrono::duration<double>(now - start_).count();
  std::fprintf(stderr, "\r%-14s [%s] %3d%% %6.1f s%s", label_.c_str(), bar,
               static_cast<int>(fraction * 100.0 + 0.5), seconds, final ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace sco::core
