#pragma once
// openEO callbacks (the child process graphs of apply and of reduce_dimension over bands) compiled to
// one expression of sco's band-math language, which the vectorised evaluator runs over whole blocks:
// never a per-pixel interpreter. Numbers, the pixel or the band array (the callback's parameter),
// other nodes of the callback; arithmetic (add, subtract, multiply, divide, power, absolute, sqrt,
// exp, ln, log, floor, ceil, round, int, clip, linear_scale_range, normalized_difference),
// comparisons and logic (gt, gte, lt, lte, eq, neq, and, or, not, if), and over the band array
// array_element (by index or label) and mean, sum, min, max. Errors name the graph's node.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sco::server {

struct CallbackInput {
  // apply: empty (the callback's parameter is the pixel, "x"). A reducer over bands: the band labels,
  // read in the expression as b1, b2, ... in this order.
  std::vector<std::string> band_labels;
  // A callback of named scalar parameters (merge_cubes' overlap resolver: x and y): each read in the
  // expression under its own name. Empty: the one parameter is the pixel "x".
  std::vector<std::string> parameters;
};

// `node`: the id of the process holding the callback (for errors); `process`: its {"process_graph"}.
std::string compile_callback(const std::string& node, const nlohmann::json& process, const CallbackInput& input);

// An array-valued callback over the band array (apply_dimension over bands): one expression per value
// of the array it returns (the bands, array_create, array_concat, quantiles, sort, order).
std::vector<std::string> compile_array_callback(const std::string& node, const nlohmann::json& process, const CallbackInput& input);

// The names compile_callback gives the bands ("b1", "b2", ...).
std::string callback_band_name(std::size_t index);

}  // namespace sco::server
