#include "server/openeo_callback.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.hpp"

namespace sco::server {

using nlohmann::json;

namespace {

[[noreturn]] void fail_node(const std::string& node, const std::string& code, const std::string& why) {
  core::fail(core::ErrorCode::kInvalidInput, "{}: node '{}': {}", code, node, why);
}

class Compiler {
 public:
  Compiler(const std::string& node, const json& graph, const CallbackInput& input) : node_(node), graph_(graph), input_(input) {}

  std::string compile(const std::string& id, int depth) {
    if (depth > 64) fail_node(node_, "ProcessGraphInvalid", "the callback is nested too deep (or has a cycle)");
    const json& n = graph_.at(id);
    const std::string p = n.value("process_id", "");
    const json a = n.value("arguments", json::object());
    static const std::map<std::string, std::string> kBinary = {{"add", "+"}, {"subtract", "-"}, {"multiply", "*"}, {"divide", "/"},
                                                               {"gt", ">"},  {"gte", ">="},     {"lt", "<"},        {"lte", "<="},
                                                               {"eq", "=="}, {"neq", "!="},     {"and", "and"},     {"or", "or"}};
    static const std::map<std::string, std::string> kUnary = {{"absolute", "abs"}, {"sqrt", "sqrt"}, {"exp", "exp"},     {"ln", "log"},
                                                              {"floor", "floor"},  {"ceil", "ceil"}, {"round", "round"}, {"not", "not "}};
    if (auto b = kBinary.find(p); b != kBinary.end()) return "(" + scalar(a, p, "x", depth) + " " + b->second + " " + scalar(a, p, "y", depth) + ")";
    if (auto u = kUnary.find(p); u != kUnary.end()) return u->second + "(" + scalar(a, p, "x", depth) + ")";
    if (p == "int") return "where(" + scalar(a, p, "x", depth) + " < 0, ceil(" + scalar(a, p, "x", depth) + "), floor(" + scalar(a, p, "x", depth) + "))";
    if (p == "log") return "(log(" + scalar(a, p, "x", depth) + ") / log(" + scalar(a, p, "base", depth) + "))";
    if (p == "power") return "pow(" + scalar(a, p, "base", depth) + ", " + scalar(a, p, "p", depth) + ")";
    if (p == "clip") return "clamp(" + scalar(a, p, "x", depth) + ", " + scalar(a, p, "min", depth) + ", " + scalar(a, p, "max", depth) + ")";
    if (p == "if") return "where(" + scalar(a, p, "value", depth) + ", " + scalar(a, p, "accept", depth) + ", " + optional(a, p, "reject", "(0 / 0)", depth) + ")";
    if (p == "normalized_difference") {
      const std::string x = scalar(a, p, "x", depth), y = scalar(a, p, "y", depth);
      return "((" + x + " - " + y + ") / (" + x + " + " + y + "))";
    }
    if (p == "linear_scale_range") {
      const std::string x = scalar(a, p, "x", depth), lo = scalar(a, p, "inputMin", depth), hi = scalar(a, p, "inputMax", depth);
      const std::string out_lo = optional(a, p, "outputMin", "0", depth), out_hi = optional(a, p, "outputMax", "1", depth);
      return fmt::format("((({} - {}) / ({} - {})) * ({} - {}) + {})", x, lo, hi, lo, out_hi, out_lo, out_lo);
    }
    if (p == "array_element") return element(a, depth);
    if (p == "mean" || p == "sum" || p == "min" || p == "max") return over_bands(p, a);
    fail_node(node_, "ProcessUnsupported",
              fmt::format("callback process '{}' (callbacks take arithmetic, comparisons, logic, if, clip, linear_scale_range, "
                          "normalized_difference, array_element and mean, sum, min, max over the bands)", p));
  }

