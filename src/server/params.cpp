#include "server/params.hpp"

#include <cmath>
#include <cstdlib>
#include <sstream>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/parse.hpp"

namespace sco::server::params {

namespace {

[[noreturn]] void bad(const std::string& field, const std::string& why) { core::fail(core::ErrorCode::kInvalidInput, "{}: {}", field, why); }

// RFC 3339 date-time (any offset, taken to UTC; fractions of a second dropped as stored times have
// none), or a date (taken at 00:00:00Z, or 23:59:59Z for the end of an interval).
std::string instant(const std::string& s, const std::string& field, bool end) {
  const std::string utc = core::parse_rfc3339(s, field);
  if (s.size() == 10) return utc.substr(0, 10) + (end ? "T23:59:59Z" : "T00:00:00Z");
  return utc.substr(0, 19) + "Z";
}

}  // namespace

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  std::stringstream ss(text);
  while (std::getline(ss, cur, ',')) {
    if (!cur.empty()) out.push_back(cur);
  }
  return out;
}

double number(const std::string& text, const std::string& field) { return core::parse_finite(text, field); }

std::vector<double> numbers(const std::string& text, const std::string& field, std::size_t min_count, std::size_t max_count) {
  std::vector<double> out;
  std::size_t pos = 0;
  while (true) {
    const std::size_t comma = text.find(',', pos);
    out.push_back(number(text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos), field));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (out.size() < min_count || out.size() > max_count) {
    bad(field, min_count == max_count ? fmt::format("expected {} numbers, got {}", min_count, out.size())
                                      : fmt::format("expected {} to {} numbers, got {}", min_count, max_count, out.size()));
  }
  return out;
}

catalog::BBox bbox(const std::vector<double>& v, const std::string& field) {
  if (v.size() != 4 && v.size() != 6) bad(field, "expected 4 (or 6) numbers: west,south,east,north");
  const catalog::BBox b = v.size() == 4 ? catalog::BBox{v[0], v[1], v[2], v[3]} : catalog::BBox{v[0], v[1], v[3], v[4]};
  if (b.south > b.north) bad(field, "expected south <= north");
  if (b.south < -90 || b.north > 90 || b.west < -180 || b.east > 180) bad(field, "outside -180,-90,180,90");
  if (b.west > b.east) bad(field, "expected west <= east (boxes crossing the antimeridian are not supported: split the box in two)");
  return b;
}

catalog::BBox bbox(const std::string& text, const std::string& field) {
  std::vector<double> v;
  for (const auto& part : split_list(text)) v.push_back(number(part, field));
  return bbox(v, field);
}

Interval datetime(const std::string& s, const std::string& field) {
  Interval r;
  const auto slash = s.find('/');
  if (slash == std::string::npos) {
    r.start = instant(s, field, false);
    r.end = s.size() == 10 ? instant(s, field, true) : r.start;
    return r;
  }
  const std::string a = s.substr(0, slash), b = s.substr(slash + 1);
  if ((a.empty() || a == "..") && (b.empty() || b == "..")) bad(field, "an interval needs at least one end");
  if (!a.empty() && a != "..") r.start = instant(a, field, false);
  if (!b.empty() && b != "..") r.end = instant(b, field, true);
  if (!r.start.empty() && !r.end.empty() && r.end < r.start) bad(field, "the interval ends before it starts");
  return r;
}

long integer(const std::string& text, long lo, long hi, const std::string& field) {
  char* end = nullptr;
  const long x = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end) bad(field, fmt::format("'{}' is not an integer", text));
  if (x < lo || x > hi) bad(field, fmt::format("must lie in {}..{}", lo, hi));
  return x;
}

std::vector<int> bands(const std::string& text, const std::string& field) {
  std::vector<int> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = text.find(',', pos);
    out.push_back(core::parse_band_number(text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos), field));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

}  // namespace sco::server::params
