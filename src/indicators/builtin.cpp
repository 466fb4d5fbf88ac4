#include "indicators/builtin.hpp"

#include <algorithm>

namespace sco::indicators {

const std::vector<std::string_view>& builtin_recipe_texts();  // generated

const std::vector<Recipe>& builtin_recipes() {
  static const std::vector<Recipe> recipes = [] {
    std::vector<Recipe> out;
    for (const auto text : builtin_recipe_texts()) out.push_back(parse_recipe(text, "built-in"));
    std::sort(out.begin(), out.end(), [](const Recipe& a, const Recipe& b) { return a.id < b.id; });
    for (auto& r : out) r.source = "built-in " + r.id;
    return out;
  }();
  return recipes;
}

const Recipe* find_builtin(std::string_view id) {
  for (const auto& r : builtin_recipes()) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

}  // namespace sco::indicators
