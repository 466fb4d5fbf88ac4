#pragma once
// Network addresses and ranges as deny rules and allow-lists hold them: IPv4 kept as IPv4-mapped IPv6
// (::ffff:a.b.c.d, prefix + 96), so that one 128-bit comparison serves both families.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sco::intel {

struct Address {
  std::array<std::uint8_t, 16> bytes{};
  bool v4 = false;
};

struct Range {
  Address base;   // host bits cleared
  int prefix = 0; // on the 128-bit space
  std::string text() const;  // "203.0.113.0/24", "2001:db8::/32", "203.0.113.7" for a single host
};

// An address ("203.0.113.7", "2001:db8::1", an IPv4-mapped "::ffff:203.0.113.7" read as IPv4).
std::optional<Address> parse_address(std::string_view text);
// An address or a CIDR range; nullopt when it is neither (or the prefix is out of range).
std::optional<Range> parse_range(std::string_view text);
bool contains(const Range& range, const Address& address);
// Whether two ranges share any address (one contains the other's base at the shorter prefix).
bool overlaps(const Range& a, const Range& b);

}  // namespace sco::intel
