// zonal.stats: statistics of a raster per district, with exact cell coverage; optionally the share,
// area and residents of each district inside an exposure mask.
#include <fmt/format.h>

#include "core/error.hpp"
#include "io/raster_dataset.hpp"
#include "run/join.hpp"
#include "run/context.hpp"
#include "run/ops/estimate.hpp"
#include "run/ops/ops.hpp"
#include "zonal/statistic.hpp"

namespace sco::run::ops {

using nlohmann::json;

namespace {

// The step's statistics (the recipe's list of names).
std::vector<zonal::StatSpec> stats_of(const indicators::Step& s) { return zonal::parse_stats(join(s.stats, ",")); }

class ZonalStatsOp final : public StepOp {
 public:
  std::string name() const override { return "zonal.stats"; }
  std::string summary() const override { return "statistics of a raster per district ([zonal.md](zonal.md)), its exposure to a mask, classes"; }
  std::vector<OpField> fields() const override {
    return {{"raster", "a raster input or earlier raster step"}, {"stats", "statistic names (sco zonal --help)"},
            {"weights", "a raster of weights, for weighted_*"},
            {"exposure", "{mask: RASTER, population_field: FIELD}: exposed share, km2 and residents"},
            {"classes", "{column, thresholds: [LOW_BELOW, HIGH_FROM], labels}"}};
  }
  bool makes_raster() const override { return false; }

  void bind(const indicators::StepReader& rd, const BindScope& scope, indicators::Step& s) const override {
    rd.allow({"raster", "stats", "weights", "exposure", "classes"});
    s.raster = scope.raster_ref(rd, "raster", true);
    const json stats = rd.value("stats");
    if (!stats.is_array() || stats.empty()) rd.fail_field("stats", "expected an array of statistic names");
    for (const auto& st : stats) {
      if (!st.is_string()) rd.fail_field("stats", "expected an array of statistic names");
      s.stats.push_back(st.get<std::string>());
    }
    try {
      const auto parsed = stats_of(s);
      if (zonal::needs_of(parsed).weights && !rd.has("weights")) rd.fail_field("stats", "weighted statistics need a 'weights' raster");
    } catch (const core::Error& err) {
      if (std::string_view(err.what()).find("field 'stats'") != std::string_view::npos) throw;
      rd.fail_field("stats", err.what());
    }
    s.weights = scope.raster_ref(rd, "weights", false);
    if (rd.has("exposure")) bind_exposure(rd, scope, s);
  }

  std::vector<std::string> columns(const indicators::Step& s) const override {
    std::vector<std::string> cols;
    for (const auto& spec : stats_of(s)) cols.push_back(spec.name);
    if (!s.exposure_mask.empty()) {
      cols.insert(cols.end(), {"exposed_fraction", "exposed_area_km2"});
      if (!s.population_field.empty()) cols.insert(cols.end(), {"residents", "exposed_residents"});
    }
    return cols;
  }

  void prepare(RunContext& ctx, const indicators::Step& s) const override {
    if (!s.population_field.empty()) ctx.zones.vector().numeric_field(s.population_field);  // the field exists
  }

  StepEstimate estimate(const RunContext& ctx, const indicators::Step& s) const override {
    const bool values = zonal::needs_of(stats_of(s)).histogram;
    return zonal_estimate(ctx, s.exposure_mask.empty() ? 1 : 2, values);
  }

  void execute(RunContext& ctx, const indicators::Step& s) const override {
    TableProduct p;
    const std::string& raster = ctx.raster_path.at(s.raster);
    // A step's raster of several bands (cube.etccdi: one per year) is summarised band by band.
    std::vector<std::string> labels;
    if (step_of(ctx, s.raster)) {
      const io::RasterDataset ds = io::RasterDataset::open(raster);
      for (int b = 1; ds.band_count() > 1 && b <= ds.band_count(); ++b) {
        const std::string d = ds.band(b).description;
        labels.push_back(d.empty() ? fmt::format("band{}", b) : d);
      }
    }
    const std::string weights = s.weights.empty() ? "" : ctx.raster_path.at(s.weights);
    if (!labels.empty()) {
      per_band(ctx, s, raster, labels, weights, p);
    } else {
      p.table = ctx.zonal_table({zonal_band("value", raster, 1)}, stats_of(s), weights);
    }
    p.main_column = p.table.columns.empty() ? "" : p.table.columns.front();
    p.picture_raster = raster;
    p.picture_band = labels.empty() ? 1 : static_cast<int>(labels.size());
    if (!s.exposure_mask.empty()) add_exposure(ctx, s, p);
    ctx.tables[s.id] = std::move(p);
  }

