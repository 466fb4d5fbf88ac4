#pragma once
// The registry of step ops. Each op (index.NAME, raster.calc, cube.*, zonal.*, risk) is one class in
// one file under run/ops/: the fields it reads and checks, what it needs and produces, its share of
// the plan (bytes, memory) and its execution. Nothing else in sco branches on an op's name.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "indicators/recipe.hpp"
#include "indicators/step_reader.hpp"

namespace sco::run {

class RunContext;

// What binding a step may look at: the recipe and the steps bound before it.
struct BindScope {
  const indicators::Recipe& recipe;
  const std::vector<indicators::Step>& earlier;
  const indicators::Step* find_step(const std::string& id) const;
  // A raster input or an earlier raster step named by `field` (empty when optional and absent).
  std::string raster_ref(const indicators::StepReader& rd, const std::string& field, bool required) const;
  // An input of `kind` named by `field`.
  std::string input_of_kind(const indicators::StepReader& rd, const std::string& field, indicators::InputKind kind, const std::string& op) const;
};

struct OpField {
  std::string name, meaning;
};

// What a step costs, without reading pixels.
struct StepEstimate {
  std::uint64_t bytes_read = 0, bytes_written = 0;
  std::uint64_t peak_bytes = 0;  // memory held while the step runs, above the process's base
  std::string detail;            // "3 bands x 12 steps, 2 threads x 2 windows of 256 x 256"
};

class StepOp {
 public:
  virtual ~StepOp() = default;
  virtual std::string name() const = 0;              // "cube.trend"; "index.NAME" for the index family
  virtual bool matches(std::string_view op) const { return op == name(); }
  virtual std::string summary() const = 0;           // one line for docs/recipes.md
  virtual std::vector<OpField> fields() const = 0;   // its own fields, for docs/recipes.md
  virtual bool makes_raster() const = 0;             // else a table per district
  // Reads and checks the op's fields into `step`; errors name the step and the field.
  virtual void bind(const indicators::StepReader& rd, const BindScope& scope, indicators::Step& step) const = 0;
  // The columns of a table step (statistics, exposure...; "class" is added by the binder).
  virtual std::vector<std::string> columns(const indicators::Step&) const { return {}; }
  // Checks the step against the resolved inputs (time selections...) before any pixel is read.
  virtual void prepare(RunContext&, const indicators::Step&) const {}
  virtual StepEstimate estimate(const RunContext& ctx, const indicators::Step& step) const = 0;
  virtual void execute(RunContext& ctx, const indicators::Step& step) const = 0;
  // Whether `next` (a step of this op right after `first`, or after steps that run with it) runs in
  // one pass with `first`: e.g. cube reductions of several bands sharing one cloud mask, which is then
  // read once. Such steps run through execute_group.
  virtual bool runs_with(const RunContext&, const indicators::Step& /*first*/, const indicators::Step& /*next*/) const { return false; }
  virtual void execute_group(RunContext& ctx, std::span<const indicators::Step> steps) const;
  // Step k's estimate in `group` (steps run in one pass): its own by default; an op whose pass reads
  // shared inputs once counts them with the group's first step.
  virtual StepEstimate estimate_in_group(const RunContext& ctx, std::span<const indicators::Step> group, std::size_t k) const {
    return estimate(ctx, group[k]);
  }
};

// The steps from `first` on that run in one pass (1: the step alone).
std::size_t group_size(const RunContext& ctx, std::span<const indicators::Step> steps, std::size_t first);

const std::vector<const StepOp*>& step_ops();
const StepOp* find_op(std::string_view op);
const StepOp& op_of(const indicators::Step& step);  // the op of a bound step
std::string known_ops();                             // "index.NAME, raster.calc, ..."
// The step table of docs/recipes.md (between its markers), made from the registry.
std::string ops_markdown();

// The steps with parameters substituted and every field checked by its op: references to inputs and
// earlier steps, expressions, reducers, statistics, periods. Errors name the step and the field.
std::vector<indicators::Step> bind_steps(const indicators::Recipe& recipe, const indicators::ParamValues& values);
// The columns a table step writes, "class" last when it has classes.
std::vector<std::string> table_columns(const indicators::Step& step);

// A built-in id or a recipe file, its steps checked with the defaults when every parameter has one
// (so a wrong step fails on loading). Throws kNotFound listing the built-in ids.
indicators::Recipe load_recipe(const std::string& id_or_path);

}  // namespace sco::run
