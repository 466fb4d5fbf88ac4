#include "intel/pattern.hpp"

#include <cctype>

#include "core/error.hpp"

namespace sco::intel {

namespace {

// A recursive-descent reader of the pattern grammar; each level returns whether what it read is an OR
// of plain address comparisons (so that the whole pattern can be acted upon), and collects them.
class Reader {
 public:
  explicit Reader(std::string_view text) : s_(text) {}

  PatternSummary read() {
    PatternSummary out;
    const bool plain = observations();
    skip();
    if (p_ != s_.size()) fail("unexpected text");
    out.addresses = std::move(addresses_);
    out.only_addresses = plain && !out.addresses.empty();
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    core::fail(core::ErrorCode::kInvalidInput, "pattern: {} at column {}", what, p_ + 1);
  }
  void skip() {
    while (p_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[p_]))) ++p_;
  }
  // A keyword (whole word, case-sensitive as the grammar's are upper case).
  bool keyword(std::string_view k) {
    skip();
    if (s_.substr(p_, k.size()) != k) return false;
    const std::size_t e = p_ + k.size();
    if (e < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[e])) || s_[e] == '_')) return false;
    p_ = e;
    return true;
  }
  bool symbol(std::string_view k) {
    skip();
    if (s_.substr(p_, k.size()) != k) return false;
    p_ += k.size();
    return true;
  }
  void expect(std::string_view k) {
    if (!symbol(k)) fail("'" + std::string(k) + "' expected");
  }

  // observations := or-group (FOLLOWEDBY or-group)*
  bool observations() {
    bool plain = or_group();
    while (keyword("FOLLOWEDBY")) plain = or_group() && false;
    return plain;
  }
  bool or_group() {
    bool plain = and_group();
    while (keyword("OR")) plain = and_group() && plain;
    return plain;
  }
  bool and_group() {
    bool plain = observation();
    while (keyword("AND")) plain = observation() && false;
    return plain;
  }
  // '[' comparisons ']' or '(' observations ')', then qualifiers (which make it more than a plain match).
  bool observation() {
    bool plain = false;
    if (symbol("[")) {
      plain = comparisons();
      expect("]");
    } else if (symbol("(")) {
      plain = observations();
      expect(")");
    } else {
      fail("'[' or '(' expected");
    }
    while (qualifier()) plain = false;
    return plain;
  }
  bool qualifier() {
    if (keyword("WITHIN")) {
      number();
      if (!keyword("SECONDS")) fail("SECONDS expected");
    } else if (keyword("REPEATS")) {
      number();
      if (!keyword("TIMES")) fail("TIMES expected");
    } else if (keyword("START")) {
      timestamp();
      if (!keyword("STOP")) fail("STOP expected");
      timestamp();
    } else {
      return false;
    }
    return true;
  }

  bool comparisons() {
    bool plain = comparison_and();
    while (keyword("OR")) plain = comparison_and() && plain;
    return plain;
  }
  bool comparison_and() {
    bool plain = comparison();
    while (keyword("AND")) plain = comparison() && false;
    return plain;
  }
  bool comparison() {
    if (symbol("(")) {
      const bool plain = comparisons();
      expect(")");
      return plain;
    }
    if (keyword("EXISTS")) {
      object_path();
      return false;
    }
    const std::string path = object_path();
    const bool negated = keyword("NOT");
    std::string op;
    for (std::string_view k : {"ISSUBSET", "ISSUPERSET", "LIKE", "MATCHES", "IN"}) {
      if (keyword(k)) op = k;
    }
    if (op.empty()) {
      for (std::string_view k : {"<=", ">=", "!=", "=", "<", ">"}) {
        if (op.empty() && symbol(k)) op = k;
      }
    }
    if (op.empty()) fail("a comparison operator expected");
    if (op == "IN") {
      expect("(");
      do constant(); while (symbol(","));
      expect(")");
      return false;
    }
    const std::string value = constant();
    const bool address_path = path == "ipv4-addr:value" || path == "ipv6-addr:value";
    if (!address_path || negated || (op != "=" && op != "ISSUBSET") || value_kind_ != '\'') return false;
    const auto range = parse_range(value);
    if (!range) fail("'" + value + "' is not an address or CIDR range");
    addresses_.push_back(*range);
    return true;
  }

  // object-type ':' property ('.' property | '[' index ']')*; returns it as text.
  std::string object_path() {
    skip();
    const std::size_t start = p_;
    while (p_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[p_])) || s_[p_] == '-' || s_[p_] == '_')) ++p_;
    if (p_ == start) fail("an object type expected");
    if (p_ >= s_.size() || s_[p_] != ':') fail("':' expected after the object type");
    ++p_;
    property();
    for (;;) {
      if (p_ < s_.size() && s_[p_] == '.') {
        ++p_;
        property();
      } else if (p_ < s_.size() && s_[p_] == '[') {
        ++p_;
        skip();
        if (!symbol("*")) number();
        expect("]");
      } else {
        break;
      }
    }
    return std::string(s_.substr(start, p_ - start));
  }
  void property() {
    if (p_ < s_.size() && s_[p_] == '\'') {
      quoted();
      return;
    }
    const std::size_t start = p_;
    while (p_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[p_])) || s_[p_] == '_' || s_[p_] == '-')) ++p_;
    if (p_ == start) fail("a property name expected");
  }
  std::string quoted() {
    std::string out;
    ++p_;  // the opening quote
    while (p_ < s_.size() && s_[p_] != '\'') {
      if (s_[p_] == '\\') {
        if (p_ + 1 >= s_.size() || (s_[p_ + 1] != '\'' && s_[p_ + 1] != '\\')) fail("only \\' and \\\\ may be escaped");
        ++p_;
      }
      out += s_[p_++];
    }
    if (p_ >= s_.size()) fail("unterminated string");
    ++p_;
    return out;
  }
  void number() {
    skip();
    const std::size_t start = p_;
    if (p_ < s_.size() && (s_[p_] == '-' || s_[p_] == '+')) ++p_;
    while (p_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[p_])) || s_[p_] == '.')) ++p_;
    if (p_ == start || !std::isdigit(static_cast<unsigned char>(s_[p_ - 1]))) fail("a number expected");
  }
  void timestamp() {
    skip();
    if (p_ >= s_.size() || s_[p_] != 't') fail("a t'...' timestamp expected");
    ++p_;
    if (p_ >= s_.size() || s_[p_] != '\'') fail("a t'...' timestamp expected");
    const std::string t = quoted();
    if (t.size() < 20 || t[4] != '-' || t[10] != 'T' || t.back() != 'Z') fail("'" + t + "' is not an RFC 3339 UTC timestamp");
  }
  // A constant; value_kind_ says which ('\'' string, 't' 'h' 'b' prefixed, 'n' number, 'k' boolean).
  std::string constant() {
    skip();
    if (p_ >= s_.size()) fail("a value expected");
    const char c = s_[p_];
    if (c == '\'') {
      value_kind_ = '\'';
      return quoted();
    }
    if ((c == 't' || c == 'h' || c == 'b') && p_ + 1 < s_.size() && s_[p_ + 1] == '\'') {
      value_kind_ = c;
      if (c == 't') {
        timestamp();
        return "";
      }
      ++p_;
      return quoted();
    }
    if (keyword("true") || keyword("false")) {
      value_kind_ = 'k';
      return "";
    }
    value_kind_ = 'n';
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '-' && c != '+') fail("a value expected");
    number();
    return "";
  }

  std::string_view s_;
  std::size_t p_ = 0;
  char value_kind_ = 0;
  std::vector<Range> addresses_;
};

}  // namespace

PatternSummary parse_stix_pattern(std::string_view pattern) { return Reader(pattern).read(); }

}  // namespace sco::intel
