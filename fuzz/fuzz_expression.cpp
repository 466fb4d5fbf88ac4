// The band-math parser and compiler on arbitrary text. Properties: no crash, no sanitizer report, only
// sco errors thrown; an expression that parses prints to text that parses to the same text again.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "algebra/expression.hpp"
#include "algebra/program.hpp"
#include "core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const sco::algebra::Expr expr = sco::algebra::parse_expression(text);
    const std::string printed = sco::algebra::to_string(expr);
    const std::string again = sco::algebra::to_string(sco::algebra::parse_expression(printed));
    if (again != printed) std::abort();  // printing must round-trip
    (void)sco::algebra::Program::compile(expr, sco::algebra::referenced_inputs(expr));
  } catch (const sco::core::Error&) {
  }
  return 0;
}
