#include "intel/net.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include <cstring>

namespace sco::intel {

namespace {
bool same_prefix(const Address& a, const Address& b, int bits) {
  const int whole = bits / 8, rest = bits % 8;
  if (!std::equal(a.bytes.begin(), a.bytes.begin() + whole, b.bytes.begin())) return false;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (a.bytes[static_cast<std::size_t>(whole)] & mask) == (b.bytes[static_cast<std::size_t>(whole)] & mask);
}
}  // namespace

std::optional<Address> parse_address(std::string_view text) {
  const std::string s(text);
  Address a;
  in_addr v4{};
  if (::inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    a.v4 = true;
    a.bytes[10] = a.bytes[11] = 0xFF;
    std::memcpy(a.bytes.data() + 12, &v4, 4);
    return a;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, s.c_str(), &v6) != 1) return std::nullopt;
  std::memcpy(a.bytes.data(), &v6, 16);
  static constexpr std::array<std::uint8_t, 12> kMapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  a.v4 = std::equal(kMapped.begin(), kMapped.end(), a.bytes.begin());
  return a;
}

std::optional<Range> parse_range(std::string_view text) {
  const auto slash = text.find('/');
  auto base = parse_address(text.substr(0, slash));
  if (!base) return std::nullopt;
  const int family_bits = base->v4 ? 32 : 128;
  int bits = family_bits;
  if (slash != std::string_view::npos) {
    const std::string_view p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3 || p.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
    bits = std::stoi(std::string(p));
    if (bits > family_bits) return std::nullopt;
  }
  Range r{*base, bits + (base->v4 ? 96 : 0)};
  for (int i = r.prefix; i < 128; ++i) r.base.bytes[static_cast<std::size_t>(i / 8)] &= static_cast<std::uint8_t>(~(0x80 >> (i % 8)));
  return r;
}

bool contains(const Range& range, const Address& address) { return same_prefix(range.base, address, range.prefix); }

bool overlaps(const Range& a, const Range& b) { return same_prefix(a.base, b.base, std::min(a.prefix, b.prefix)); }

std::string Range::text() const {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (base.v4) {
    ::inet_ntop(AF_INET, base.bytes.data() + 12, buf, sizeof buf);
    return prefix == 128 ? std::string(buf) : std::string(buf) + "/" + std::to_string(prefix - 96);
  }
  ::inet_ntop(AF_INET6, base.bytes.data(), buf, sizeof buf);
  return prefix == 128 ? std::string(buf) : std::string(buf) + "/" + std::to_string(prefix);
}

}  // namespace sco::intel
