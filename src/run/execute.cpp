#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <ogr_spatialref.h>

#include "core/clock.hpp"
#include "core/digest.hpp"
#include "core/digest_cache.hpp"
#include "core/error.hpp"
#include "core/fault.hpp"
#include "core/ranks.hpp"
#include "core/version.hpp"
#include "indicators/report.hpp"
#include "indicators/tables.hpp"
#include "io/gdal_session.hpp"
#include "io/grid_alignment.hpp"
#include "io/raster_dataset.hpp"
#include "run/report_section.hpp"
#include "run/state.hpp"

namespace sco::run {

using core::ErrorCode;
using nlohmann::json;
namespace fs = std::filesystem;
namespace ind = sco::indicators;

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Files with their sizes and digests (`digests`: path -> SHA-256).
json file_records(const std::vector<std::string>& paths, const std::map<std::string, std::string>& digests) {
  json files = json::array();
  for (const auto& f : paths) {
    std::error_code ec;
    files.push_back({{"path", f}, {"bytes", fs::file_size(f, ec)}, {"sha256", digests.at(f)}});
  }
  return files;
}

// The files of a dataset with their sizes and digests.
json file_records(const std::string& path) {
  const std::vector<std::string> paths = io::dataset_files(path);
  return file_records(paths, core::sha256_files_cached(paths, 1));
}

// The output folder, staged beside its final place and renamed when complete; removed unless kept.
struct Staging {
  fs::path out_dir, parent, path, work;
  bool keep = false;
  ~Staging() {
    if (!keep && !path.empty()) {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  }
};

void open_staging(Staging& s, const RunRequest& req) {
  s.out_dir = fs::absolute(req.out).lexically_normal();
  s.parent = s.out_dir.parent_path();
  if (!fs::is_directory(s.parent)) core::fail(ErrorCode::kIo, "cannot write '{}': folder '{}' does not exist", req.out, s.parent.string());
  if (::access(s.parent.c_str(), W_OK) != 0) core::fail(ErrorCode::kIo, "cannot write '{}': folder '{}' is not writable", req.out, s.parent.string());
  if (fs::exists(s.out_dir) && !(fs::is_directory(s.out_dir) && fs::is_empty(s.out_dir)) && !req.overwrite) {
    core::fail(ErrorCode::kInvalidInput, "'{}' exists and is not empty: choose another --out, or add --overwrite", req.out);
  }
  s.path = s.parent / fmt::format(".{}.sco-partial-{}", s.out_dir.filename().string(), ::getpid());
  fs::remove_all(s.path);
  s.work = s.path / ".work";
  fs::create_directories(s.work);
}

// The inputs' records for provenance.json, and the one-line tag every raster carries.
std::pair<json, std::string> input_provenance(const RunContext& ctx) {
  // Every file hashed first, as many at once as the run has threads (a 36-date stack is 180 files).
  std::map<std::string, std::vector<std::string>> files_of;  // source file -> the files of its dataset
  std::vector<std::string> all;
  for (const auto& [name, in] : ctx.inputs) {
    for (const auto& s : in.sources) {
      const auto [it, fresh] = files_of.emplace(s.in.file, std::vector<std::string>{});
      if (!fresh) continue;
      it->second = io::dataset_files(s.in.file);
      all.insert(all.end(), it->second.begin(), it->second.end());
    }
  }
  const std::map<std::string, std::string> digests = core::sha256_files_cached(all, ctx.exec.threads);
  json records = json::array();
  std::string tag;
  for (const auto& d : ctx.recipe.inputs) {
    const ResolvedInput& in = ctx.inputs.at(d.name);
    json rec = {{"name", d.name}, {"kind", ind::input_kind_name(d.kind)}, {"sources", json::array()}};
    for (const auto& s : in.sources) {
      json files = file_records(files_of.at(s.in.file), digests);
      rec["sources"].push_back({{"given", s.in.given}, {"dataset", s.in.path}, {"band", s.in.band}, {"files", files}});
      tag += fmt::format("{}{}={} sha256:{}", tag.empty() ? "" : "; ", d.name, s.in.given,
                         files.empty() ? std::string("?") : files[0]["sha256"].get<std::string>());
    }
    if (d.kind == ind::InputKind::kCube) {
      rec["steps"] = in.steps.size();
      rec["time"] = in.time_note;
      json dates = json::array();
      for (const auto& dt : in.dates) dates.push_back(dt.iso());
      rec["dates"] = dates;
    }
    records.push_back(rec);
  }
  return {records, tag};
}

// Every input presented on the working grid (VRT windows or warps); the warped ones described. Under
// mpirun, rank 0 writes the files and the other ranks take their names.
std::vector<std::string> inputs_on_grid(RunContext& ctx, const std::string& resampling, bool writes) {
  std::vector<std::string> warped;
  for (auto& [name, in] : ctx.inputs) {
    for (std::size_t k = 0; k < in.sources.size(); ++k) {
      Source& s = in.sources[k];
      s.prepared = (ctx.work / fmt::format("{}_{}.vrt", name, k)).string();
      s.window = io::aligned_window(s.grid, ctx.grid);
      if (!writes) continue;
      s.warped = io::write_aligned_vrt(s.in.path, s.grid, ctx.grid, resampling, s.prepared);
      if (s.warped) warped.push_back(fmt::format("{} ({} to the working grid with {})", s.in.given, s.grid.describe(), resampling));
    }
    if (in.decl->kind == ind::InputKind::kRaster) ctx.raster_path[name] = in.sources[0].prepared;
  }
  return warped;
}

// Steps [index, index + n) (n > 1: run in one pass), their errors naming them; events and progress to
// the callbacks, for each step of a pass (its time shared equally among them). Returns n.
std::size_t run_steps_at(RunContext& ctx, std::size_t index, const RunCallbacks& cb, RunResult& result) {
  core::throw_if_cancelled(cb.cancel);
  const std::span<const ind::Step> group = std::span(ctx.steps).subspan(index, group_size(ctx, ctx.steps, index));
  std::vector<RunEvent> events;
  std::string names;
  for (std::size_t k = 0; k < group.size(); ++k) {
    events.push_back({RunEvent::Kind::kStepStarted, index + k, ctx.steps.size(), group[k].id, group[k].op});
    if (cb.on_event) cb.on_event(events.back());
    names += fmt::format("{}'{}'", k ? ", " : "", group[k].id);
  }
  if (cb.on_event) {
    ctx.exec.on_progress = [&cb, events](double f) mutable {
      for (auto& ev : events) {
        ev.kind = RunEvent::Kind::kStepProgress;
        ev.fraction = f;
        cb.on_event(ev);
      }
    };
  }
  const auto t0 = Clock::now();
  try {
    core::crash_point("run.step");
    if (group.size() == 1) op_of(group[0]).execute(ctx, group[0]);
    else op_of(group[0]).execute_group(ctx, group);
  } catch (const core::Error& e) {
    if (e.code() == ErrorCode::kCancelled) throw;
    const std::string which = group.size() == 1 ? "step " + names : "steps " + names + " (in one pass)";
    throw core::Error(e.code(), fmt::format("{} ({}): {}", which, group[0].op, e.what()));
  }
  ctx.exec.on_progress = nullptr;
  const double seconds = since(t0) / static_cast<double>(group.size());
  for (std::size_t k = 0; k < group.size(); ++k) {
    RunEvent& ev = events[k];
    ev.kind = RunEvent::Kind::kStepFinished;
    ev.fraction = 1.0;
    ev.seconds = seconds;
    if (group[k].makes_raster()) {
      std::error_code ec;
      ev.bytes_written = fs::file_size(ctx.raster_path.at(group[k].id), ec);
    }
    result.step_times.push_back(ev);
    if (cb.on_event) cb.on_event(ev);
  }
  return group.size();
}

// A table step's files (CSV, GeoJSON, GeoPackage, the series of a trend) and its report section.
void finish_table(RunContext& ctx, const ind::Step& st, ind::ReportModel& report, const std::string& palette, RunResult& result, bool writes) {
  TableProduct& p = ctx.tables.at(st.id);
  if (st.classes.given) {
    std::vector<std::string> labels;
    for (double x : table_column(p.table, st.classes.column)) labels.push_back(ind::classify(x, st.classes));
    add_text_column(p.table, "class", labels);
    p.main_column = st.classes.column;
  }
  if (!st.output || !writes) return;
  for (const char* ext : {".csv", ".geojson", ".gpkg"}) {
    const std::string path = (ctx.staging / (st.id + ext)).string();
    io::write_table(p.table, path, ctx.zones.vector());
    result.outputs.push_back({"table", st.id, path, st.title, st.units});
  }
  if (p.series) {
    std::ofstream((ctx.staging / (st.id + "_series.json")).string()) << p.series->dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
  }
  report.tables.push_back(report_section(ctx, st, p, palette));
}

json summarize(const std::map<std::string, io::ResultTable>& tables) {
  json summary = json::object();
  for (const auto& [id, t] : tables) {
    json cols = json::object();
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
      double lo = INFINITY, hi = -INFINITY, sum = 0;
      int n = 0;
      for (const auto& row : t.rows) {
        const double v = row[c];
        if (v != v) continue;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        sum += v;
        ++n;
      }
      cols[t.columns[c]] = n ? json{{"min", lo}, {"max", hi}, {"mean", sum / n}, {"districts", n}} : json(nullptr);
    }
    summary[id] = {{"districts", t.ids.size()}, {"columns", cols}};
  }
  return summary;
}

void write_file(const fs::path& path, const std::string& text, const std::string& what) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  if (!f) core::fail(ErrorCode::kIo, "cannot write {} in '{}'", what, path.parent_path().string());
}