 private:
  static const indicators::Step* step_of(const RunContext& ctx, const std::string& id) {
    for (const auto& st : ctx.steps) {
      if (st.id == id) return &st;
    }
    return nullptr;
  }

  // A step's raster of several bands (cube.etccdi: one per year): the statistics of its last band
  // under their own names (what classes and maps use), then every band's, prefixed by its
  // description (the year).
  static void per_band(RunContext& ctx, const indicators::Step& s, const std::string& raster, const std::vector<std::string>& labels,
                       const std::string& weights, TableProduct& p) {
    std::vector<ZonalBand> zb;
    for (std::size_t b = 0; b < labels.size(); ++b) zb.push_back(zonal_band(labels[b], raster, static_cast<int>(b) + 1));
    const io::ResultTable all = ctx.zonal_table(zb, stats_of(s), weights);
    p.table = all;
    p.table.columns.clear();
    for (auto& row : p.table.rows) row.clear();
    const std::string last = zb.back().label + "_";
    for (const auto& c : all.columns) {
      if (c.rfind(last, 0) == 0) add_column(p.table, c.substr(last.size()), table_column(all, c));
    }
    for (const auto& c : all.columns) add_column(p.table, c, table_column(all, c));
  }

  static void bind_exposure(const indicators::StepReader& rd, const BindScope& scope, indicators::Step& s) {
    const json ex = rd.value("exposure");
    if (!ex.is_object() || !ex.contains("mask") || !ex["mask"].is_string()) rd.fail_field("exposure", "expected {\"mask\": RASTER, \"population_field\": FIELD}");
    for (auto it = ex.begin(); it != ex.end(); ++it) {
      if (it.key() != "mask" && it.key() != "population_field") rd.fail_field("exposure." + it.key(), "unknown field (mask, population_field)");
    }
    const std::string mask = ex["mask"].get<std::string>();
    const indicators::InputDecl* in = scope.recipe.find_input(mask);
    const indicators::Step* st = scope.find_step(mask);
    if (!(in && in->kind == indicators::InputKind::kRaster) && !(st && st->makes_raster())) {
      rd.fail_field("exposure.mask", fmt::format("'{}' is not a raster input or an earlier raster step", mask));
    }
    s.exposure_mask = mask;
    if (ex.contains("population_field")) {
      if (!ex["population_field"].is_string()) rd.fail_field("exposure.population_field", "expected a field name");
      s.population_field = ex["population_field"].get<std::string>();
    }
  }

  // The share of each district inside the mask, its area in km2 and, with a population field, the
  // residents exposed (share x residents).
  static void add_exposure(RunContext& ctx, const indicators::Step& s, TableProduct& p) {
    const io::ResultTable ex = ctx.zonal_table({zonal_band("mask", ctx.raster_path.at(s.exposure_mask), 1)}, zonal::parse_stats("mean,area"));
    const auto share = table_column(ex, "mean");
    const auto area = table_column(ex, "area");
    std::vector<double> km2(share.size());
    for (std::size_t i = 0; i < share.size(); ++i) km2[i] = share[i] * area[i] / 1e6;
    add_column(p.table, "exposed_fraction", share);
    add_column(p.table, "exposed_area_km2", km2);
    p.main_column = "exposed_fraction";
    if (s.population_field.empty()) return;
    const std::vector<double> population = ctx.zones.vector().numeric_field(s.population_field);
    std::vector<double> exposed(share.size());
    for (std::size_t i = 0; i < share.size(); ++i) exposed[i] = share[i] * population[i];
    add_column(p.table, "residents", population);
    add_column(p.table, "exposed_residents", exposed);
    p.main_column = "exposed_residents";
  }
};

}  // namespace

const StepOp& zonal_stats_op() {
  static const ZonalStatsOp op;
  return op;
}

}  // namespace sco::run::ops
