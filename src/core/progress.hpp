#pragma once
// A progress bar on standard error, drawn only when it is a terminal and --quiet is off. Thread-safe:
// workers call advance(); redraws are throttled so that progress costs nothing measurable.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

namespace sco::core {

class Progress {
 public:
  // enabled=false makes every call a no-op (pipes, CI, --quiet).
  Progress(std::string label, std::int64_t total, bool enabled);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Told the fraction done (0..1) at most once per percent, whether or not a bar is drawn: a run's
  // progress callback. Set before the work starts.
  void set_listener(std::function<void(double)> listener) { listener_ = std::move(listener); }

  void advance(std::int64_t n = 1);
  void set_fraction(double fraction);  // for stages that report a fraction (GDAL callbacks)
  void finish();

  // True when standard error is a terminal and the user did not ask for quiet.
  static bool terminal_enabled(bool quiet);

 private:
  void draw(double fraction, bool final);
  void tell(double fraction);

  std::string label_;
  std::int64_t total_;
  bool enabled_;
  bool finished_ = false;
  std::atomic<std::int64_t> done_{0};
  std::function<void(double)> listener_;
  std::atomic<int> told_percent_{-1};
  std::mutex mutex_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace sco::core