// The districts' bounding box, in WGS 84 when they have a CRS.
std::vector<double> zones_bbox(const io::VectorZones& zones) {
  io::Bounds b = io::zones_bounds(zones, "");
  if (!zones.crs_wkt.empty()) {
    OGRSpatialReference wgs84;
    wgs84.importFromEPSG(4326);
    char* wkt = nullptr;
    wgs84.exportToWkt(&wkt);
    b = io::zones_bounds(zones, wkt);
    CPLFree(wkt);
  }
  return {b.min_x, b.min_y, b.max_x, b.max_y};
}

// The registration of the outputs (collection = recipe id); the data's time is the cube inputs' dates.
catalog::RunPublication publication(const RunPlan& plan, const RunContext& ctx, const RunResult& result, const json& prov) {
  catalog::RunPublication pub;
  const ind::Recipe& recipe = ctx.recipe;
  pub.catalog_dir = plan.request.catalog_dir;
  pub.collection = recipe.id;
  pub.title = recipe.title;
  pub.description = recipe.description;
  pub.recipe_version = recipe.version;
  pub.recipe_hash = recipe.hash;
  pub.visibility = plan.request.visibility;
  pub.out_dir = result.out;
  pub.outputs = result.outputs;
  pub.provenance = prov;
  for (const auto& [name, in] : ctx.inputs) {
    if (in.dates.empty()) continue;
    const std::string a = in.dates.front().iso(), b = in.dates.back().iso();
    if (pub.start.empty() || a < pub.start) pub.start = a;
    if (pub.end.empty() || b > pub.end) pub.end = b;
  }
  for (const auto& [id, t] : ctx.tables) pub.id_columns[id] = t.table.id_column;
  pub.bbox = zones_bbox(ctx.zones.vector());
  return pub;
}

}  // namespace

