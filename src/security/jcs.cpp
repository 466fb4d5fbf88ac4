#include "security/jcs.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/error.hpp"

namespace sco::security {

namespace {

std::u16string utf16(const std::string& s) {
  std::u16string out;
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    char32_t cp;
    int len;
    if (c < 0x80) { cp = c; len = 1; }
    else if ((c >> 5) == 6) { cp = c & 0x1f; len = 2; }
    else if ((c >> 4) == 14) { cp = c & 0x0f; len = 3; }
    else { cp = c & 0x07; len = 4; }
    for (int k = 1; k < len && i + static_cast<std::size_t>(k) < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]) & 0x3f);
    i += static_cast<std::size_t>(len);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xd800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xdc00 + (cp & 0x3ff)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
  }
  return out;
}

void write_string(const std::string& s, std::string& out) {
  out += '"';
  for (const char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

void write(const nlohmann::json& v, std::string& out) {
  switch (v.type()) {
    case nlohmann::json::value_t::null: out += "null"; break;
    case nlohmann::json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; break;
    case nlohmann::json::value_t::number_integer: out += canonical_number(static_cast<double>(v.get<std::int64_t>())); break;
    case nlohmann::json::value_t::number_unsigned: out += canonical_number(static_cast<double>(v.get<std::uint64_t>())); break;
    case nlohmann::json::value_t::number_float: out += canonical_number(v.get<double>()); break;
    case nlohmann::json::value_t::string: write_string(v.get_ref<const std::string&>(), out); break;
    case nlohmann::json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += ',';
        first = false;
        write(e, out);
      }
      out += ']';
      break;
    }
    case nlohmann::json::value_t::object: {
      std::vector<std::pair<std::u16string, const std::string*>> keys;
      for (auto it = v.begin(); it != v.end(); ++it) keys.emplace_back(utf16(it.key()), &it.key());
      std::sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      out += '{';
      bool first = true;
      for (const auto& [k16, k] : keys) {
        if (!first) out += ',';
        first = false;
        write_string(*k, out);
        out += ':';
        write(v.at(*k), out);
      }
      out += '}';
      break;
    }
    default:
      core::fail(core::ErrorCode::kInvalidInput, "canonical JSON: unsupported value (binary or discarded)");
  }
}

}  // namespace

std::string canonical_number(double v) {
  if (!std::isfinite(v)) core::fail(core::ErrorCode::kInvalidInput, "canonical JSON: {} is not a JSON number", v);
  if (v == 0) return "0";
  // Shortest round-trip digits and decimal exponent, then ECMAScript's layout (ECMA-262,
  // Number::toString): value = 0.d1d2...dk x 10^n.
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, std::fabs(v), std::chars_format::scientific);
  const std::string sci(buf, res.ptr);
  const auto e = sci.find('e');
  std::string digits;
  for (std::size_t i = 0; i < e; ++i) {
    if (sci[i] != '.') digits += sci[i];
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int exp10 = std::stoi(sci.substr(e + 1));
  const int k = static_cast<int>(digits.size());
  const int n = exp10 + 1;
  std::string out = v < 0 ? "-" : "";
  const auto un = static_cast<std::size_t>(std::abs(n));
  if (k <= n && n <= 21) {
    out.append(digits).append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, un).append(1, '.').append(digits, un, std::string::npos);
  } else if (-6 < n && n <= 0) {
    out.append("0.").append(un, '0').append(digits);
  } else {
    out.append(digits, 0, 1);
    if (k > 1) out.append(1, '.').append(digits, 1, std::string::npos);
    out.append(1, 'e').append(n - 1 >= 0 ? "+" : "-").append(std::to_string(std::abs(n - 1)));
  }
  return out;
}

std::string canonical_json(const nlohmann::json& value) {
  std::string out;
  write(value, out);
  return out;
}

std::string string_member(const nlohmann::json& object, const char* key, const std::string& fallback) {
  if (!object.is_object()) return fallback;
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

}  // namespace sco::security
