// risk: hazard x exposure x vulnerability per district, each factor min-max normalised over the
// districts (a column of an earlier table step, or a field of the area of interest).
#include <cmath>

#include <fmt/format.h>

#include "indicators/tables.hpp"
#include "run/join.hpp"
#include "run/context.hpp"
#include "run/ops/ops.hpp"

namespace sco::run::ops {

using nlohmann::json;

namespace {

indicators::TableColumnRef column_ref(const indicators::StepReader& rd, const BindScope& scope, const std::string& field, bool allow_field) {
  indicators::TableColumnRef ref;
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
  const indicators::Step* st = scope.find_step(ref.step);
  if (!st || (st->op != "zonal.stats" && st->op != "zonal.trend")) {
    rd.fail_field(field + ".step", fmt::format("'{}' is not an earlier zonal.stats or zonal.trend step", ref.step));
  }
  const auto cols = table_columns(*st);
  if (std::find(cols.begin(), cols.end(), ref.column) == cols.end() || ref.column == "class") {
    rd.fail_field(field + ".column", fmt::format("step '{}' has no numeric column '{}' (columns: {})", ref.step, ref.column, join(cols)));
  }
  ref.given = true;
  return ref;
}

class RiskOp final : public StepOp {
 public:
  std::string name() const override { return "risk"; }
  std::string summary() const override { return "hazard x exposure x vulnerability per district, each factor min-max normalised"; }
  std::vector<OpField> fields() const override {
    return {{"hazard", "{step, column} of an earlier table step"}, {"exposure", "{step, column}, optional"},
            {"vulnerability", "{step, column} or {field} of the districts, optional"}, {"classes", "{column, thresholds, labels}"}};
  }
  bool makes_raster() const override { return false; }

  void bind(const indicators::StepReader& rd, const BindScope& scope, indicators::Step& s) const override {
    rd.allow({"hazard", "exposure", "vulnerability", "classes"});
    s.hazard = column_ref(rd, scope, "hazard", false);
    if (rd.has("exposure")) s.exposure = column_ref(rd, scope, "exposure", false);
    if (rd.has("vulnerability")) s.vulnerability = column_ref(rd, scope, "vulnerability", true);
  }

  std::vector<std::string> columns(const indicators::Step&) const override {
    return {"hazard", "exposure", "vulnerability", "hazard_norm", "exposure_norm", "vulnerability_norm", "risk"};
  }
  void prepare(RunContext& ctx, const indicators::Step& s) const override {
    if (!s.vulnerability.field.empty()) ctx.zones.vector().numeric_field(s.vulnerability.field);  // the field exists
  }
  StepEstimate estimate(const RunContext& ctx, const indicators::Step&) const override {
    StepEstimate e;
    e.peak_bytes = ctx.zones.size() * 7 * 8;
    e.detail = fmt::format("{} districts x 7 columns", ctx.zones.size());
    return e;
  }

  void execute(RunContext& ctx, const indicators::Step& s) const override {
    auto factor = [&](const indicators::TableColumnRef& ref) -> std::vector<double> {
      if (!ref.given) return {};
      if (!ref.field.empty()) return ctx.zones.vector().numeric_field(ref.field);
      return ctx.column(ref.step, ref.column);
    };
    const auto hazard = factor(s.hazard), exposure = factor(s.exposure), vulnerability = factor(s.vulnerability);
    const indicators::RiskColumns rc = indicators::combine_risk(hazard, exposure, vulnerability);
    const io::ResultTable& base = ctx.tables.at(s.hazard.step).table;
    TableProduct p;
    p.table.id_column = base.id_column;
    p.table.ids = base.ids;
    p.table.rows.assign(base.ids.size(), {});
    const std::vector<double> none(base.ids.size(), std::nan(""));
    add_column(p.table, "hazard", hazard);
    add_column(p.table, "exposure", exposure.empty() ? none : exposure);
    add_column(p.table, "vulnerability", vulnerability.empty() ? none : vulnerability);
    add_column(p.table, "hazard_norm", rc.hazard_norm);
    add_column(p.table, "exposure_norm", rc.exposure_norm);
    add_column(p.table, "vulnerability_norm", rc.vulnerability_norm);
    add_column(p.table, "risk", rc.risk);
    p.main_column = "risk";
    ctx.tables[s.id] = std::move(p);
  }
};

}  // namespace

const StepOp& risk_op() {
  static const RiskOp op;
  return op;
}

}  // namespace sco::run::ops
