#include "indicators/step_reader.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

#include "core/error.hpp"

namespace sco::indicators {

using core::ErrorCode;
using nlohmann::json;

namespace {

std::string join(std::vector<std::string> v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}

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

}  // namespace

void fail_json_type(const std::string& where, const nlohmann::json::exception& e) {
  std::string what = e.what();
  if (const auto close = what.find("] "); close != std::string::npos) what = what.substr(close + 2);
  core::fail(ErrorCode::kInvalidInput, "{}: a field has the wrong JSON type or shape ({})", where, what);
}

StepReader::StepReader(const Recipe& recipe, const json& step, std::size_t index, const ParamValues& values)
    : step_(step), values_(values) {
  label_ = fmt::format("recipe '{}': step {}", recipe.source, index + 1);
  if (step.contains("id") && step["id"].is_string()) label_ = fmt::format("recipe '{}': step '{}'", recipe.source, step["id"].get<std::string>());
}

void StepReader::fail_field(const std::string& field, const std::string& why) const {
  core::fail(ErrorCode::kInvalidInput, "{}: field '{}': {}", label_, field, why);
}

void StepReader::allow(std::vector<std::string> fields) const {
  for (const char* common : {"id", "op", "title", "units", "description", "output"}) fields.emplace_back(common);
  for (auto it = step_.begin(); it != step_.end(); ++it) {
    if (std::find(fields.begin(), fields.end(), it.key()) == fields.end()) {
      std::sort(fields.begin(), fields.end());
      core::fail(ErrorCode::kInvalidInput, "{}: unknown field '{}' (fields of {}: {})", label_, it.key(), step_.value("op", std::string("?")),
                 join(fields));
    }
  }
}

json StepReader::substitute(const json& v, const std::string& field) const {
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

std::string StepReader::text(const std::string& field, bool required, const std::string& fallback) const {
  if (!has(field)) {
    if (required) core::fail(ErrorCode::kInvalidInput, "{}: missing field '{}'", label_, field);
    return fallback;
  }
  const json v = value(field);
  if (!v.is_string()) fail_field(field, fmt::format("expected a string, got {}", v.type_name()));
  return v.get<std::string>();
}

std::optional<double> StepReader::number(const std::string& field, bool required) const {
  if (!has(field)) {
    if (required) core::fail(ErrorCode::kInvalidInput, "{}: missing field '{}'", label_, field);
    return std::nullopt;
  }
  const json v = value(field);
  if (!v.is_number()) fail_field(field, fmt::format("expected a number, got {}", v.type_name()));
  const double x = v.get<double>();
  if (!std::isfinite(x)) fail_field(field, "expected a finite number");
  return x;
}

bool StepReader::boolean(const std::string& field, bool fallback) const {
  if (!has(field)) return fallback;
  const json v = value(field);
  if (!v.is_boolean()) fail_field(field, fmt::format("expected true or false, got {}", v.type_name()));
  return v.get<bool>();
}

Period StepReader::period(const std::string& field, bool required) const {
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

}  // namespace sco::indicators
