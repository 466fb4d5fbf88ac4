#include "indicators/recipe.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "algebra/expression.hpp"
#include "algebra/spectral_index.hpp"
#include "core/digest.hpp"
#include "core/error.hpp"
#include "zonal/statistic.hpp"

namespace sco::indicators {

using core::ErrorCode;
using nlohmann::json;

const char* input_kind_name(InputKind kind) {
  switch (kind) {
    case InputKind::kRaster: return "raster";
    case InputKind::kImage: return "image";
    case InputKind::kCube: return "cube";
  }
  return "?";
}

namespace {

const char* const kOps[] = {"index.NAME", "raster.calc", "cube.reduce", "cube.trend", "cube.anomaly",
                            "cube.change", "zonal.stats", "zonal.trend", "risk"};

bool valid_name(const std::string& s) {
  if (s.empty() || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}

// Line and column (1-based) of a byte offset.
std::pair<int, int> line_column(std::string_view text, std::size_t byte) {
  int line = 1, col = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

std::string type_of(const json& v) { return v.type_name(); }

// Reads the "YYYY", "YYYY-MM" or "YYYY-MM-DD" bound of a period; `end` fills missing parts upward.
long date_key(const std::string& text, bool end, const std::string& where) {
  int y = 0, m = end ? 12 : 1, d = end ? 31 : 1;
  char tail = 0;
  int parts = 0;
  if (text.size() == 4) {
    parts = std::sscanf(text.c_str(), "%4d%c", &y, &tail) == 1 ? 1 : 0;
  } else if (text.size() == 7) {
    parts = std::sscanf(text.c_str(), "%4d-%2d%c", &y, &m, &tail) == 2 ? 2 : 0;
    if (end) d = 31;
  } else if (text.size() == 10) {
    parts = std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 ? 3 : 0;
  }
  if (parts == 0 || m < 1 || m > 12 || d < 1 || d > 31) {
    core::fail(ErrorCode::kInvalidInput, "{}: '{}' is not a date (YYYY, YYYY-MM or YYYY-MM-DD)", where, text);
  }
  return y * 10000L + m * 100L + d;
}

class StepReader {
 public:
  StepReader(const Recipe& recipe, const json& step, std::size_t index, const ParamValues& values)
      : step_(step), values_(values) {
    label_ = fmt::format("recipe '{}': step {}", recipe.source, index + 1);
    if (step.contains("id") && step["id"].is_string()) {
      label_ = fmt::format("recipe '{}': step '{}'", recipe.source, step["id"].get<std::string>());
    }
  }

  [[noreturn]] void fail_field(const std::string& field, const std::string& why) const {
    core::fail(ErrorCode::kInvalidInput, "{}: field '{}': {}", label_, field, why);
  }
  const std::string& label() const { return label_; }

  void allow(std::vector<std::string> fields) const {
    for (const char* common : {"id", "op", "title", "units", "description", "output"}) fields.emplace_back(common);
    for (auto it = step_.begin(); it != step_.end(); ++it) {
      if (std::find(fields.begin(), fields.end(), it.key()) == fields.end()) {
        std::sort(fields.begin(), fields.end());
        core::fail(ErrorCode::kInvalidInput, "{}: unknown field '{}' (fields of {}: {})", label_, it.key(),
                   step_.value("op", std::string("?")), join(fields));
      }
    }
  }

  bool has(const std::string& field) const { return step_.contains(field); }

  // The field's value with "$param" replaced by the parameter and "${param}" inside strings
  // replaced by its text.
  json value(const std::string& field) const { return substitute(step_.at(field), field); }

  json substitute(const json& v, const std::string& field) const {
    if (v.is_string()) {
      const std::string s = v.get<std::string>();
      if (s.size() > 1 && s[0] == '$' && s[1] != '{') {
        const std::string name = s.substr(1);
        const auto it = values_.find(name);
        if (it == values_.end()) fail_field(field, fmt::format("'{}' names no parameter of the recipe", s));
        return it->second;
      }
      std::string out;
      std::size_t pos = 0;
      while (true) {
        const std::size_t open = s.find("${", pos);
        if (open == std::string::npos) break;
        const std::size_t close = s.find('}', open);
        if (close == std::string::npos) fail_field(field, fmt::format("unclosed '${{' in \"{}\"", s));
        const std::string name = s.substr(open + 2, close - open - 2);
        const auto it = values_.find(name);
        if (it == values_.end()) fail_field(field, fmt::format("'${{{}}}' names no parameter of the recipe", name));
        out += s.substr(pos, open - pos);
        out += it->second.is_string() ? it->second.get<std::string>() : it->second.dump();
        pos = close + 1;
      }
      out += s.substr(pos);
      return out;
    }
    if (v.is_array()) {
      json a = json::array();
      for (const auto& e : v) a.push_back(substitute(e, field));
      return a;
    }
    if (v.is_object()) {
      json o = json::object();
      for (auto it = v.begin(); it != v.end(); ++it) o[it.key()] = substitute(it.value(), field + "." + it.key());
      return o;
    }
    return v;
  }

  std::string text(const std::string& field, bool required, const std::string& fallback = "") const {
    if (!has(field)) {
      if (required) core::fail(ErrorCode::kInvalidInput, "{}: missing field '{}'", label_, field);
      return fallback;
    }
    const json v = value(field);
    if (!v.is_string()) fail_field(field, fmt::format("expected a string, got {}", type_of(v)));
    return v.get<std::string>();
  }

  std::optional<double> number(const std::string& field, bool required) const {
    if (!has(field)) {
      if (required) core::fail(ErrorCode::kInvalidInput, "{}: missing field '{}'", label_, field);
      return std::nullopt;
    }
    const json v = value(field);
    if (!v.is_number()) fail_field(field, fmt::format("expected a number, got {}", type_of(v)));
    const double x = v.get<double>();
    if (!std::isfinite(x)) fail_field(field, "expected a finite number");
    return x;
  }

  bool boolean(const std::string& field, bool fallback) const {
    if (!has(field)) return fallback;
    const json v = value(field);
    if (!v.is_boolean()) fail_field(field, fmt::format("expected true or false, got {}", type_of(v)));
    return v.get<bool>();
  }

  Period period(const std::string& field, bool required) const {
    Period p;
    if (!has(field)) {
      if (required) core::fail(ErrorCode::kInvalidInput, "{}: missing field '{}' ([\"START\", \"END\"])", label_, field);
      return p;
    }
    const json v = value(field);
    if (!v.is_array() || v.size() != 2 || !v[0].is_string() || !v[1].is_string()) {
      fail_field(field, "expected [\"START\", \"END\"] dates (YYYY, YYYY-MM or YYYY-MM-DD)");
    }
    p.given = true;
    p.start = v[0].get<std::string>();
    p.end = v[1].get<std::string>();
    const std::string where = fmt::format("{}: field '{}'", label_, field);
    p.first = date_key(p.start, false, where);
    p.last = date_key(p.end, true, where);
    if (p.last < p.first) fail_field(field, fmt::format("the period ends ({}) before it starts ({})", p.end, p.start));
    return p;
  }

 private:
  const json& step_;
  const ParamValues& values_;
  std::string label_;
};

std::string reducer_names() {
  return "mean, min, max, sum, median, percentile, count, count_above, count_below, run_above, run_below";
}

}  // namespace

bool Period::contains(const cube::DateTime& d) const {
  if (!given) return true;
  const long key = d.year * 10000L + d.month * 100L + d.day;
  return key >= first && key <= last;
}

std::string Period::describe() const { return given ? start + ".." + end : "the whole series"; }

bool Step::makes_raster() const { return op != "zonal.stats" && op != "zonal.trend" && op != "risk"; }
bool Step::makes_table() const { return !makes_raster(); }

const InputDecl* Recipe::find_input(std::string_view name) const {
  for (const auto& i : inputs) {
    if (i.name == name) return &i;
  }
  return nullptr;
}

const ParamDecl* Recipe::find_parameter(std::string_view name) const {
  for (const auto& p : parameters) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::string known_ops() {
  std::vector<std::string> ops(std::begin(kOps), std::end(kOps));
  return join(ops);
}

namespace {
// A field of the wrong JSON type that a check above did not name: one clear line, not a crash.
[[noreturn]] void fail_json_type(const std::string& where, const nlohmann::json::exception& e) {
  std::string what = e.what();
  if (const auto close = what.find("] "); close != std::string::npos) what = what.substr(close + 2);
  core::fail(ErrorCode::kInvalidInput, "{}: a field has the wrong JSON type or shape ({})", where, what);
}
Recipe parse_recipe_checked(std::string_view text, const std::string& source);
std::vector<Step> bind_steps_checked(const Recipe& r, const ParamValues& values);
}  // namespace

Recipe parse_recipe(std::string_view text, const std::string& source) {
  try {
    return parse_recipe_checked(text, source);
  } catch (const nlohmann::json::exception& e) {
    fail_json_type(fmt::format("recipe '{}'", source), e);
  }
}

std::vector<Step> bind_steps(const Recipe& r, const ParamValues& values) {
  try {
    return bind_steps_checked(r, values);
  } catch (const nlohmann::json::exception& e) {
    fail_json_type(fmt::format("recipe '{}'", r.source), e);
  }
}

namespace {
Recipe parse_recipe_checked(std::string_view text, const std::string& source) {
  Recipe r;
  r.source = source;
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    const auto [line, col] = line_column(text, e.byte > 0 ? e.byte - 1 : 0);
    std::string why = e.what();
    const auto colon = why.rfind(": ");
    if (colon != std::string::npos) why = why.substr(colon + 2);
    core::fail(ErrorCode::kInvalidInput, "recipe '{}': not valid JSON at line {}, column {}: {}", source, line, col, why);
  }
  auto fail_top = [&](const std::string& field, const std::string& why) {
    core::fail(ErrorCode::kInvalidInput, "recipe '{}': field '{}': {}", source, field, why);
  };
  if (!doc.is_object()) core::fail(ErrorCode::kInvalidInput, "recipe '{}': expected a JSON object, got {}", source, doc.type_name());
  const std::set<std::string> top = {"sco_recipe", "id", "version", "title", "description", "category", "references",
                                     "inputs", "parameters", "steps", "grid"};
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (!top.count(it.key())) {
      core::fail(ErrorCode::kInvalidInput, "recipe '{}': unknown field '{}' (fields: {})", source, it.key(),
                 join({top.begin(), top.end()}));
    }
  }
  if (!doc.contains("sco_recipe") || doc["sco_recipe"] != 1) fail_top("sco_recipe", "must be 1 (the recipe format's version)");
  auto str = [&](const std::string& field, bool required) -> std::string {
    if (!doc.contains(field)) {
      if (required) core::fail(ErrorCode::kInvalidInput, "recipe '{}': missing field '{}'", source, field);
      return "";
    }
    if (!doc[field].is_string()) fail_top(field, fmt::format("expected a string, got {}", doc[field].type_name()));
    return doc[field].get<std::string>();
  };
  r.id = str("id", true);
  r.version = str("version", true);
  r.title = str("title", true);
  r.description = str("description", false);
  r.category = str("category", false);
  if (r.id.empty() || r.id.find_first_of(" /\\") != std::string::npos) fail_top("id", "a non-empty name without spaces or slashes");
  if (doc.contains("references")) {
    if (!doc["references"].is_array()) fail_top("references", "expected an array of strings");
    for (const auto& ref : doc["references"]) {
      if (!ref.is_string()) fail_top("references", "expected an array of strings");
      r.references.push_back(ref.get<std::string>());
    }
  }
  if (!doc.contains("inputs") || !doc["inputs"].is_object() || doc["inputs"].empty()) {
    fail_top("inputs", "expected an object of named inputs, at least one");
  }
  // Inputs keep the order they are written in (the first one gives the working grid by default).
  const nlohmann::ordered_json ordered = nlohmann::ordered_json::parse(text.begin(), text.end());
  for (auto it = ordered["inputs"].begin(); it != ordered["inputs"].end(); ++it) {
    const std::string field = "inputs." + it.key();
    if (!valid_name(it.key())) fail_top(field, "input names are lowercase letters, digits and '_'");
    if (!it->is_object()) fail_top(field, "expected an object with 'kind'");
    InputDecl in;
    in.name = it.key();
    const std::string kind = it->value("kind", std::string());
    if (kind == "raster") in.kind = InputKind::kRaster;
    else if (kind == "image") in.kind = InputKind::kImage;
    else if (kind == "cube") in.kind = InputKind::kCube;
    else fail_top(field + ".kind", fmt::format("'{}' is not raster, image or cube", kind));
    in.title = it->value("title", std::string());
    in.units = it->value("units", std::string());
    r.inputs.push_back(in);
  }
  if (doc.contains("parameters")) {
    if (!doc["parameters"].is_object()) fail_top("parameters", "expected an object of named parameters");
    for (auto it = doc["parameters"].begin(); it != doc["parameters"].end(); ++it) {
      const std::string field = "parameters." + it.key();
      if (!valid_name(it.key())) fail_top(field, "parameter names are lowercase letters, digits and '_'");
      if (!it->is_object()) fail_top(field, "expected an object with 'type'");
      ParamDecl p;
      p.name = it.key();
      const std::string type = it->value("type", std::string());
      if (type == "number") p.type = ParamType::kNumber;
      else if (type == "string") p.type = ParamType::kString;
      else if (type == "boolean") p.type = ParamType::kBoolean;
      else fail_top(field + ".type", fmt::format("'{}' is not number, string or boolean", type));
      p.title = it->value("title", std::string());
      p.units = it->value("units", std::string());
      for (const char* bound : {"minimum", "maximum"}) {
        if (!it->contains(bound)) continue;
        if (!(*it)[bound].is_number()) fail_top(field + "." + bound, "expected a number");
        (std::string(bound) == "minimum" ? p.minimum : p.maximum) = (*it)[bound].get<double>();
      }
      if (it->contains("choices")) {
        const json& c = (*it)["choices"];
        if (!c.is_array() || !std::all_of(c.begin(), c.end(), [](const json& x) { return x.is_string(); })) {
          fail_top(field + ".choices", "expected a list of strings");
        }
        p.choices = c.get<std::vector<std::string>>();
      }
      if (it->contains("default")) {
        const json& d = (*it)["default"];
        const bool ok = (p.type == ParamType::kNumber && d.is_number()) || (p.type == ParamType::kString && d.is_string()) ||
                        (p.type == ParamType::kBoolean && d.is_boolean());
        if (!ok) fail_top(field + ".default", fmt::format("expected a {}, got {}", type, d.type_name()));
        p.default_value = d;
      }
      r.parameters.push_back(p);
    }
  }
  if (doc.contains("grid")) {
    const json& g = doc["grid"];
    if (!g.is_object()) fail_top("grid", "expected {\"like\": INPUT, \"resampling\": METHOD}");
    for (auto it = g.begin(); it != g.end(); ++it) {
      if (it.key() != "like" && it.key() != "resampling") fail_top("grid." + it.key(), "unknown field (like, resampling)");
      if (!it->is_string()) fail_top("grid." + it.key(), "expected a string");
    }
    r.grid_like = g.value("like", std::string());
    r.resampling = g.value("resampling", std::string());
    if (!r.grid_like.empty() && !r.find_input(r.grid_like)) fail_top("grid.like", fmt::format("'{}' is not an input of the recipe", r.grid_like));
  }
  if (!doc.contains("steps") || !doc["steps"].is_array() || doc["steps"].empty()) {
    fail_top("steps", "expected an array of steps, at least one");
  }
  r.document = doc;
  r.hash = core::sha256_hex(doc.dump());
  // When every parameter has a default, the steps are checked now, so a wrong step fails on loading
  // (and `sco indicators` only lists recipes that run). Otherwise they are checked by bind_steps
  // once the run's values are known, still before any data is opened.
  ParamValues defaults;
  bool complete = true;
  for (const auto& p : r.parameters) {
    if (p.default_value.is_null()) complete = false;
    else defaults[p.name] = p.default_value;
  }
  if (complete) bind_steps(r, defaults);
  return r;
}

}  // namespace

Recipe load_recipe_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) core::fail(ErrorCode::kNotFound, "recipe '{}' not found (or not readable)", path);
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_recipe(ss.str(), path);
}

