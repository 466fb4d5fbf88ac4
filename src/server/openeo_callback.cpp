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
    static const std::map<std::string, std::string> kUnary = {
        {"absolute", "abs"}, {"sqrt", "sqrt"}, {"exp", "exp"},   {"ln", "log"},     {"floor", "floor"},    {"ceil", "ceil"},
        {"round", "round"},  {"not", "not "},  {"sin", "sin"},   {"cos", "cos"},    {"tan", "tan"},        {"arcsin", "asin"},
        {"arccos", "acos"},  {"arctan", "atan"}, {"sgn", "sign"}};
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
    if (p == "mod") return "mod(" + scalar(a, p, "x", depth) + ", " + scalar(a, p, "y", depth) + ")";
    if (p == "e") return "(2.718281828459045)";
    if (p == "pi") return "(3.141592653589793)";
    if (p == "constant") return scalar(a, p, "x", depth);
    if (p == "between") {
      const std::string x = scalar(a, p, "x", depth);
      const bool exclude_max = a.value("exclude_max", json(false)).is_boolean() && a.value("exclude_max", false);
      return fmt::format("(({} >= {}) and ({} {} {}))", x, scalar(a, p, "min", depth), x, exclude_max ? "<" : "<=", scalar(a, p, "max", depth));
    }
    if (p == "array_element") return element(a, depth);
    if (p == "mean" || p == "sum" || p == "min" || p == "max" || p == "product" || p == "sd" || p == "variance" || p == "median" ||
        p == "first" || p == "last") {
      return over_bands(p, a);
    }
    fail_node(node_, "ProcessUnsupported",
              fmt::format("callback process '{}' (callbacks take arithmetic, trigonometry, comparisons, logic, if, between, clip, "
                          "linear_scale_range, normalized_difference, array_element and mean, sum, product, min, max, median, sd, "
                          "variance, first, last over the bands)", p));
  }

  // The values of an array-valued callback (apply_dimension over bands), one expression each: the band
  // array itself, array_create, array_concat, quantiles, sort and order of the bands.
  std::vector<std::string> array(const json& v, int depth) {
    if (depth > 64) fail_node(node_, "ProcessGraphInvalid", "the callback is nested too deep (or has a cycle)");
    if (v.is_object() && v.contains("from_parameter")) return band_names();
    if (v.is_array()) {
      std::vector<std::string> out;
      for (const auto& e : v) out.push_back(e.is_number() ? fmt::format("({})", e.get<double>()) : scalar(json{{"x", e}}, "array_create", "x", depth));
      return out;
    }
    if (!v.is_object() || !v.contains("from_node") || !v["from_node"].is_string() || !graph_.contains(v["from_node"].get<std::string>())) {
      fail_node(node_, "ProcessArgumentInvalid", "an array must be the band array, a list or another node of the callback");
    }
    const json& n = graph_.at(v["from_node"].get<std::string>());
    const std::string p = n.value("process_id", "");
    const json a = n.value("arguments", json::object());
    if (p == "array_concat") {
      std::vector<std::string> out = array(a.value("array1", json()), depth + 1), rest = array(a.value("array2", json()), depth + 1);
      out.insert(out.end(), rest.begin(), rest.end());
      return out;
    }
    if (p == "array_create") {
      const std::vector<std::string> once = a.contains("data") ? array(a["data"], depth + 1) : std::vector<std::string>{};
      const json repeat = a.value("repeat", json(1));
      if (!repeat.is_number_integer() || repeat.get<long long>() < 1 || repeat.get<long long>() > 1000) fail_node(node_, "ProcessArgumentInvalid", "array_create: repeat is 1 to 1000");
      std::vector<std::string> out;
      for (long long r = 0; r < repeat.get<long long>(); ++r) out.insert(out.end(), once.begin(), once.end());
      return out;
    }
    if (p == "quantiles") return quantiles(a);
    if (p == "sort" || p == "order") return sorted(a, p);
    // a scalar node: an array of one value
    return {compile(v["from_node"].get<std::string>(), depth + 1)};
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

  std::vector<std::string> band_names() const {
    if (input_.band_labels.empty()) fail_node(node_, "ProcessArgumentInvalid", "this callback has no band array");
    std::vector<std::string> names;
    for (std::size_t i = 0; i < input_.band_labels.size(); ++i) names.push_back(callback_band_name(i));
    return names;
  }

  // A reducer over the bands. A missing band makes the result missing, except for first and last,
  // which skip missing bands unless ignore_nodata is false.
  std::string over_bands(const std::string& p, const json& a) {
    need_band_array(a, p);
    const std::vector<std::string> names = band_names();
    const std::size_t n = names.size();
    if (p == "first" || p == "last") {
      const bool skip = !(a.contains("ignore_nodata") && a["ignore_nodata"].is_boolean() && !a["ignore_nodata"].get<bool>());
      std::string e = p == "first" ? names.back() : names.front();
      if (!skip) return p == "first" ? names.front() : names.back();
      for (std::size_t k = 1; k < n; ++k) {
        const std::string& b = p == "first" ? names[n - 1 - k] : names[k];
        e = fmt::format("where(isnodata({}), {}, {})", b, e, b);
      }
      return e;
    }
    if (p == "median") return quantile_of(sort_network(names).first, 0.5);
    if (n == 1 && p != "sd" && p != "variance") return names[0];
    if (p == "min" || p == "max") return fmt::format("{}({})", p, fmt::join(names, ", "));
    if (p == "product") return fmt::format("({})", fmt::join(names, " * "));
    const std::string sum = fmt::format("({})", fmt::join(names, " + "));
    if (p == "sum") return sum;
    const std::string mean = fmt::format("({} / {})", sum, n);
    if (p == "mean") return mean;
    if (n < 2) return "(0 / 0)";  // the sample variance of one value
    std::vector<std::string> squares;
    for (const auto& b : names) squares.push_back(fmt::format("({} - {}) ^ 2", b, mean));
    const std::string variance = fmt::format("(({}) / {})", fmt::join(squares, " + "), n - 1);
    return p == "variance" ? variance : "sqrt(" + variance + ")";
  }

  // The values in ascending order and the index each came from, by a network of compare-exchanges
  // (odd-even transposition): branch-free expressions, vectorised like any band math. Each pass
  // doubles the expressions' size: up to 8 bands.
  std::pair<std::vector<std::string>, std::vector<std::string>> sort_network(std::vector<std::string> v) const {
    const std::size_t n = v.size();
    if (n > 8) fail_node(node_, "ProcessUnsupported", fmt::format("sorting {} bands in a callback (up to 8)", n));
    std::vector<std::string> index;
    for (std::size_t i = 0; i < n; ++i) index.push_back(fmt::format("({})", i));
    for (std::size_t pass = 0; pass < n; ++pass) {
      for (std::size_t i = pass % 2; i + 1 < n; i += 2) {
        const std::string lo = fmt::format("({} <= {})", v[i], v[i + 1]);
        const std::string a = v[i], b = v[i + 1], ia = index[i], ib = index[i + 1];
        v[i] = fmt::format("min({}, {})", a, b);
        v[i + 1] = fmt::format("max({}, {})", a, b);
        index[i] = fmt::format("where({}, {}, {})", lo, ia, ib);
        index[i + 1] = fmt::format("where({}, {}, {})", lo, ib, ia);
      }
    }
    return {v, index};
  }

  // The q-quantile of sorted values, linear between the order statistics around (n - 1) q (openEO's
  // default, type 7, as numpy's).
  static std::string quantile_of(const std::vector<std::string>& sorted, double q) {
    const double h = (static_cast<double>(sorted.size()) - 1.0) * q;
    const std::size_t lo = static_cast<std::size_t>(h);
    const double frac = h - static_cast<double>(lo);
    if (lo + 1 >= sorted.size() || frac == 0.0) return sorted[lo];
    return fmt::format("({} + {} * ({} - {}))", sorted[lo], frac, sorted[lo + 1], sorted[lo]);
  }

  std::vector<std::string> quantiles(const json& a) {
    need_band_array(a, "quantiles");
    std::vector<double> qs;
    const json probs = a.value("probabilities", json());
    if (probs.is_array()) {
      for (const auto& q : probs) {
        if (!q.is_number() || q.get<double>() < 0 || q.get<double>() > 1) fail_node(node_, "ProcessArgumentInvalid", "quantiles: probabilities lie in [0, 1]");
        qs.push_back(q.get<double>());
      }
    } else if (probs.is_number_integer() || a.value("q", json()).is_number_integer()) {
      const long long k = probs.is_number_integer() ? probs.get<long long>() : a["q"].get<long long>();  // k-quantiles: k - 1 cut points
      if (k < 2 || k > 100) fail_node(node_, "ProcessArgumentInvalid", "quantiles: q is 2 to 100");
      for (long long i = 1; i < k; ++i) qs.push_back(static_cast<double>(i) / static_cast<double>(k));
    } else {
      fail_node(node_, "QuantilesParameterMissing", "quantiles needs probabilities (a list, or a number of intervals)");
    }
    const auto sorted = sort_network(band_names()).first;
    std::vector<std::string> out;
    for (double q : qs) out.push_back(quantile_of(sorted, q));
    return out;
  }

  std::vector<std::string> sorted(const json& a, const std::string& p) {
    need_band_array(a, p);
    auto [values, index] = sort_network(band_names());
    std::vector<std::string> out = p == "sort" ? values : index;
    const json asc = a.value("asc", json(true));
    if (asc.is_boolean() && !asc.get<bool>()) std::reverse(out.begin(), out.end());
    return out;
  }

  const std::string& node_;
  const json& graph_;
  const CallbackInput& input_;
};

}  // namespace

std::string callback_band_name(std::size_t index) { return fmt::format("b{}", index + 1); }

namespace {
std::string result_node(const std::string& node, const json& graph) {
  std::string result;
  if (graph.is_object()) {
    for (const auto& [id, n] : graph.items()) {
      if (n.is_object() && n.value("result", false)) result = id;
    }
  }
  if (result.empty()) fail_node(node, "ProcessArgumentInvalid", "the callback must be a process graph with a result node");
  return result;
}
}  // namespace

std::string compile_callback(const std::string& node, const json& process, const CallbackInput& input) {
  const json graph = process.is_object() ? process.value("process_graph", json()) : json();
  const std::string result = result_node(node, graph);
  return Compiler(node, graph, input).compile(result, 0);
}

std::vector<std::string> compile_array_callback(const std::string& node, const json& process, const CallbackInput& input) {
  const json graph = process.is_object() ? process.value("process_graph", json()) : json();
  const std::string result = result_node(node, graph);
  return Compiler(node, graph, input).array(json{{"from_node", result}}, 0);
}

}  // namespace sco::server
