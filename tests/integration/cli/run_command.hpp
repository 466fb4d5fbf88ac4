#pragma once
// Runs the real sco binary and captures its exit code, standard output and standard error.
#include <string>
#include <vector>

namespace sco::test {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

CommandResult run_sco(const std::vector<std::string>& args);

}  // namespace sco::test