 private:
  // An argument that is one value per pixel.
  std::string scalar(const json& a, const std::string& p, const char* key, int depth) {
    if (!a.contains(key)) fail_node(node_, "ProcessArgumentRequired", fmt::format("callback process '{}' needs '{}'", p, key));
    const json& v = a[key];
    if (v.is_number()) return fmt::format("({})", v.get<double>());
    if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
    if (v.is_object() && v.contains("from_parameter")) {
      if (!input_.band_labels.empty()) fail_node(node_, "ProcessArgumentInvalid", fmt::format("callback process '{}': '{}' is the whole band array; take array_element first", p, key));
      if (input_.parameters.empty()) return "x";
      const std::string name = v["from_parameter"].is_string() ? v["from_parameter"].get<std::string>() : "";
      if (std::find(input_.parameters.begin(), input_.parameters.end(), name) == input_.parameters.end()) {
        fail_node(node_, "ProcessParameterMissing", fmt::format("callback process '{}': no parameter '{}' (the callback's: {})", p, name, fmt::join(input_.parameters, ", ")));
      }
      return name;
    }
    if (v.is_object() && v.contains("from_node") && v["from_node"].is_string() && graph_.contains(v["from_node"].get<std::string>())) {
      return "(" + compile(v["from_node"].get<std::string>(), depth + 1) + ")";
    }
    fail_node(node_, "ProcessArgumentInvalid", fmt::format("callback process '{}': '{}' must be a number, the pixel or another node", p, key));
  }

  std::string optional(const json& a, const std::string& p, const char* key, const char* fallback, int depth) {
    return a.contains(key) && !a[key].is_null() ? scalar(a, p, key, depth) : fallback;
  }

  void need_band_array(const json& a, const std::string& p) {
    const json d = a.value("data", json());
    if (input_.band_labels.empty() || !d.is_object() || !d.contains("from_parameter")) {
      fail_node(node_, "ProcessArgumentInvalid", fmt::format("callback process '{}': its data must be the bands of a reducer over bands", p));
    }
  }

  std::string element(const json& a, int) {
    need_band_array(a, "array_element");
    const auto& labels = input_.band_labels;
    if (a.contains("index") && a["index"].is_number_integer()) {
      const auto i = a["index"].get<long long>();
      if (i < 0 || i >= static_cast<long long>(labels.size())) {
        fail_node(node_, "ArrayElementNotAvailable", fmt::format("index {} of {} bands", i, labels.size()));
      }
      return callback_band_name(static_cast<std::size_t>(i));
    }
    if (a.contains("label") && a["label"].is_string()) {
      const auto it = std::find(labels.begin(), labels.end(), a["label"].get<std::string>());
      if (it == labels.end()) fail_node(node_, "ArrayElementNotAvailable", fmt::format("no band '{}' (bands: {})", a["label"].get<std::string>(), fmt::join(labels, ", ")));
      return callback_band_name(static_cast<std::size_t>(it - labels.begin()));
    }
    fail_node(node_, "ArrayElementParameterMissing", "array_element needs an integer index or a label");
  }

  std::string over_bands(const std::string& p, const json& a) {
    need_band_array(a, p);
    std::vector<std::string> names;
    for (std::size_t i = 0; i < input_.band_labels.size(); ++i) names.push_back(callback_band_name(i));
    if (names.size() == 1) return names[0];
    if (p == "min" || p == "max") return fmt::format("{}({})", p, fmt::join(names, ", "));
    const std::string sum = fmt::format("({})", fmt::join(names, " + "));
    return p == "sum" ? sum : fmt::format("({} / {})", sum, names.size());
  }

  const std::string& node_;
  const json& graph_;
  const CallbackInput& input_;
};

}  // namespace

std::string callback_band_name(std::size_t index) { return fmt::format("b{}", index + 1); }

std::string compile_callback(const std::string& node, const json& process, const CallbackInput& input) {
  const json graph = process.is_object() ? process.value("process_graph", json()) : json();
  std::string result;
  if (graph.is_object()) {
    for (const auto& [id, n] : graph.items()) {
      if (n.is_object() && n.value("result", false)) result = id;
    }
  }
  if (result.empty()) fail_node(node, "ProcessArgumentInvalid", "the callback must be a process graph with a result node");
  return Compiler(node, graph, input).compile(result, 0);
}

}  // namespace sco::server
