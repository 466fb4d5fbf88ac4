// zonal.trend: each district's mean at every time step of a cube, then its trend: Sen's slope and the
// Mann-Kendall test, per year or decade of the cube's calendar, seasonal (Seasonal Kendall test and
// seasonal Sen slope) when the series has several steps a year, and none from a record shorter than
// min_years; the method in a column; the series kept for the web map.
#include <cmath>

#include <fmt/format.h>

#include "cube/trend.hpp"
#include "run/context.hpp"
#include "run/ops/cube_common.hpp"
#include "run/ops/estimate.hpp"
#include "run/ops/ops.hpp"
#include "zonal/statistic.hpp"

namespace sco::run::ops {

using nlohmann::json;

namespace {

struct TrendColumns {
  std::vector<double> mean, slope, s, z, p, n, years;
  std::vector<std::string> significant, method;
};

TrendColumns district_trends(const io::ResultTable& series, const std::vector<double>& t, const cube::SeasonLayout& layout,
                             double alpha, int min_years) {
  const std::size_t rows = series.ids.size();
  TrendColumns c;
  for (auto* v : {&c.mean, &c.slope, &c.s, &c.z, &c.p, &c.n, &c.years}) v->resize(rows);
  c.significant.resize(rows);
  c.method.resize(rows);
  std::vector<double> scratch;
  for (std::size_t r = 0; r < rows; ++r) {
    const std::vector<double>& x = series.rows[r];
    double sum = 0;
    int count = 0;
    for (double v : x) {
      if (v == v) {
        sum += v;
        ++count;
      }
    }
    c.mean[r] = count ? sum / count : std::nan("");
    const cube::TrendResult tr = cube::seasonal_trend(t.data(), x.data(), x.size(), layout, scratch);
    const int years = cube::years_observed(x.data(), layout);
    const bool ok = tr.n >= 3 && years >= min_years;
    c.years[r] = years;
    c.method[r] = cube::trend_method(layout, years, min_years);
    c.slope[r] = ok ? tr.slope : std::nan("");
    c.s[r] = ok ? tr.s : std::nan("");
    c.z[r] = ok ? tr.z : std::nan("");
    c.p[r] = ok ? tr.p : std::nan("");
    c.n[r] = tr.n;
    c.significant[r] = ok ? (tr.p < alpha ? "yes" : "no") : "";
  }
  return c;
}

class ZonalTrendOp final : public StepOp {
 public:
  std::string name() const override { return "zonal.trend"; }
  std::string summary() const override {
    return "each district's mean at every step (exact coverage), then its Sen's slope, Mann-Kendall S, Z, p and `significant` "
           "(seasonal Kendall for several steps a year; none from fewer than min_years years: `method` says which)";
  }
  std::vector<OpField> fields() const override {
    return {{"input", "a cube input"}, {"per", "year (default) or decade"}, {"period", "[START, END] (default: all steps)"},
            {"alpha", "significance level (default 0.05)"},
            {"min_years", "the fewest distinct years with data a trend is reported from (default 10)"}, {"classes", "{column, thresholds: [LOW_BELOW, HIGH_FROM], labels}"}};
  }
  bool makes_raster() const override { return false; }

  void bind(const indicators::StepReader& rd, const BindScope& scope, indicators::Step& s) const override {
    rd.allow({"input", "per", "period", "alpha", "min_years", "classes"});
    s.input = scope.input_of_kind(rd, "input", indicators::InputKind::kCube, s.op);
    s.per = bind_per(rd);
    s.period = rd.period("period", false);
    s.alpha = rd.number("alpha", false).value_or(0.05);
    if (!(s.alpha > 0 && s.alpha < 1)) rd.fail_field("alpha", "a significance level lies strictly between 0 and 1");
    s.min_years = bind_min_years(rd);
  }

  std::vector<std::string> columns(const indicators::Step&) const override { return {"mean", "slope", "mk_s", "mk_z", "p_value", "steps", "years"}; }
  void prepare(RunContext& ctx, const indicators::Step& s) const override { prepare_trend(ctx, s); }
  StepEstimate estimate(const RunContext& ctx, const indicators::Step& s) const override {
    return zonal_estimate(ctx, ctx.selections.at(s.id).main.size(), false);
  }

  void execute(RunContext& ctx, const indicators::Step& s) const override {
    const ResolvedInput& in = ctx.inputs.at(s.input);
    const Selection& sel = ctx.selections.at(s.id);
    std::vector<ZonalBand> bands;
    for (std::size_t i : sel.main) {
      const auto [path, band] = in.step_band(i);
      bands.push_back(zonal_band(fmt::format("t{}", i), path, band));
    }
    // One coverage computation for every step: the steps share the working grid.
    const io::ResultTable series = ctx.zonal_table(bands, zonal::parse_stats("mean"));
    const TrendColumns c = district_trends(series, ctx.years(in, sel.main, s.per), cube::season_layout(in.dates, sel.main, s.per), s.alpha,
                                           s.min_years);
    TableProduct p;
    p.table.id_column = series.id_column;
    p.table.ids = series.ids;
    p.table.rows.assign(series.ids.size(), {});
    for (const auto& [name, v] : std::vector<std::pair<std::string, const std::vector<double>*>>{
             {"mean", &c.mean}, {"slope", &c.slope}, {"mk_s", &c.s}, {"mk_z", &c.z}, {"p_value", &c.p}, {"steps", &c.n}, {"years", &c.years}}) {
      add_column(p.table, name, *v);
    }
    add_text_column(p.table, "significant", c.significant);
    add_text_column(p.table, "method", c.method);
    p.main_column = "slope";
    json dates = json::array(), by_id = json::object();
    for (std::size_t i : sel.main) dates.push_back(in.dates[i].iso().substr(0, 10));
    for (std::size_t r = 0; r < series.ids.size(); ++r) {
      json values = json::array();
      for (double v : series.rows[r]) values.push_back(v == v ? json(v) : json());
      by_id[series.ids[r]] = values;
    }
    p.series = json{{"step", s.id}, {"id_column", series.id_column}, {"statistic", "mean"}, {"slope_units", s.units},
                    {"slope_per", s.per == 10.0 ? "decade" : "year"}, {"method", trend_method_of(ctx, s)}, {"dates", dates}, {"series", by_id}};
    ctx.tables[s.id] = std::move(p);
  }
};

}  // namespace

const StepOp& zonal_trend_op() {
  static const ZonalTrendOp op;
  return op;
}

}  // namespace sco::run::ops
