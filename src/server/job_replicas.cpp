// Replicas of a server on one catalog (PostgreSQL) share its openEO jobs: which servers are alive,
// cancellations asked of the server that runs a job, and the jobs of a stopped server adopted.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "server/openeo_api.hpp"
#include "server/openeo_jobs.hpp"

namespace sco::server {

using nlohmann::json;

namespace {

constexpr std::int64_t kBeatMs = 1000, kDeadAfterMs = 5000;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string host_name() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

// A server is alive while it beats; on this host, only while its process exists (a killed server is
// known at once, without waiting for its beat to age).
bool alive(const json& server) {
  if (now_ms() - server.value("beat_ms", std::int64_t{0}) > kDeadAfterMs) return false;
  if (server.value("host", "") == host_name()) {
    const int pid = server.value("pid", 0);
    return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
  }
  return true;
}

}  // namespace

void JobService::beat() {
  const json me = {{"id", server_id_}, {"host", host_name()}, {"pid", ::getpid()}, {"beat_ms", now_ms()}, {"beat", core::utc_now()}};
  store_.transaction([&] { store_.put_record("server", server_id_, "", me); });
}

std::set<std::string> JobService::live_servers() const {
  std::set<std::string> live;
  for (const auto& s : store_.records("server")) {
    if (s.value("id", "") == server_id_ || alive(s)) live.insert(s.value("id", ""));
  }
  return live;
}

// Cancellations asked of this server by the others: its jobs stopped (the worker cleans up on its
// own), the requests removed.
void JobService::take_cancellations() {
  for (const auto& ask : store_.records("job_cancel")) {
    if (ask.value("server", "") != server_id_) continue;
    const std::string id = ask.value("id", "");
    {
      std::unique_lock lock(mutex_);
      cancel_here(id, lock, false);
    }
    store_.transaction([&] { store_.delete_record("job_cancel", id); });
  }
}

// The queued and running jobs of servers that stopped, adopted by the live server with the smallest
// id (one adopter, whichever replica notices first). The jobs are read only at start and when a server
// seen before is no longer alive, not at every look; records of dead servers are then removed.
void JobService::adopt_orphans() {
  const std::set<std::string> live = live_servers();
  const bool someone_left = std::any_of(seen_servers_.begin(), seen_servers_.end(), [&](const std::string& id) { return !live.count(id); });
  const bool first = !looked_;
  looked_ = true;
  seen_servers_ = live;
  if ((!first && !someone_left) || *live.begin() != server_id_) return;
  std::vector<std::pair<std::string, json>> orphans;
  for (json job : store_.records("job")) {
    const std::string status = job.value("status", ""), server = job.value("server", "");
    if ((status == "queued" || status == "running") && !live.count(server)) orphans.emplace_back(job.value("queued_at", std::string()), job);
  }
  std::stable_sort(orphans.begin(), orphans.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [at, job] : orphans) adopt(std::move(job));
  if (!orphans.empty()) wake_.notify_all();
  for (const auto& s : store_.records("server")) {
    if (!live.count(s.value("id", ""))) store_.transaction([&] { store_.delete_record("server", s.value("id", "")); });
  }
}

// Every second: the beat, the cancellations asked of this server; every five, the orphans. A catalog
// that cannot be reached is tried again at the next round.
void JobService::watch() {
  std::unique_lock lock(mutex_);
  for (int round = 1; !stopping_; ++round) {
    watch_wake_.wait_for(lock, std::chrono::milliseconds(kBeatMs), [&] { return stopping_; });
    if (stopping_) return;
    lock.unlock();
    try {
      beat();
      take_cancellations();
      if (round % 5 == 0) adopt_orphans();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "sco serve: jobs: %s\n", e.what());
    }
    lock.lock();
  }
}

ApiResponse JobService::cancel_elsewhere(const json& job) {
  const std::string id = job["id"], server = job.value("server", "");
  store_.transaction([&] { store_.put_record("job_cancel", id, job.value("owner", ""), {{"id", id}, {"server", server}, {"asked", core::utc_now_ms()}}); });
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < until) {
    const auto now = store_.record("job", id);
    const std::string status = now ? now->value("status", "") : "";
    if (status != "queued" && status != "running") return {204, "", "", {}};
    if (!live_servers().count(server)) return cancel(*now);  // its server stopped meanwhile
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return openeo_error(503, "ServiceUnavailable", fmt::format("the server running job {} did not stop it within 60 s; ask again", id));
}

}  // namespace sco::server