namespace {

// provenance.json: what was run, on what, how, and the digest of every output (no clock time in the
// rasters: reruns give identical bytes; the run's times are here).
json provenance(const RunPlan& plan, const RunContext& ctx, const json& input_records, const json& aoi_files, const std::vector<std::string>& warped,
                const std::string& started, const json& outputs, const std::vector<std::string>& warnings) {
  const ind::Recipe& recipe = ctx.recipe;
  const RunRequest& req = plan.request;
  json params_json = json::object();
  for (const auto& [k, v] : plan.params) params_json[k] = v;
  return {
      {"sco_provenance", 1},
      {"software", {{"name", "sco"}, {"version", core::kVersion}}},
      {"recipe",
       {{"id", recipe.id}, {"version", recipe.version}, {"title", recipe.title}, {"source", recipe.source}, {"sha256", recipe.hash},
        {"document", recipe.document}}},
      {"parameters", params_json},
      {"inputs", input_records},
      {"area_of_interest",
       {{"path", req.aoi.path}, {"layer", ctx.zones.vector().layer}, {"id_field", req.aoi.id_field}, {"zones", ctx.zones.size()}, {"files", aoi_files}}},
      {"grid", {{"width", ctx.grid.width}, {"height", ctx.grid.height}, {"transform", ctx.grid.transform}, {"crs", io::crs_label(ctx.grid.crs_wkt)}}},
      {"resampling", plan.resampling},
      {"warped_inputs", warped},
      {"started", started},
      {"finished", core::utc_now()},
      {"outputs", outputs},
      {"warnings", warnings},
  };
}

// The digest of every file of the staging folder, by name.
json output_records(const fs::path& staging) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(staging)) files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  json outputs = json::array();
  for (const auto& f : files) outputs.push_back({{"path", f}, {"sha256", core::sha256_file((staging / f).string())}});
  return outputs;
}

