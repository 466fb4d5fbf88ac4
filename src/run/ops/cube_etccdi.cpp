// cube.etccdi: an ETCCDI index of extremes (cube/etccdi.hpp) per pixel and year from a daily cube of
// maximum or minimum temperature or precipitation: one band per year of the period.
#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "core/error.hpp"
#include "cube/etccdi.hpp"
#include "io/block_pipeline.hpp"
#include "run/ops/cube_common.hpp"
#include "run/ops/estimate.hpp"
#include "run/ops/ops.hpp"

namespace sco::run::ops {

namespace {

// Input units and their conversion to degC or mm/day (scale, offset).
struct UnitRule {
  const char* name;
  const char* quantity;  // "temperature" or "precipitation"
  double scale, offset;
};
constexpr UnitRule kUnits[] = {{"degC", "temperature", 1, 0},
                               {"K", "temperature", 1, -273.15},
                               {"mm/day", "precipitation", 1, 0},
                               {"kg m-2 s-1", "precipitation", 86400, 0}};

const char* quantity_of(const cube::EtccdiIndex& index) { return index.variable == "pr" ? "precipitation" : "temperature"; }

std::string index_names() {
  std::string names;
  for (const auto& i : cube::etccdi_indices()) names += (names.empty() ? "" : ", ") + i.name;
  return names;
}

// The steps read: from the first of the period and the base to the last of either.
std::vector<std::size_t> read_range(const Selection& sel) {
  std::set<std::size_t> all(sel.main.begin(), sel.main.end());
  all.insert(sel.reference.begin(), sel.reference.end());
  std::vector<std::size_t> r;
  if (all.empty()) return r;
  for (std::size_t i = *all.begin(); i <= *all.rbegin(); ++i) r.push_back(i);
  return r;
}

class EtccdiWorker : public io::BlockWorker {
 public:
  EtccdiWorker(const cube::EtccdiIndex& index, const cube::DailyLayout& layout, const cube::EtccdiOptions& opt, std::size_t first_band_year,
               bool mask)
      : calc_(index, layout, opt), first_(first_band_year), mask_(mask) {}

  void process(std::span<const core::BlockView> inputs, const core::MutableBlockView& out) override {
    const std::size_t steps = inputs.size() - (mask_ ? 1 : 0);
    x_.resize(steps);
    years_.resize(calc_.years());
    for (int r = 0; r < out.height; ++r) {
      for (int c = 0; c < out.width; ++c) {
        const bool skip = mask_ && !inputs.back().valid_nonzero(c, r);
        if (!skip) {
          for (std::size_t k = 0; k < steps; ++k) x_[k] = inputs[k].value_or_nan(c, r);
          calc_.compute(x_.data(), years_.data());
        }
        for (int b = 0; b < out.bands; ++b) {
          const double v = skip ? std::nan("") : years_[first_ + static_cast<std::size_t>(b)];
          static_cast<float*>(out.plane(b).row(r))[c] = static_cast<float>(v);
        }
      }
    }
  }

 private:
  cube::EtccdiCalculator calc_;
  std::size_t first_;
  bool mask_;
  std::vector<double> x_, years_;
};

class CubeEtccdiOp final : public StepOp {
 public:
  std::string name() const override { return "cube.etccdi"; }
  std::string summary() const override {
    return "an ETCCDI index of climate extremes per pixel and year from a daily cube (one band per year of the period; "
           "[indicators.md](indicators.md#etccdi)); percentile indices against a base period";
  }
  std::vector<OpField> fields() const override {
    return {{"input", "a cube input of daily values (tasmax, tasmin or pr as the index needs)"},
            {"index", index_names()},
            {"input_units", "degC (default) or K for temperatures, mm/day (default) or kg m-2 s-1 for precipitation"},
            {"period", "[START, END]: the years reported (default: all steps)"},
            {"base", "[START, END]: the base period of the percentile indices (default: the period)"},
            {"min_base_years", "the fewest base years (default 10; the ETCCDI uses 30)"},
            {"max_missing_days", "a year with more missing days has no value (default 15)"},
            {"mask", "a raster: 0 or nodata pixels left out"}};
  }
  bool makes_raster() const override { return true; }

  void bind(const indicators::StepReader& rd, const BindScope& scope, indicators::Step& s) const override {
    rd.allow({"input", "index", "input_units", "period", "base", "min_base_years", "max_missing_days", "mask"});
    s.input = scope.input_of_kind(rd, "input", indicators::InputKind::kCube, s.op);
    s.index = rd.text("index", true);
    const cube::EtccdiIndex* index = nullptr;
    try {
      index = &cube::find_etccdi_index(s.index);
    } catch (const core::Error& e) {
      rd.fail_field("index", e.what());
    }
    const std::string units = rd.text("input_units", false, index->variable == "pr" ? "mm/day" : "degC");
    const UnitRule* rule = nullptr;
    for (const auto& u : kUnits) {
      if (units == u.name && std::string(u.quantity) == quantity_of(*index)) rule = &u;
    }
    if (!rule) {
      rd.fail_field("input_units", fmt::format("'{}' is not a unit of {} here ({})", units, quantity_of(*index),
                                               index->variable == "pr" ? "mm/day, kg m-2 s-1" : "degC, K"));
    }
    s.scale = rule->scale;
    s.offset = rule->offset;
    s.period = rd.period("period", false);
    s.baseline = rd.period("base", false);
    if (s.baseline.given && !cube::uses_percentiles(*index)) rd.fail_field("base", fmt::format("{} uses no percentile; it takes no base", s.index));
    const double base_years = rd.number("min_base_years", false).value_or(10.0);
    if (!(base_years >= 1 && base_years == std::floor(base_years))) rd.fail_field("min_base_years", "a whole number of years, at least 1");
    s.min_years = static_cast<int>(base_years);
    const double missing = rd.number("max_missing_days", false).value_or(15.0);
    if (!(missing >= 0 && missing <= 366 && missing == std::floor(missing))) rd.fail_field("max_missing_days", "a whole number of days, 0 to 366");
    s.max_missing_days = static_cast<int>(missing);
    bind_masks(rd, scope, s);
  }