ParamValues bind_parameters(const Recipe& r, const std::vector<std::pair<std::string, std::string>>& overrides) {
  ParamValues values;
  for (const auto& p : r.parameters) {
    if (!p.default_value.is_null()) values[p.name] = p.default_value;
  }
  for (const auto& [key, text] : overrides) {
    const ParamDecl* p = r.find_parameter(key);
    if (!p) {
      std::vector<std::string> names;
      for (const auto& d : r.parameters) names.push_back(d.name);
      core::fail(ErrorCode::kInvalidInput, "--param {}: '{}' has no parameter '{}' (parameters: {})", key, r.id, key,
                 names.empty() ? "none" : join(names));
    }
    switch (p->type) {
      case ParamType::kNumber: {
        char* end = nullptr;
        const double x = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(x)) {
          core::fail(ErrorCode::kInvalidInput, "--param {}: '{}' is not a number", key, text);
        }
        values[key] = x;
        break;
      }
      case ParamType::kBoolean:
        if (text != "true" && text != "false") core::fail(ErrorCode::kInvalidInput, "--param {}: '{}' is not true or false", key, text);
        values[key] = text == "true";
        break;
      case ParamType::kString:
        values[key] = text;
        break;
    }
  }
  for (const auto& p : r.parameters) {
    const auto it = values.find(p.name);
    if (it == values.end()) core::fail(ErrorCode::kInvalidInput, "'{}' needs --param {}=VALUE ({})", r.id, p.name, p.title);
    if (p.type == ParamType::kNumber) {
      const double x = it->second.get<double>();
      if ((p.minimum && x < *p.minimum) || (p.maximum && x > *p.maximum)) {
        core::fail(ErrorCode::kInvalidInput, "parameter {}={} is outside {}..{}", p.name, x,
                   p.minimum ? fmt::format("{}", *p.minimum) : "", p.maximum ? fmt::format("{}", *p.maximum) : "");
      }
    }
    if (p.type == ParamType::kString && !p.choices.empty() &&
        std::find(p.choices.begin(), p.choices.end(), it->second.get<std::string>()) == p.choices.end()) {
      core::fail(ErrorCode::kInvalidInput, "parameter {}='{}' is not one of {}", p.name, it->second.get<std::string>(), join(p.choices));
    }
  }
  return values;
}