// The staging folder becomes the output folder; a folder it replaces is moved aside and removed only
// once the run is also registered, so that a failure from there on leaves everything as it was.
class Publication {
 public:
  explicit Publication(Staging& s) : s_(s) {
    if (fs::exists(s.out_dir)) {
      aside_ = s.parent / fmt::format(".{}.sco-old-{}", s.out_dir.filename().string(), ::getpid());
      fs::rename(s.out_dir, aside_);
    }
    fs::rename(s.path, s.out_dir);
  }
  ~Publication() {
    if (done_) return;
    std::error_code ec;
    fs::rename(s_.out_dir, s_.path, ec);  // the staging guard removes it
    if (!aside_.empty()) fs::rename(aside_, s_.out_dir, ec);
  }
  void commit() {
    done_ = true;
    s_.keep = true;
    if (!aside_.empty()) fs::remove_all(aside_);
  }

 private:
  Staging& s_;
  fs::path aside_;
  bool done_ = false;
};

core::RankLink* split_ranks() {
  core::RankLink* r = core::process_ranks();
  return r && r->size() > 1 ? r : nullptr;
}

// Rank 0's staging folder, named to every rank; the others never remove it.
void share_staging(Staging& s, const RunRequest& req, core::RankLink& ranks) {
  const std::string path = s.path.string();
  const auto bytes = ranks.broadcast(std::as_bytes(std::span(path.data(), path.size())));
  if (ranks.rank() == 0) return;
  s.out_dir = fs::absolute(req.out).lexically_normal();
  s.parent = s.out_dir.parent_path();
  s.path = std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  s.work = s.path / ".work";
  s.keep = true;
}

// A rank other than 0: the same steps on the same plan, its share of each computed, nothing written;
// it returns when rank 0 has published the run.
RunResult run_steps_elsewhere(RunContext& ctx, const RunPlan& plan, const RunCallbacks& cb, core::RankLink& ranks) {
  RunResult result;
  result.recipe_id = ctx.recipe.id;
  inputs_on_grid(ctx, plan.resampling, false);
  ranks.broadcast({});
  ind::ReportModel report;
  for (std::size_t i = 0; i < ctx.steps.size();) {
    const std::size_t n = run_steps_at(ctx, i, cb, result);
    for (std::size_t k = i; k < i + n; ++k) {
      if (ctx.steps[k].makes_table()) finish_table(ctx, ctx.steps[k], report, "", result, false);
    }
    i += n;
  }
  ranks.broadcast({});
  return result;
}

}  // namespace

