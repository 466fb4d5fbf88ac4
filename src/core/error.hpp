#pragma once
// sco's one exception type. Every failure carries a code that the command line maps to an exit code
// and the server to an HTTP status; the message is one line naming the file, field or position.
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace sco::core {

enum class ErrorCode {
  kInvalidInput,  // the user's input is wrong: syntax, unknown name, mismatched grids, bad value
  kNotFound,      // a file, band, layer or field that does not exist
  kIo,            // reading or writing failed for reasons outside the input's content
  kUnavailable,   // a service sco depends on (the catalog's database) cannot be reached now: retry later
  kCancelled,     // the user interrupted the work
  kInternal,      // a bug in sco
};

const char* error_code_name(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

template <typename... Args>
[[noreturn]] void fail(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(code, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace sco::core
