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
#include "indicators/step_reader.hpp"
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

}  // namespace

bool Period::contains(const cube::DateTime& d) const {
  if (!given) return true;
  const long key = d.year * 10000L + d.month * 100L + d.day;
  return key >= first && key <= last;
}

std::string Period::describe() const { return given ? start + ".." + end : "the whole series"; }


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


namespace {
Recipe parse_recipe_checked(std::string_view text, const std::string& source);
}  // namespace

Recipe parse_recipe(std::string_view text, const std::string& source) {
  try {
    return parse_recipe_checked(text, source);
  } catch (const nlohmann::json::exception& e) {
    fail_json_type(fmt::format("recipe '{}'", source), e);
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
  // The steps are checked by run::bind_steps (each op reads its own fields): run::load_recipe does it
  // on loading when every parameter has a default, else once the run's values are known.
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

}  // namespace sco::indicators