  void prepare(RunContext& ctx, const indicators::Step& s) const override {
    const cube::EtccdiIndex& index = cube::find_etccdi_index(s.index);
    const ResolvedInput& in = ctx.inputs.at(s.input);
    const std::string what = fmt::format("recipe '{}': step '{}': input '{}'", ctx.recipe.source, s.id, s.input);
    Selection sel{ctx.select(s, s.period, "period"), {}};
    if (sel.main.empty()) core::fail(core::ErrorCode::kInvalidInput, "{}: the period selects no step", what);
    if (cube::uses_percentiles(index)) sel.reference = ctx.select(s, s.baseline.given ? s.baseline : s.period, "base");
    ctx.selections[s.id] = sel;
    const cube::DailyLayout layout = layout_of(ctx, s);  // throws when the steps are not daily
    if (!cube::uses_percentiles(index)) return;
    std::set<int> base_years;
    for (std::size_t i : sel.reference) base_years.insert(in.dates[i].year);
    if (static_cast<int>(base_years.size()) < s.min_years) {
      core::fail(core::ErrorCode::kInvalidInput, "{}: the base period {} holds {} year(s) of data ({}); {} needs at least {} (min_base_years)",
                 what, s.baseline.given ? s.baseline.describe() : "(the period)", base_years.size(), in.dates_text(), index.name, s.min_years);
    }
  }

  StepEstimate estimate(const RunContext& ctx, const indicators::Step& s) const override {
    const std::size_t steps = read_range(ctx.selections.at(s.id)).size();
    StepEstimate e = pipeline_estimate(ctx, steps + (s.mask.empty() ? 0 : 1), 4, s.output);
    const std::uint64_t cells = static_cast<std::uint64_t>(ctx.grid.width) * static_cast<std::uint64_t>(ctx.grid.height);
    const int t = io::series_tile(steps);
    const auto tile = static_cast<std::uint64_t>(t > 0 ? t : 512);
    e.peak_bytes += static_cast<std::uint64_t>(std::max(1, ctx.exec.threads)) * steps * std::min<std::uint64_t>(cells, tile * tile) * 4;
    return e;
  }

  void execute(RunContext& ctx, const indicators::Step& s) const override {
    const cube::EtccdiIndex& index = cube::find_etccdi_index(s.index);
    const ResolvedInput& in = ctx.inputs.at(s.input);
    const Selection& sel = ctx.selections.at(s.id);
    const std::vector<std::size_t> range = read_range(sel);
    const cube::DailyLayout layout = layout_of(ctx, s);
    cube::EtccdiOptions opt;
    opt.max_missing_days = s.max_missing_days;
    if (!sel.reference.empty()) {
      opt.base_first = in.dates[sel.reference.front()].year;
      opt.base_last = in.dates[sel.reference.back()].year;
    }
    const int first_year = in.dates[sel.main.front()].year, last_year = in.dates[sel.main.back()].year;
    const auto first = static_cast<std::size_t>(std::find(layout.years.begin(), layout.years.end(), first_year) - layout.years.begin());
    std::vector<io::PipelineInput> pin;
    for (std::size_t i : range) {
      io::PipelineInput p = in.step_input(i);
      p.scale = s.scale;
      p.offset = s.offset;
      pin.push_back(std::move(p));
    }
    if (!s.mask.empty()) pin.push_back({ctx.raster_path.at(s.mask), 1});
    io::OutputSpec spec = ctx.raster_spec(s);
    spec.bands = last_year - first_year + 1;
    for (int y = first_year; y <= last_year; ++y) spec.band_descriptions.push_back(std::to_string(y));
    spec.tile = io::series_tile(pin.size());
    spec.metadata.emplace_back("SCO_ETCCDI_INDEX", fmt::format("{} ({}): {}", index.name, index.units, index.meaning));
    spec.metadata.emplace_back("SCO_YEARS", fmt::format("{}..{}", first_year, last_year));
    if (cube::uses_percentiles(index)) spec.metadata.emplace_back("SCO_BASE_PERIOD", fmt::format("{}..{}", opt.base_first, opt.base_last));
    const bool mask = !s.mask.empty();
    io::run_block_pipeline(pin, spec, [&] { return std::make_unique<EtccdiWorker>(index, layout, opt, first, mask); }, ctx.exec.pipeline());
    ctx.raster_path[s.id] = spec.path;
  }

 private:
  static cube::DailyLayout layout_of(const RunContext& ctx, const indicators::Step& s) {
    const ResolvedInput& in = ctx.inputs.at(s.input);
    const std::vector<std::size_t> range = read_range(ctx.selections.at(s.id));
    std::vector<cube::DateTime> dates;
    for (std::size_t i : range) dates.push_back(in.dates.empty() ? cube::DateTime{} : in.dates[i]);
    if (in.dates.empty()) dates.clear();
    return cube::daily_layout(dates, in.calendar, fmt::format("recipe '{}': step '{}': input '{}'", ctx.recipe.source, s.id, s.input));
  }
};

}  // namespace

const StepOp& cube_etccdi_op() {
  static const CubeEtccdiOp op;
  return op;
}

}  // namespace sco::run::ops
