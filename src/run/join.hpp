#pragma once
// "a, b, c": lists in messages and fields.
#include <string>
#include <vector>

namespace sco::run {

inline std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

}  // namespace sco::run
