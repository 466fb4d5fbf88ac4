#pragma once
// The built-in indicators: recipes shipped with sco (recipes/*.json, embedded at build time).
#include <string_view>
#include <vector>

#include "indicators/recipe.hpp"

namespace sco::indicators {

// Parsed once; sorted by id.
const std::vector<Recipe>& builtin_recipes();
const Recipe* find_builtin(std::string_view id);

}  // namespace sco::indicators
