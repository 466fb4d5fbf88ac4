#include <gtest/gtest.h>

#include "algebra/expression.hpp"

using namespace sco::algebra;
using sco::core::Error;

namespace {
std::string parsed(const std::string& s) { return to_string(parse_expression(s)); }

// The error message of parsing `s` (empty when it parses).
std::string parse_error(const std::string& s) {
  try {
    parse_expression(s);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Parser, Precedence) {
  EXPECT_EQ(parsed("a + b * c"), "(a + (b * c))");
  EXPECT_EQ(parsed("(a + b) * c"), "((a + b) * c)");
  EXPECT_EQ(parsed("a - b - c"), "((a - b) - c)");      // left-associative
  EXPECT_EQ(parsed("a / b / c"), "((a / b) / c)");
  EXPECT_EQ(parsed("a ^ b ^ c"), "(a ^ (b ^ c))");      // right-associative
  EXPECT_EQ(parsed("-a ^ 2"), "(-(a ^ 2))");            // power binds tighter than unary minus
  EXPECT_EQ(parsed("a < b + 1"), "(a < (b + 1))");
  EXPECT_EQ(parsed("a < 1 and b > 2 or c"), "(((a < 1) and (b > 2)) or c)");
  EXPECT_EQ(parsed("not a == b"), "(not (a == b))");
  EXPECT_EQ(parsed("where(a >= 0.5, a, -1)"), "where((a >= 0.5), a, (-1))");
  EXPECT_EQ(parsed("max(a, b, c)"), "max(a, b, c)");
  EXPECT_EQ(parsed("1.5e3 + .25"), "(1500 + 0.25)");
}

TEST(Parser, ReferencedInputsInOrder) {
  EXPECT_EQ(referenced_inputs(parse_expression("(nir - red) / (nir + red)")),
            (std::vector<std::string>{"nir", "red"}));
}

TEST(Parser, ErrorsNameTheColumn) {
  // Each case: the expression, the column (1-based) and a fragment of the message.
  struct Case {
    const char* expr;
    int column;
    const char* what;
  };
  const Case cases[] = {
      {"a +", 4, "ends where an operand was expected"},
      {"a + * b", 5, "unexpected '*'"},
      {"(a + b", 7, "expected ')' to close the '(' at column 1"},
      {"a + b)", 6, "unexpected ')'"},
      {"a $ b", 3, "unexpected character '$'"},
      // A character of several UTF-8 bytes is named whole (once a lone invalid byte), at its column
      // in characters.
      {"a \xC3\x97 b", 3, "unexpected character '\xC3\x97' (U+00D7)"},
      {"\xC3\xA9t\xC3\xA9 \xE2\x88\x92 b", 1, "unexpected character '\xC3\xA9' (U+00E9)"},
      {"a + \xE2\x80\x83" "b", 5, "(U+2003)"},
      {"a + \xFF", 5, "unexpected byte 0xFF (the expression is not UTF-8 text)"},
      {"a + \xC3", 5, "unexpected byte 0xC3"},
      {"foo(a)", 1, "unknown function 'foo'"},
      {"where(a, b)", 1, "'where' takes 3 argument(s), got 2"},
      {"sqrt", 1, "function 'sqrt' needs arguments"},
      {"", 1, "empty"},
      {"1e+", 2, "malformed exponent"},
      {"min(a b)", 7, "expected ',' or ')'"},
  };
  for (const auto& c : cases) {
    const std::string msg = parse_error(c.expr);
    EXPECT_NE(msg.find("column " + std::to_string(c.column) + ":"), std::string::npos) << c.expr << " -> " << msg;
    EXPECT_NE(msg.find(c.what), std::string::npos) << c.expr << " -> " << msg;
  }
}

// Found by fuzz/fuzz_expression: deep nesting overflowed the stack; it is an error now.
TEST(Parser, DeepNestingIsAnErrorNotACrash) {
  const std::string deep = std::string(5000, '(') + "a" + std::string(5000, ')');
  try {
    sco::algebra::parse_expression(deep);
    FAIL() << "no error";
  } catch (const sco::core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("nests deeper than 200 levels"), std::string::npos) << e.what();
  }
  EXPECT_THROW(sco::algebra::parse_expression(std::string(3000, '-') + "a"), sco::core::Error);
  // 50 levels are fine.
  EXPECT_NO_THROW(sco::algebra::parse_expression(std::string(50, '(') + "a + 1" + std::string(50, ')')));
}
