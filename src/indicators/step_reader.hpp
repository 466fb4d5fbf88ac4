#pragma once
// Reading one step of a recipe: its fields with "$param" and "${param}" substituted, typed, and every
// error naming the recipe, the step and the field. The generic half of step binding; what each op
// reads is in its own file under run/ops/.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "indicators/recipe.hpp"

namespace sco::indicators {

class StepReader {
 public:
  StepReader(const Recipe& recipe, const nlohmann::json& step, std::size_t index, const ParamValues& values);

  [[noreturn]] void fail_field(const std::string& field, const std::string& why) const;
  const std::string& label() const { return label_; }
  // Fails on a field that is neither common (id, op, title, units, description, output) nor listed.
  void allow(std::vector<std::string> fields) const;
  bool has(const std::string& field) const { return step_.contains(field); }
  // The field's value with "$param" replaced by the parameter and "${param}" inside strings by its text.
  nlohmann::json value(const std::string& field) const { return substitute(step_.at(field), field); }
  std::string text(const std::string& field, bool required, const std::string& fallback = "") const;
  std::optional<double> number(const std::string& field, bool required) const;
  bool boolean(const std::string& field, bool fallback) const;
  Period period(const std::string& field, bool required) const;

 private:
  nlohmann::json substitute(const nlohmann::json& v, const std::string& field) const;

  const nlohmann::json& step_;
  const ParamValues& values_;
  std::string label_;
};

// A field of the wrong JSON type that no check named: one clear line naming `where`, not a crash.
[[noreturn]] void fail_json_type(const std::string& where, const nlohmann::json::exception& e);

}  // namespace sco::indicators
