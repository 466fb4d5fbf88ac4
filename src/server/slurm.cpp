#include "server/slurm.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <utility>

#include <fmt/format.h>

#include "core/error.hpp"

extern char** environ;

namespace sco::server {

using core::ErrorCode;

namespace {

struct CommandResult {
  int status = -1;  // exit code, or -1 when it could not start or was killed
  std::string out, err;
};

// Runs argv (looked up in PATH) with the process's environment; its standard output and error.
CommandResult run_command(const std::vector<std::string>& argv) {
  CommandResult r;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return r;
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return r;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    r.err = fmt::format("cannot run '{}': {}", argv[0], std::strerror(rc));
    return r;
  }
  std::array<pollfd, 2> fds{{{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}}};
  std::array<std::string*, 2> into{&r.out, &r.err};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) break;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        into[i]->append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  r.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
  return r;
}

std::string first_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  const auto nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

// The value of KEY=VALUE in `scontrol show job -o` output (values end at a space).
std::string field(const std::string& text, const std::string& key) {
  const std::string k = key + "=";
  for (std::size_t at = text.find(k); at != std::string::npos; at = text.find(k, at + 1)) {
    if (at != 0 && text[at - 1] != ' ') continue;
    const std::size_t from = at + k.size();
    const std::size_t to = text.find_first_of(" \n", from);
    return text.substr(from, to == std::string::npos ? std::string::npos : to - from);
  }
  return "";
}

// A shell word: single quotes, with the quote itself closed, escaped and reopened.
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string own_binary() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "sco";
}

}  // namespace

bool SlurmState::ended() const { return state != "PENDING" && state != "RUNNING" && state != "CONFIGURING" && state != "COMPLETING" &&
                                        state != "SUSPENDED" && state != "REQUEUED" && state != "RESIZING"; }

SlurmClient::SlurmClient(SlurmOptions options) : options_(std::move(options)) {
  if (options_.sco.empty()) options_.sco = own_binary();
  if (options_.cpus < 1) core::fail(ErrorCode::kInvalidInput, "--slurm-cpus must be at least 1 (got {})", options_.cpus);
}

std::string SlurmClient::script(const std::string& job_id, const std::string& catalog, const std::string& node_dir, const std::string& log_path) const {
  std::string s = "#!/bin/sh\n";
  s += fmt::format("#SBATCH --job-name=sco-{}\n#SBATCH --output={}\n#SBATCH --ntasks=1\n#SBATCH --cpus-per-task={}\n", job_id, log_path,
                   options_.cpus);
  if (!options_.partition.empty()) s += fmt::format("#SBATCH --partition={}\n", options_.partition);
  for (const auto& o : options_.sbatch) s += fmt::format("#SBATCH {}\n", o);
  s += fmt::format("export SCO_NODE_DIR={}\n", quoted(node_dir));
  // exec: Slurm's SIGTERM on scancel reaches sco, which stops cleanly and leaves no file behind.
  s += fmt::format("exec {} --threads {} --catalog {} job run {}\n", quoted(options_.sco), options_.cpus, quoted(catalog), quoted(job_id));
  return s;
}

std::string SlurmClient::submit(const std::string& script_path) const {
  const CommandResult r = run_command({"sbatch", "--parsable", script_path});
  if (r.status != 0) core::fail(ErrorCode::kUnavailable, "Slurm refused the job (sbatch): {}", first_line(r.err.empty() ? r.out : r.err));
  std::string id = first_line(r.out);
  if (const auto semi = id.find(';'); semi != std::string::npos) id.resize(semi);  // "ID;CLUSTER"
  if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
    core::fail(ErrorCode::kUnavailable, "sbatch answered '{}', not a job id", first_line(r.out));
  }
  return id;
}

SlurmState SlurmClient::state(const std::string& slurm_id) const {
  const CommandResult r = run_command({"scontrol", "show", "job", "-o", slurm_id});
  if (r.status != 0) {
    if (r.err.find("Invalid job id") != std::string::npos) return {"UNKNOWN", "Slurm no longer knows the job"};
    core::fail(ErrorCode::kUnavailable, "Slurm does not answer (scontrol): {}", first_line(r.err));
  }
  return {field(r.out, "JobState"), field(r.out, "Reason")};
}

void SlurmClient::cancel(const std::string& slurm_id) const {
  const CommandResult r = run_command({"scancel", slurm_id});
  if (r.status != 0) core::fail(ErrorCode::kUnavailable, "scancel {} failed: {}", slurm_id, first_line(r.err));
}

std::string SlurmClient::check() const {
  const CommandResult r = run_command({"sinfo", "-h", "-o", "%P %a"});
  if (r.status != 0) return first_line(r.err.empty() ? "sinfo failed" : r.err);
  if (first_line(r.out).empty()) return "Slurm has no partition";
  return "";
}

}  // namespace sco::server
