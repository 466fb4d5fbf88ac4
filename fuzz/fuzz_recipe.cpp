// The recipe reader on arbitrary text: JSON syntax, structure, parameters and every step's fields.
// Properties: no crash, no sanitizer report, only sco errors thrown (each naming where it failed).
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "indicators/recipe.hpp"
#include "run/step_op.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const sco::indicators::Recipe recipe = sco::indicators::parse_recipe(text, "fuzz.json");
    const auto values = sco::indicators::bind_parameters(recipe, {});
    for (const auto& step : sco::run::bind_steps(recipe, values)) (void)sco::run::table_columns(step);
  } catch (const sco::core::Error&) {
  }
  return 0;
}
