#pragma once
// Percent-encoding of URL path segments and query values (RFC 3986 unreserved characters, plus the
// ',' ':' '/' that STAC links keep readable).
#include <string>

namespace sco::core {

std::string url_encode(const std::string& text);

}  // namespace sco::core