RunResult execute_run(RunPlan plan, const RunCallbacks& cb) {
  const auto t0 = Clock::now();
  const std::string started = core::utc_now();
  io::init_gdal();
  RunContext& ctx = *plan.state->ctx;
  const ind::Recipe& recipe = ctx.recipe;
  RunResult result;
  result.recipe_id = recipe.id;
  result.zones = plan.state->zones;
  ctx.exec.cancel = cb.cancel;
  // Under mpirun every rank runs the steps in step (each pipeline and zonal sweep split across them);
  // rank 0 alone writes files, the report and the catalog.
  core::RankLink* const ranks = split_ranks();
  const bool writes = !ranks || ranks->rank() == 0;
  Staging staging;
  if (writes) open_staging(staging, plan.request);
  if (ranks) share_staging(staging, plan.request, *ranks);
  ctx.staging = staging.path;
  ctx.work = staging.work;
  if (!writes) return run_steps_elsewhere(ctx, plan, cb, *ranks);

  const auto [input_records, inputs_tag] = input_provenance(ctx);
  const run::AreaOfInterest& aoi = plan.request.aoi;
  const json aoi_files = aoi.geojson.empty() ? file_records(aoi.path)
                                             : json::array({{{"path", "GeoJSON"}, {"bytes", aoi.geojson.size()}, {"sha256", core::sha256_hex(aoi.geojson)}}});
  json params_json = json::object();
  for (const auto& [k, v] : plan.params) params_json[k] = v;
  ctx.tags = {{"SCO_RECIPE", recipe.id + " " + recipe.version},
              {"SCO_RECIPE_SHA256", recipe.hash},
              {"SCO_PARAMETERS", params_json.dump()},
              {"SCO_INPUTS", inputs_tag},
              {"SCO_AOI", plan.request.aoi.path + (aoi_files.empty() ? "" : " sha256:" + aoi_files[0]["sha256"].get<std::string>())},
              {"SCO_RESAMPLING", plan.resampling},
              {"SCO_VERSION", core::kVersion}};
  const std::vector<std::string> warped = inputs_on_grid(ctx, plan.resampling, true);
  if (ranks) ranks->broadcast({});  // the inputs' files are there for every rank

  ind::ReportModel report = report_model(recipe, plan.request.aoi.path);
  const std::string palette = ind::palette_for_category(recipe.category);
  for (std::size_t i = 0; i < ctx.steps.size();) {
    const std::size_t n = run_steps_at(ctx, i, cb, result);
    for (std::size_t k = i; k < i + n; ++k) {
      const ind::Step& st = ctx.steps[k];
      if (st.makes_table()) {
        finish_table(ctx, st, report, palette, result, true);
      } else if (st.output) {
        result.outputs.push_back({"raster", st.id, ctx.raster_path.at(st.id), st.title, st.units});
        report.rasters.emplace_back(st.title, st.id + ".tif");
      }
    }
    i += n;
  }

  fs::remove_all(staging.work);
  result.warnings = ctx.warnings;
  const json prov = provenance(plan, ctx, input_records, aoi_files, warped, started, output_records(staging.path), result.warnings);
  report.provenance = prov;
  report.warnings = result.warnings;
  write_file(staging.path / "report.html", ind::render_report(report), "the report");
  write_file(staging.path / "provenance.json", prov.dump(2) + "\n", "provenance.json");
  core::throw_if_cancelled(cb.cancel);

  Publication publish(staging);
  for (auto& o : result.outputs) o.path = (staging.out_dir / fs::path(o.path).filename()).string();
  result.outputs.push_back({"report", "", (staging.out_dir / "report.html").string(), "report", ""});
  result.outputs.push_back({"provenance", "", (staging.out_dir / "provenance.json").string(), "provenance", ""});
  result.out = staging.out_dir.string();
  if (!plan.request.catalog_dir.empty()) result.registered = catalog::publish_run(publication(plan, ctx, result, prov));
  publish.commit();
  if (ranks) ranks->broadcast({});  // the run is complete: the other ranks end
  result.provenance = prov;
  for (auto& [id, t] : ctx.tables) result.tables[id] = std::move(t.table);
  result.summary = summarize(result.tables);
  result.seconds = since(t0);
  return result;
}

}  // namespace sco::run
