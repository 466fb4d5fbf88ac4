#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "core/error.hpp"
#include "indicators/builtin.hpp"
#include "run/join.hpp"
#include "run/ops/ops.hpp"
#include "run/step_op.hpp"

namespace sco::run {

using core::ErrorCode;
using nlohmann::json;
namespace ind = sco::indicators;

namespace {

bool valid_name(const std::string& s) {
  if (s.empty() || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

// "classes": {"column": C, "thresholds": [T1, ..., Tk] ascending, "labels": [k + 1 labels]} of a table
// step; two thresholds may go without labels (low, medium, high).
void bind_classes(const ind::StepReader& rd, ind::Step& s) {
  if (!s.makes_table()) rd.fail_field("classes", "only tables (zonal.stats, risk) have classes");
  const json c = rd.value("classes");
  const bool numbers = c.is_object() && c.contains("thresholds") && c["thresholds"].is_array() && !c["thresholds"].empty() &&
                       std::all_of(c["thresholds"].begin(), c["thresholds"].end(), [](const json& t) { return t.is_number(); });
  if (!c.is_object() || !c.contains("column") || !c["column"].is_string() || !numbers) {
    rd.fail_field("classes", "expected {\"column\": COLUMN, \"thresholds\": [LOW_BELOW, HIGH_FROM]} (or more thresholds, with labels)");
  }
  s.classes.given = true;
  s.classes.column = c["column"].get<std::string>();
  s.classes.thresholds = c["thresholds"].get<std::vector<double>>();
  for (std::size_t i = 1; i < s.classes.thresholds.size(); ++i) {
    if (s.classes.thresholds[i] < s.classes.thresholds[i - 1]) {
      rd.fail_field("classes.thresholds", i == 1 ? "the second threshold is below the first" : fmt::format("threshold {} is below the one before", i + 1));
    }
  }
  const std::size_t want = s.classes.thresholds.size() + 1;
  if (c.contains("labels")) {
    if (!c["labels"].is_array() || c["labels"].size() != want ||
        !std::all_of(c["labels"].begin(), c["labels"].end(), [](const json& l) { return l.is_string(); })) {
      rd.fail_field("classes.labels", want == 3 ? std::string("expected three labels") : fmt::format("expected {} labels (one more than thresholds)", want));
    }
    s.classes.labels = c["labels"].get<std::vector<std::string>>();
  } else if (want != 3) {
    rd.fail_field("classes.labels", fmt::format("{} thresholds need {} labels", want - 1, want));
  }
  auto cols = table_columns(s);
  cols.pop_back();  // "class" itself
  if (std::find(cols.begin(), cols.end(), s.classes.column) == cols.end()) {
    rd.fail_field("classes.column", fmt::format("'{}' is not a column of this step (columns: {})", s.classes.column, join(cols)));
  }
}

ind::Step bind_one(const ind::Recipe& r, const json& js, std::size_t i, const ind::ParamValues& values, const std::vector<ind::Step>& earlier) {
  if (!js.is_object()) core::fail(ErrorCode::kInvalidInput, "recipe '{}': step {}: expected an object", r.source, i + 1);
  const ind::StepReader rd(r, js, i, values);
  const BindScope scope{r, earlier};
  ind::Step s;
  s.id = rd.text("id", true);
  if (!valid_name(s.id)) rd.fail_field("id", "step ids are lowercase letters, digits and '_', starting with a letter");
  if (scope.find_step(s.id) || r.find_input(s.id)) rd.fail_field("id", fmt::format("'{}' is already an input or an earlier step", s.id));
  s.op = rd.text("op", true);
  s.title = rd.text("title", false, s.id);
  s.units = rd.text("units", false);
  s.description = rd.text("description", false);
  s.output = rd.boolean("output", false);
  const StepOp* op = find_op(s.op);
  if (!op) rd.fail_field("op", fmt::format("unknown op '{}' (ops: {})", s.op, known_ops()));
  s.raster_product = op->makes_raster();
  op->bind(rd, scope, s);
  if (js.contains("classes")) bind_classes(rd, s);
  return s;
}

}  // namespace

const ind::Step* BindScope::find_step(const std::string& id) const {
  for (const auto& s : earlier) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

std::string BindScope::raster_ref(const ind::StepReader& rd, const std::string& field, bool required) const {
  const std::string name = rd.text(field, required);
  if (name.empty()) return name;
  if (const ind::InputDecl* in = recipe.find_input(name)) {
    if (in->kind != ind::InputKind::kRaster) rd.fail_field(field, fmt::format("input '{}' is a {}, not a raster", name, ind::input_kind_name(in->kind)));
    return name;
  }
  const ind::Step* st = find_step(name);
  if (!st) rd.fail_field(field, fmt::format("'{}' is neither an input nor an earlier step", name));
  if (!st->makes_raster()) rd.fail_field(field, fmt::format("step '{}' makes a table, not a raster", name));
  return name;
}

std::string BindScope::input_of_kind(const ind::StepReader& rd, const std::string& field, ind::InputKind kind, const std::string&) const {
  const std::string name = rd.text(field, true);
  const ind::InputDecl* in = recipe.find_input(name);
  if (!in) rd.fail_field(field, fmt::format("'{}' is not an input of the recipe", name));
  if (in->kind != kind) {
    rd.fail_field(field, fmt::format("input '{}' is a {}; this step needs a {}", name, ind::input_kind_name(in->kind), ind::input_kind_name(kind)));
  }
  return name;
}

std::vector<ind::Step> bind_steps(const ind::Recipe& r, const ind::ParamValues& values) {
  std::vector<ind::Step> steps;
  try {
    const json& list = r.document.at("steps");
    for (std::size_t i = 0; i < list.size(); ++i) steps.push_back(bind_one(r, list[i], i, values, steps));
  } catch (const json::exception& e) {
    ind::fail_json_type(fmt::format("recipe '{}'", r.source), e);
  }
  if (std::none_of(steps.begin(), steps.end(), [](const ind::Step& s) { return s.output; })) {
    core::fail(ErrorCode::kInvalidInput, "recipe '{}': no step has \"output\": true", r.source);
  }
  return steps;
}

std::vector<std::string> table_columns(const ind::Step& s) {
  std::vector<std::string> cols = op_of(s).columns(s);
  if (s.classes.given) cols.push_back("class");
  return cols;
}

ind::Recipe load_recipe(const std::string& id_or_path) {
  ind::Recipe recipe;
  if (const ind::Recipe* builtin = ind::find_builtin(id_or_path)) {
    recipe = *builtin;
  } else if (std::filesystem::exists(id_or_path) || id_or_path.ends_with(".json")) {
    recipe = ind::load_recipe_file(id_or_path);
  } else {
    std::vector<std::string> ids;
    for (const auto& b : ind::builtin_recipes()) ids.push_back(b.id);
    core::fail(ErrorCode::kNotFound, "'{}' is neither a built-in indicator ({}) nor a recipe file", id_or_path, join(ids));
  }
  ind::ParamValues defaults;
  for (const auto& p : recipe.parameters) {
    if (p.default_value.is_null()) return recipe;
    defaults[p.name] = p.default_value;
  }
  bind_steps(recipe, defaults);
  return recipe;
}

// The registry: one line per op, in the order of the docs.
const std::vector<const StepOp*>& step_ops() {
  static const std::vector<const StepOp*> ops = {&ops::index_op(),       &ops::raster_calc_op(), &ops::cube_reduce_op(),
                                                 &ops::cube_trend_op(),  &ops::cube_spi_op(), &ops::cube_etccdi_op(), &ops::cube_anomaly_op(), &ops::cube_change_op(),
                                                 &ops::zonal_stats_op(), &ops::zonal_trend_op(), &ops::risk_op()};
  return ops;
}

const StepOp* find_op(std::string_view name) {
  for (const StepOp* op : step_ops()) {
    if (op->matches(name)) return op;
  }
  return nullptr;
}

const StepOp& op_of(const ind::Step& step) {
  const StepOp* op = find_op(step.op);
  if (!op) core::fail(ErrorCode::kInternal, "step '{}': op '{}' is not registered", step.id, step.op);
  return *op;
}

void StepOp::execute_group(RunContext& ctx, std::span<const indicators::Step> steps) const {
  for (const auto& s : steps) execute(ctx, s);
}

std::size_t group_size(const RunContext& ctx, std::span<const indicators::Step> steps, std::size_t first) {
  const StepOp& op = op_of(steps[first]);
  std::size_t n = 1;
  while (first + n < steps.size() && find_op(steps[first + n].op) == &op && op.runs_with(ctx, steps[first], steps[first + n])) ++n;
  return n;
}

std::string known_ops() {
  std::vector<std::string> names;
  for (const StepOp* op : step_ops()) names.push_back(op->name());
  return join(names);
}

std::string ops_markdown() {
  std::string md = "| op | fields | result |\n|---|---|---|\n";
  for (const StepOp* op : step_ops()) {
    std::string fields;
    for (const auto& f : op->fields()) fields += fmt::format("{}`{}`: {}", fields.empty() ? "" : "; ", f.name, f.meaning);
    md += fmt::format("| `{}` | {} | {}: {} |\n", op->name(), fields, op->makes_raster() ? "raster" : "table per district", op->summary());
  }
  return md;
}

}  // namespace sco::run
