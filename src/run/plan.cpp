#include <algorithm>

#include <fmt/format.h>

#include "core/error.hpp"
#include "io/grid_alignment.hpp"
#include "io/raster_dataset.hpp"
#include "run/state.hpp"

namespace sco::run {

using core::ErrorCode;
using nlohmann::json;
namespace ind = sco::indicators;

RunPlan::RunPlan() = default;
RunPlan::~RunPlan() = default;
RunPlan::RunPlan(RunPlan&&) noexcept = default;
RunPlan& RunPlan::operator=(RunPlan&&) noexcept = default;

namespace {

// The working grid: the grid-like input's (default: the first), cut to the area of interest; every
// source must overlap the area.
core::Grid working_grid(const RunContext& ctx, const AreaOfInterest& aoi) {
  const ind::Recipe& recipe = ctx.recipe;
  const ResolvedInput& first = ctx.inputs.at(recipe.grid_like.empty() ? recipe.inputs.front().name : recipe.grid_like);
  const core::Grid& ref_grid = first.sources.front().grid;
  core::Grid grid;
  const io::Bounds b = io::zones_bounds(ctx.zones.vector(), ref_grid.crs_wkt);
  if (!io::crop_grid(ref_grid, b, 1, grid)) {
    core::fail(ErrorCode::kInvalidInput, "the area of interest '{}' (extent {} in {}) does not overlap input '{}' '{}' (extent {})", aoi.path,
               b.describe(), io::crs_label(ref_grid.crs_wkt), first.decl->name, first.sources.front().in.given,
               io::grid_bounds(ref_grid).describe());
  }
  for (const auto& [name, in] : ctx.inputs) {
    for (const auto& s : in.sources) {
      core::Grid unused;
      const io::Bounds sb = io::zones_bounds(ctx.zones.vector(), s.grid.crs_wkt);
      if (!io::crop_grid(s.grid, sb, 0, unused)) {
        core::fail(ErrorCode::kInvalidInput, "the area of interest '{}' (extent {}) does not overlap input '{}' '{}' (extent {})", aoi.path,
                   sb.describe(), name, s.in.given, io::grid_bounds(s.grid).describe());
      }
    }
  }
  return grid;
}

// A cube step's quality cube has as many steps as its input.
void check_quality(const RunContext& ctx, const ind::Step& s) {
  if (s.quality.empty()) return;
  const std::size_t q = ctx.inputs.at(s.quality).steps.size(), n = ctx.inputs.at(s.input).steps.size();
  if (q != n) {
    core::fail(ErrorCode::kInvalidInput, "recipe '{}': step '{}': field 'quality': cube '{}' has {} steps, '{}' has {}", ctx.recipe.source, s.id,
               s.quality, q, s.input, n);
  }
}

}  // namespace

RunPlan plan_run(RunRequest req) {
  RunPlan plan;
  plan.state = std::make_unique<RunPlan::State>();
  RunPlan::State& st = *plan.state;
  st.recipe = req.recipe;
  plan.params = ind::bind_parameters(st.recipe, req.params);
  st.steps = bind_steps(st.recipe, plan.params);
  plan.steps = st.steps;
  // The resampling: the request's when given, else the recipe's, else bilinear.
  plan.resampling = !req.resampling.empty() ? req.resampling : !st.recipe.resampling.empty() ? st.recipe.resampling : "bilinear";
  io::check_resampling(plan.resampling);
  if (req.out.empty()) core::fail(ErrorCode::kInvalidInput, "give --out DIR");
  auto inputs = resolve_inputs(st.recipe, req.inputs);
  st.zones = std::make_shared<ZoneSet>(std::move(req.aoi.zones));
  plan.districts = st.zones->size();
  st.ctx = std::make_unique<RunContext>(st.recipe, st.steps, *st.zones);
  RunContext& ctx = *st.ctx;
  ctx.inputs = std::move(inputs);
  ctx.exec.threads = std::max(1, req.threads);
  // Time selections and references to the data, checked before any work.
  for (const auto& s : st.steps) {
    check_quality(ctx, s);
    op_of(s).prepare(ctx, s);
  }
  ctx.grid = plan.grid = working_grid(ctx, req.aoi);
  std::uint64_t step_peak = 0;
  for (std::size_t i = 0; i < st.steps.size();) {
    // Steps run in one pass hold their buffers at once.
    const std::size_t n = group_size(ctx, st.steps, i);
    std::uint64_t peak = 0;
    const std::span<const indicators::Step> group = std::span(st.steps).subspan(i, n);
    for (std::size_t k = i; k < i + n; ++k) {
      const auto& s = st.steps[k];
      StepPlan sp{s.id, s.op, s.output, op_of(s).estimate_in_group(ctx, group, k - i)};
      plan.bytes_read += sp.estimate.bytes_read;
      if (s.output) plan.bytes_written += sp.estimate.bytes_written;
      peak += sp.estimate.peak_bytes;
      plan.step_plans.push_back(std::move(sp));
    }
    step_peak = std::max(step_peak, peak);
    i += n;
  }
  // GDAL's block cache fills up to its bound (64 MiB) with what the steps read and write.
  const std::uint64_t cache = std::min<std::uint64_t>(plan.bytes_read + plan.bytes_written, 64ull << 20);
  plan.peak_memory = kProcessBaseBytes + cache + step_peak;
  plan.warnings = ctx.warnings;
  plan.request = std::move(req);
  return plan;
}

json RunPlan::to_json() const {
  json steps_json = json::array();
  for (const auto& sp : step_plans) {
    steps_json.push_back({{"id", sp.id}, {"op", sp.op}, {"output", sp.output}, {"bytes_read", sp.estimate.bytes_read},
                          {"bytes_written", sp.output ? sp.estimate.bytes_written : 0}, {"peak_memory_bytes", sp.estimate.peak_bytes},
                          {"detail", sp.estimate.detail}});
  }
  json outputs = json::array();
  for (const auto& s : steps) {
    if (!s.output) continue;
    if (s.makes_raster()) outputs.push_back(s.id + ".tif");
    else for (const char* ext : {".csv", ".geojson", ".gpkg"}) outputs.push_back(s.id + ext);
  }
  outputs.push_back("report.html");
  outputs.push_back("provenance.json");
  json params_json = json::object();
  for (const auto& [k, v] : params) params_json[k] = v;
  return {{"recipe", {{"id", request.recipe.id}, {"version", request.recipe.version}, {"sha256", request.recipe.hash}}},
          {"parameters", params_json},
          {"area_of_interest", {{"path", request.aoi.path}, {"zones", districts}}},
          {"grid", {{"width", grid.width}, {"height", grid.height}, {"transform", grid.transform}, {"crs", io::crs_label(grid.crs_wkt)}}},
          {"resampling", resampling},
          {"threads", request.threads},
          {"steps", steps_json},
          {"out", request.out},
          {"outputs", outputs},
          {"estimate", {{"bytes_read", bytes_read}, {"bytes_written", bytes_written}, {"peak_memory_bytes", peak_memory}}},
          {"warnings", warnings}};
}

}  // namespace sco::run