std::vector<std::string> table_columns(const Step& s) {
  std::vector<std::string> cols;
  if (s.op == "zonal.stats") {
    for (const auto& spec : zonal::parse_stats(join(s.stats))) cols.push_back(spec.name);
    if (!s.exposure_mask.empty()) {
      cols.insert(cols.end(), {"exposed_fraction", "exposed_area_km2"});
      if (!s.population_field.empty()) cols.insert(cols.end(), {"residents", "exposed_residents"});
    }
  } else if (s.op == "zonal.trend") {
    cols = {"mean", "slope", "mk_s", "mk_z", "p_value", "steps"};
  } else if (s.op == "risk") {
    cols = {"hazard", "exposure", "vulnerability", "hazard_norm", "exposure_norm", "vulnerability_norm", "risk"};
  }
  if (s.classes.given) cols.push_back("class");
  return cols;
}

namespace {
std::vector<Step> bind_steps_checked(const Recipe& r, const ParamValues& values) {
  std::vector<Step> steps;
  const json& list = r.document.at("steps");
  auto find_step = [&](const std::string& id) -> const Step* {
    for (const auto& s : steps) {
      if (s.id == id) return &s;
    }
    return nullptr;
  };
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json& js = list[i];
    if (!js.is_object()) core::fail(ErrorCode::kInvalidInput, "recipe '{}': step {}: expected an object", r.source, i + 1);
    StepReader rd(r, js, i, values);
    Step s;
    s.id = rd.text("id", true);
    if (!valid_name(s.id)) rd.fail_field("id", "step ids are lowercase letters, digits and '_', starting with a letter");
    if (find_step(s.id) || r.find_input(s.id)) rd.fail_field("id", fmt::format("'{}' is already an input or an earlier step", s.id));
    s.op = rd.text("op", true);
    s.title = rd.text("title", false, s.id);
    s.units = rd.text("units", false);
    s.description = rd.text("description", false);
    s.output = rd.boolean("output", false);

    // A raster that a step may read: a raster input or an earlier raster step.
    auto raster_ref = [&](const std::string& field, bool required) -> std::string {
      const std::string name = rd.text(field, required);
      if (name.empty()) return name;
      if (const InputDecl* in = r.find_input(name)) {
        if (in->kind != InputKind::kRaster) rd.fail_field(field, fmt::format("input '{}' is a {}, not a raster", name, input_kind_name(in->kind)));
        return name;
      }
      const Step* st = find_step(name);
      if (!st) rd.fail_field(field, fmt::format("'{}' is neither an input nor an earlier step", name));
      if (!st->makes_raster()) rd.fail_field(field, fmt::format("step '{}' makes a table, not a raster", name));
      return name;
    };
    auto input_of_kind = [&](const std::string& field, InputKind kind) {
      const std::string name = rd.text(field, true);
      const InputDecl* in = r.find_input(name);
      if (!in) rd.fail_field(field, fmt::format("'{}' is not an input of the recipe", name));
      if (in->kind != kind) rd.fail_field(field, fmt::format("input '{}' is a {}; this step needs a {}", name, input_kind_name(in->kind), input_kind_name(kind)));
      return name;
    };
    auto reducer = [&](bool thresholds) {
      const std::string name = rd.text("reducer", false, "mean");
      std::string text = name;
      const bool needs_threshold = name == "count_above" || name == "count_below" || name == "run_above" || name == "run_below";
      if (needs_threshold) {
        if (!thresholds) rd.fail_field("reducer", fmt::format("'{}' is not available in {}", name, s.op));
        if (rd.has("threshold_percentile")) {
          s.threshold_percentile = rd.number("threshold_percentile", true);
          if (*s.threshold_percentile < 0 || *s.threshold_percentile > 100) rd.fail_field("threshold_percentile", "a percentile lies in 0..100");
          if (rd.has("threshold")) rd.fail_field("threshold", "give threshold or threshold_percentile, not both");
          text += ":0";
        } else {
          if (!rd.has("threshold")) rd.fail_field("threshold", fmt::format("reducer '{}' needs a threshold (or threshold_percentile)", name));
          text += fmt::format(":{}", *rd.number("threshold", true));
        }
      } else if (name == "percentile") {
        const double q = *rd.number("percentile", true);
        if (q < 0 || q > 100) rd.fail_field("percentile", "a percentile lies in 0..100");
        text = fmt::format("p{}", q);
      } else if (rd.has("threshold") || rd.has("threshold_percentile")) {
        rd.fail_field(rd.has("threshold") ? "threshold" : "threshold_percentile", fmt::format("reducer '{}' takes no threshold", name));
      }
      static const std::set<std::string> kKnown = {"mean", "min", "max", "sum", "median", "percentile", "count",
                                                   "count_above", "count_below", "run_above", "run_below"};
      if (!kKnown.count(name)) rd.fail_field("reducer", fmt::format("unknown reducer '{}' (reducers: {})", name, reducer_names()));
      s.reducer = cube::parse_series_op(text);
    };

    if (s.op.rfind("index.", 0) == 0) {
      rd.allow({"input", "sensor", "scale", "offset"});
      s.index = s.op.substr(6);
      if (!algebra::find_index(s.index)) {
        std::vector<std::string> ids;
        for (const auto& idx : algebra::spectral_indices()) ids.push_back(std::string("index.") + idx.id);
        rd.fail_field("op", fmt::format("unknown index '{}' (indices: {})", s.index, join(ids)));
      }
      s.input = input_of_kind("input", InputKind::kImage);
      s.sensor = rd.text("sensor", true);
      if (!algebra::find_sensor(s.sensor)) {
        std::vector<std::string> ids;
        for (const auto& sn : algebra::sensors()) ids.push_back(sn.id);
        rd.fail_field("sensor", fmt::format("unknown sensor '{}' (sensors: {})", s.sensor, join(ids)));
      }
      s.scale = rd.number("scale", false).value_or(1.0);
      s.offset = rd.number("offset", false).value_or(0.0);
    } else if (s.op == "raster.calc") {
      rd.allow({"expression"});
      s.expression = rd.text("expression", true);
      algebra::Expr e;
      try {
        e = algebra::parse_expression(s.expression);
      } catch (const core::Error& err) {
        rd.fail_field("expression", err.what());
      }
      for (const auto& name : algebra::referenced_inputs(e)) {
        const InputDecl* in = r.find_input(name);
        const Step* st = find_step(name);
        if (in && in->kind != InputKind::kRaster) rd.fail_field("expression", fmt::format("input '{}' is a {}, not a raster", name, input_kind_name(in->kind)));
        if (st && !st->makes_raster()) rd.fail_field("expression", fmt::format("step '{}' makes a table, not a raster", name));
        if (!in && !st) rd.fail_field("expression", fmt::format("'{}' is neither an input nor an earlier step", name));
      }
    } else if (s.op == "cube.reduce") {
      rd.allow({"input", "reducer", "threshold", "threshold_percentile", "percentile", "period", "baseline", "mask", "quality", "quality_valid"});
      s.input = input_of_kind("input", InputKind::kCube);
      reducer(true);
      s.period = rd.period("period", false);
      s.baseline = rd.period("baseline", false);
      if (s.baseline.given && !s.threshold_percentile) rd.fail_field("baseline", "only used with threshold_percentile");
    } else if (s.op == "cube.trend") {
      rd.allow({"input", "statistic", "per", "period", "mask", "quality", "quality_valid"});
      s.input = input_of_kind("input", InputKind::kCube);
      const std::string stat = rd.text("statistic", false, "sen_slope");
      if (stat != "sen_slope" && stat != "mk_z" && stat != "mk_p") rd.fail_field("statistic", fmt::format("'{}' is not sen_slope, mk_z or mk_p", stat));
      s.reducer = cube::parse_series_op(stat);
      const std::string per = rd.text("per", false, "year");
      if (per == "year") s.per = 1.0;
      else if (per == "decade") s.per = 10.0;
      else rd.fail_field("per", fmt::format("'{}' is not year or decade", per));
      s.period = rd.period("period", false);
    } else if (s.op == "cube.anomaly" || s.op == "cube.change") {
      const bool anomaly = s.op == "cube.anomaly";
      rd.allow(anomaly ? std::vector<std::string>{"input", "reducer", "percentile", "period", "baseline", "relative", "mask", "quality", "quality_valid"}
                       : std::vector<std::string>{"input", "reducer", "percentile", "before", "after", "relative", "mask", "quality", "quality_valid"});
      s.input = input_of_kind("input", InputKind::kCube);
      reducer(false);
      s.period = rd.period(anomaly ? "period" : "after", !anomaly);
      s.baseline = rd.period(anomaly ? "baseline" : "before", true);
      s.relative = rd.boolean("relative", false);
    } else if (s.op == "zonal.stats") {
      rd.allow({"raster", "stats", "weights", "exposure", "classes"});
      s.raster = raster_ref("raster", true);
      const json stats = rd.value("stats");
      if (!stats.is_array() || stats.empty()) rd.fail_field("stats", "expected an array of statistic names");
      for (const auto& st : stats) {
        if (!st.is_string()) rd.fail_field("stats", "expected an array of statistic names");
        s.stats.push_back(st.get<std::string>());
      }
      try {
        const auto parsed = zonal::parse_stats(join(s.stats));
        if (zonal::needs_of(parsed).weights && !rd.has("weights")) rd.fail_field("stats", "weighted statistics need a 'weights' raster");
      } catch (const core::Error& err) {
        if (std::string_view(err.what()).find("field 'stats'") != std::string_view::npos) throw;
        rd.fail_field("stats", err.what());
      }
      s.weights = raster_ref("weights", false);
      if (rd.has("exposure")) {
        const json ex = rd.value("exposure");
        if (!ex.is_object() || !ex.contains("mask") || !ex["mask"].is_string()) {
          rd.fail_field("exposure", "expected {\"mask\": RASTER, \"population_field\": FIELD}");
        }
        for (auto it = ex.begin(); it != ex.end(); ++it) {
          if (it.key() != "mask" && it.key() != "population_field") rd.fail_field("exposure." + it.key(), "unknown field (mask, population_field)");
        }
        const std::string mask = ex["mask"].get<std::string>();
        const InputDecl* in = r.find_input(mask);
        const Step* st = find_step(mask);
        if (!(in && in->kind == InputKind::kRaster) && !(st && st->makes_raster())) {
          rd.fail_field("exposure.mask", fmt::format("'{}' is not a raster input or an earlier raster step", mask));
        }
        s.exposure_mask = mask;
        if (ex.contains("population_field")) {
          if (!ex["population_field"].is_string()) rd.fail_field("exposure.population_field", "expected a field name");
          s.population_field = ex["population_field"].get<std::string>();
        }
      }
    } else if (s.op == "zonal.trend") {
      rd.allow({"input", "per", "period", "alpha", "classes"});
      s.input = input_of_kind("input", InputKind::kCube);
      const std::string per = rd.text("per", false, "year");
      if (per == "year") s.per = 1.0;
      else if (per == "decade") s.per = 10.0;
      else rd.fail_field("per", fmt::format("'{}' is not year or decade", per));
      s.period = rd.period("period", false);
      s.alpha = rd.number("alpha", false).value_or(0.05);
      if (!(s.alpha > 0 && s.alpha < 1)) rd.fail_field("alpha", "a significance level lies strictly between 0 and 1");
    } else if (s.op == "risk") {
      rd.allow({"hazard", "exposure", "vulnerability", "classes"});
      auto column_ref = [&](const std::string& field, bool allow_field) {
        TableColumnRef ref;
        const json v = rd.value(field);
        if (!v.is_object()) rd.fail_field(field, "expected {\"step\": STEP, \"column\": COLUMN}");
        if (allow_field && v.contains("field")) {
          if (!v["field"].is_string() || v["field"].get<std::string>().empty()) rd.fail_field(field + ".field", "expected a field name of the area of interest");
          ref.field = v["field"].get<std::string>();
          ref.given = true;
          return ref;
        }
        if (!v.contains("step") || !v["step"].is_string()) rd.fail_field(field + ".step", "expected the id of an earlier zonal.stats step");
        if (!v.contains("column") || !v["column"].is_string()) rd.fail_field(field + ".column", "expected a column name");
        ref.step = v["step"].get<std::string>();
        ref.column = v["column"].get<std::string>();
        const Step* st = find_step(ref.step);
        if (!st || (st->op != "zonal.stats" && st->op != "zonal.trend")) {
          rd.fail_field(field + ".step", fmt::format("'{}' is not an earlier zonal.stats or zonal.trend step", ref.step));
        }
        const auto cols = table_columns(*st);
        if (std::find(cols.begin(), cols.end(), ref.column) == cols.end() || ref.column == "class") {
          rd.fail_field(field + ".column", fmt::format("step '{}' has no numeric column '{}' (columns: {})", ref.step, ref.column, join(cols)));
        }
        ref.given = true;
        return ref;
      };
      s.hazard = column_ref("hazard", false);
      if (rd.has("exposure")) s.exposure = column_ref("exposure", false);
      if (rd.has("vulnerability")) s.vulnerability = column_ref("vulnerability", true);
    } else {
      rd.fail_field("op", fmt::format("unknown op '{}' (ops: {})", s.op, known_ops()));
    }
    if (s.op.rfind("cube.", 0) == 0) {
      s.mask = raster_ref("mask", false);
      if (rd.has("quality")) {
        const std::string q = rd.text("quality", true);
        const InputDecl* in = r.find_input(q);
        if (!in || in->kind != InputKind::kCube) rd.fail_field("quality", fmt::format("'{}' is not a cube input of the recipe", q));
        s.quality = q;
      }
      if (rd.has("quality_valid")) {
        if (s.quality.empty()) rd.fail_field("quality_valid", "only used with 'quality'");
        const json v = rd.value("quality_valid");
        if (!v.is_array() || v.empty()) rd.fail_field("quality_valid", "expected an array of values");
        for (const auto& x : v) {
          if (!x.is_number()) rd.fail_field("quality_valid", "expected an array of numbers");
          s.quality_valid.push_back(x.get<double>());
        }
      }
    }
    if (js.contains("classes")) {
      if (!s.makes_table()) rd.fail_field("classes", "only tables (zonal.stats, risk) have classes");
      const json c = rd.value("classes");
      if (!c.is_object() || !c.contains("column") || !c["column"].is_string() || !c.contains("thresholds") ||
          !c["thresholds"].is_array() || c["thresholds"].size() != 2 || !c["thresholds"][0].is_number() ||
          !c["thresholds"][1].is_number()) {
        rd.fail_field("classes", "expected {\"column\": COLUMN, \"thresholds\": [LOW_BELOW, HIGH_FROM]}");
      }
      s.classes.given = true;
      s.classes.column = c["column"].get<std::string>();
      s.classes.low_below = c["thresholds"][0].get<double>();
      s.classes.high_from = c["thresholds"][1].get<double>();
      if (s.classes.high_from < s.classes.low_below) rd.fail_field("classes.thresholds", "the second threshold is below the first");
      if (c.contains("labels")) {
        if (!c["labels"].is_array() || c["labels"].size() != 3) rd.fail_field("classes.labels", "expected three labels");
        s.classes.labels = c["labels"].get<std::vector<std::string>>();
      }
      auto cols = table_columns(s);
      cols.pop_back();  // "class" itself
      if (std::find(cols.begin(), cols.end(), s.classes.column) == cols.end()) {
        rd.fail_field("classes.column", fmt::format("'{}' is not a column of this step (columns: {})", s.classes.column, join(cols)));
      }
    }
    steps.push_back(std::move(s));
  }
  bool any_output = false;
  for (const auto& s : steps) any_output = any_output || s.output;
  if (!any_output) core::fail(ErrorCode::kInvalidInput, "recipe '{}': no step has \"output\": true", r.source);
  return steps;
}

}  // namespace

}  // namespace sco::indicators
