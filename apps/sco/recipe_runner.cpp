#include "recipe_runner.hpp"

#include <ogr_spatialref.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "catalog/ingest.hpp"
#include "catalog/store.hpp"
#include "core/cancel.hpp"
#include "core/clock.hpp"
#include "security/audit.hpp"
#include "security/keys.hpp"
#include "core/digest.hpp"
#include "core/error.hpp"
#include "core/fault.hpp"
#include "core/parse.hpp"
#include "core/version.hpp"
#include "cube/cube_step.hpp"
#include "cube/trend.hpp"
#include "indicators/builtin.hpp"
#include "indicators/recipe.hpp"
#include "indicators/report.hpp"
#include "indicators/tables.hpp"
#include "io/block_pipeline.hpp"
#include "io/gdal_session.hpp"
#include "io/grid_alignment.hpp"
#include "io/map_picture.hpp"
#include "io/raster_dataset.hpp"
#include "io/table_writer.hpp"
#include "io/time_axis.hpp"
#include "io/vector_zones.hpp"
#include "raster_job.hpp"
#include "zonal_job.hpp"

namespace sco::app {

using core::ErrorCode;
using nlohmann::json;
namespace fs = std::filesystem;
namespace ind = sco::indicators;

namespace {

// One file (or subdataset) given for an input.
struct Source {
  std::string given;     // the text after NAME=
  std::string path;      // file or GDAL subdataset name
  std::string file;      // the file on disk
  int band = 0;          // 0: all bands
  std::optional<cube::DateTime> date;
  std::string prepared;  // the VRT on the working grid
  bool warped = false;
  core::Grid grid;       // the source's own grid
};

struct ResolvedInput {
  const ind::InputDecl* decl = nullptr;
  std::vector<Source> sources;
  // The time steps: (source index, band) and their dates (empty when unknown).
  std::vector<std::pair<std::size_t, int>> steps;
  std::vector<cube::DateTime> dates;
  cube::Calendar calendar = cube::Calendar::kStandard;
  std::string time_note;
};

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

std::optional<cube::DateTime> parse_date_text(const std::string& text) {
  static const std::regex re(R"((\d{4})[-:]?(\d{2})[-:]?(\d{2}))");
  std::smatch m;
  if (!std::regex_search(text, m, re)) return std::nullopt;
  cube::DateTime d;
  d.year = std::stoi(m[1]);
  d.month = std::stoi(m[2]);
  d.day = std::stoi(m[3]);
  if (d.year < 1800 || d.year > 2200 || d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31) return std::nullopt;
  return d;
}

// NAME=PATH[:VARIABLE_OR_BAND][@YYYY-MM-DD]
std::pair<std::string, Source> parse_input_text(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) core::fail(ErrorCode::kInvalidInput, "--input '{}': expected NAME=PATH[:VARIABLE_OR_BAND]", text);
  Source s;
  const std::string name = text.substr(0, eq);
  s.given = text.substr(eq + 1);
  std::string spec = s.given;
  const auto at = spec.rfind('@');
  const auto slash = spec.find_last_of('/');
  if (at != std::string::npos && (slash == std::string::npos || at > slash) && !fs::exists(spec)) {
    const std::string date_text = spec.substr(at + 1);
    const auto d = parse_date_text(date_text);
    if (!d || date_text.size() != 10) core::fail(ErrorCode::kInvalidInput, "--input {}: '{}' is not a date YYYY-MM-DD", name, date_text);
    s.date = d;
    spec = spec.substr(0, at);
  }
  if (fs::exists(spec)) {
    s.path = s.file = spec;
    return {name, s};
  }
  const auto colon = spec.rfind(':');
  if (colon == std::string::npos || colon == 0) core::fail(ErrorCode::kNotFound, "--input {}: '{}' not found", name, spec);
  const std::string file = spec.substr(0, colon), part = spec.substr(colon + 1);
  if (!fs::exists(file)) core::fail(ErrorCode::kNotFound, "--input {}: '{}' not found", name, file);
  s.file = file;
  if (!part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    s.path = file;
    s.band = core::parse_band_number(part, fmt::format("--input {}: the band", name));
  } else {
    s.path = io::resolve_variable(spec);
  }
  return {name, s};
}

std::optional<cube::DateTime> date_from_metadata(const io::RasterDataset& ds) {
  for (const auto& [k, v] : ds.metadata()) {
    if (k == "TIFFTAG_DATETIME" || k == "ACQUISITIONDATETIME" || k == "DATE_ACQUIRED" || k == "datetime") {
      if (auto d = parse_date_text(v)) return d;
    }
  }
  return std::nullopt;
}

json file_records(const std::string& path) {
  json files = json::array();
  for (const auto& f : io::dataset_files(path)) {
    std::error_code ec;
    files.push_back({{"path", f}, {"bytes", fs::file_size(f, ec)}, {"sha256", core::sha256_file(f)}});
  }
  return files;
}

// A cube step's worker. Its inputs are the steps' blocks (main, then reference), then as many
// quality blocks when the step has a quality cube, then the static mask when it has one: quality and
// mask become each step's validity mask before the evaluation.
class CubeWorker : public io::BlockWorker {
 public:
  CubeWorker(const cube::CubeStepSpec& spec, bool quality, std::vector<double> quality_valid, bool mask)
      : eval_(spec), quality_(quality), quality_valid_(std::move(quality_valid)), mask_(mask) {}
  void process(std::span<const core::BlockView> inputs, const core::MutableBlockView& out) override {
    const std::size_t n = (inputs.size() - (mask_ ? 1 : 0)) / (quality_ ? 2 : 1);
    blocks_.assign(inputs.begin(), inputs.begin() + static_cast<std::ptrdiff_t>(n));
    if (!quality_ && !mask_) {
      eval_.evaluate(blocks_, out);
      return;
    }
    const int w = out.width, h = out.height;
    masks_.resize(n * static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
    const core::BlockView* static_mask = mask_ ? &inputs.back() : nullptr;
    for (std::size_t k = 0; k < n; ++k) {
      std::uint8_t* m = masks_.data() + k * static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
      const core::BlockView& b = blocks_[k];
      const core::BlockView* q = quality_ ? &inputs[n + k] : nullptr;
      for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
          bool ok = !b.mask || b.mask[static_cast<std::ptrdiff_t>(y) * b.mask_pitch + x] != 0;
          if (q) ok = ok && quality_ok(*q, x, y);
          if (static_mask) {
            const double v = static_mask->value_at(x, y);
            ok = ok && v == v && v != 0.0 && !(static_mask->nodata && v == *static_mask->nodata) &&
                 !(static_mask->mask && static_mask->mask[static_cast<std::ptrdiff_t>(y) * static_mask->mask_pitch + x] == 0);
          }
          m[static_cast<std::ptrdiff_t>(y) * w + x] = ok ? 1 : 0;
        }
      }
      blocks_[k].mask = m;
      blocks_[k].mask_pitch = w;
    }
    eval_.evaluate(blocks_, out);
  }

 private:
  bool quality_ok(const core::BlockView& q, int x, int y) const {
    const double v = q.value_at(x, y);
    if (v != v || (q.nodata && v == *q.nodata)) return false;
    if (quality_valid_.empty()) return v != 0.0;
    return std::find(quality_valid_.begin(), quality_valid_.end(), v) != quality_valid_.end();
  }
  cube::CubeStepEvaluator eval_;
  bool quality_;
  std::vector<double> quality_valid_;
  bool mask_;
  std::vector<core::BlockView> blocks_;
  std::vector<std::uint8_t> masks_;
};

// Removes the staging folder unless the run completed.
struct StagingGuard {
  fs::path path;
  bool keep = false;
  ~StagingGuard() {
    if (!keep && !path.empty()) {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  }
};

}  // namespace

RunResult run_recipe(const RunRequest& req, const GlobalOptions& global) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string started = core::utc_now();
  io::init_gdal();
  RunResult result;

  // 1. The recipe, its parameters and steps: all checked before any data is opened.
  ind::Recipe recipe;
  if (const ind::Recipe* builtin = ind::find_builtin(req.recipe)) {
    recipe = *builtin;
  } else if (fs::exists(req.recipe) || req.recipe.ends_with(".json")) {
    recipe = ind::load_recipe_file(req.recipe);
  } else {
    std::vector<std::string> ids;
    for (const auto& r : ind::builtin_recipes()) ids.push_back(r.id);
    core::fail(ErrorCode::kNotFound, "'{}' is neither a built-in indicator ({}) nor a recipe file", req.recipe, join(ids));
  }
  result.recipe_id = recipe.id;
  std::vector<std::pair<std::string, std::string>> overrides;
  for (const auto& p : req.params) overrides.push_back(split_assignment(p, "--param"));
  const ind::ParamValues params = ind::bind_parameters(recipe, overrides);
  const std::vector<ind::Step> steps = ind::bind_steps(recipe, params);
  // The resampling: --resampling when given explicitly, else the recipe's, else bilinear.
  const std::string resampling = !req.resampling.empty() ? req.resampling : !recipe.resampling.empty() ? recipe.resampling : "bilinear";
  io::check_resampling(resampling);
  if (req.out.empty()) core::fail(ErrorCode::kInvalidInput, "give --out DIR");
  if (req.aoi.empty()) core::fail(ErrorCode::kInvalidInput, "give --aoi VECTOR (the districts)");

  // 2. The inputs: every declared input given, nothing unknown.
  std::map<std::string, ResolvedInput> inputs;
  for (const auto& text : req.inputs) {
    auto [name, source] = parse_input_text(text);
    const ind::InputDecl* decl = recipe.find_input(name);
    if (!decl) {
      std::vector<std::string> names;
      for (const auto& d : recipe.inputs) names.push_back(d.name);
      core::fail(ErrorCode::kInvalidInput, "--input {}: '{}' has no input '{}' (inputs: {})", name, recipe.id, name, join(names));
    }
    auto& in = inputs[name];
    in.decl = decl;
    if (decl->kind != ind::InputKind::kCube && !in.sources.empty()) {
      core::fail(ErrorCode::kInvalidInput, "--input {}: given twice, but it is a {} (only cubes take several files)", name,
                 ind::input_kind_name(decl->kind));
    }
    in.sources.push_back(source);
  }
  for (const auto& d : recipe.inputs) {
    if (!inputs.count(d.name)) {
      core::fail(ErrorCode::kInvalidInput, "missing input '{}' ({}, {}): give --input {}=PATH{}", d.name, ind::input_kind_name(d.kind),
                 d.title, d.name, d.kind == ind::InputKind::kCube ? "[:VARIABLE]" : "");
    }
  }
  // Open each source; cubes get their time steps and dates.
  for (auto& [name, in] : inputs) {
    for (std::size_t k = 0; k < in.sources.size(); ++k) {
      Source& s = in.sources[k];
      const io::RasterDataset ds = io::RasterDataset::open(s.path);
      s.grid = ds.grid();
      if (s.band > 0) ds.band(s.band);  // throws naming the file and its band count
      switch (in.decl->kind) {
        case ind::InputKind::kRaster:
          if (s.band == 0) s.band = 1;
          in.steps.emplace_back(k, s.band);
          break;
        case ind::InputKind::kImage:
          if (s.band != 0) core::fail(ErrorCode::kInvalidInput, "--input {}: an image is a whole multi-band file, not one band", name);
          break;
        case ind::InputKind::kCube:
          if (in.sources.size() == 1 && s.band == 0) {
            for (int b = 1; b <= ds.band_count(); ++b) in.steps.emplace_back(k, b);
            if (const auto axis = io::find_time_axis(ds); axis && axis->dates.size() == static_cast<std::size_t>(ds.band_count())) {
              in.dates = axis->dates;
              in.calendar = cube::parse_calendar(axis->calendar);
              in.time_note = fmt::format("CF time axis ({}, calendar {})", axis->units, axis->calendar.empty() ? "standard" : axis->calendar);
            }
          } else {
            if (s.band == 0 && ds.band_count() != 1) {
              core::fail(ErrorCode::kInvalidInput, "--input {}: '{}' has {} bands; give the band of this date, {}:BAND", name, s.path,
                         ds.band_count(), s.path);
            }
            in.steps.emplace_back(k, s.band == 0 ? 1 : s.band);
            if (!s.date) s.date = parse_date_text(fs::path(s.file).filename().string());
            if (!s.date) s.date = date_from_metadata(ds);
          }
          break;
      }
    }
    if (in.decl->kind == ind::InputKind::kCube && in.sources.size() > 1) {
      bool all = true;
      for (const auto& s : in.sources) all = all && s.date.has_value();
      if (all) {
        for (const auto& s : in.sources) in.dates.push_back(*s.date);
        in.time_note = "dates of the files (@DATE, file name or metadata)";
        std::vector<std::size_t> order(in.sources.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        const auto& dates = in.dates;  // a named reference: clang 14 lambdas cannot capture structured bindings
        auto key = [&dates](std::size_t i) { return std::make_tuple(dates[i].year, dates[i].month, dates[i].day); };
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
        std::vector<std::pair<std::size_t, int>> st;
        std::vector<cube::DateTime> dt;
        for (std::size_t i : order) {
          st.push_back(in.steps[i]);
          dt.push_back(in.dates[i]);
        }
        in.steps = st;
        in.dates = dt;
      }
    }
    if (in.decl->kind == ind::InputKind::kCube && in.time_note.empty()) in.time_note = "no dates: steps in the order given";
  }

  // 3. Time selections, checked against the data before any work.
  auto dates_text = [](const ResolvedInput& in) {
    return in.dates.empty() ? std::string("no dates") : in.dates.front().iso().substr(0, 10) + ".." + in.dates.back().iso().substr(0, 10);
  };
  auto select = [&](const ind::Step& step, const ind::Period& period, const char* field) {
    const ResolvedInput& in = inputs.at(step.input);
    std::vector<std::size_t> idx;
    if (!period.given) {
      for (std::size_t i = 0; i < in.steps.size(); ++i) idx.push_back(i);
      return idx;
    }
    if (in.dates.empty()) {
      core::fail(ErrorCode::kInvalidInput,
                 "recipe '{}': step '{}': field '{}': input '{}' has no dates (give a NetCDF time axis, NAME=FILE@YYYY-MM-DD or a "
                 "date in each file name)", recipe.source, step.id, field, step.input);
    }
    for (std::size_t i = 0; i < in.dates.size(); ++i) {
      if (period.contains(in.dates[i])) idx.push_back(i);
    }
    if (idx.empty()) {
      core::fail(ErrorCode::kInvalidInput, "recipe '{}': step '{}': field '{}': {} is outside the data of input '{}' ({})", recipe.source,
                 step.id, field, period.describe(), step.input, dates_text(in));
    }
    return idx;
  };
  auto years = [&](const ResolvedInput& in, const std::vector<std::size_t>& idx, double per) {
    std::vector<double> t;
    for (std::size_t i : idx) {
      t.push_back(in.dates.empty() ? static_cast<double>(i) / per
                                   : cube::decimal_year(in.dates[i], in.calendar) / per);
    }
    return t;
  };
  struct Selection {
    std::vector<std::size_t> main, reference;
  };
  std::map<std::string, Selection> selections;
  for (const auto& st : steps) {
    if (!st.quality.empty() && inputs.at(st.quality).steps.size() != inputs.at(st.input).steps.size()) {
      core::fail(ErrorCode::kInvalidInput, "recipe '{}': step '{}': field 'quality': cube '{}' has {} steps, '{}' has {}", recipe.source,
                 st.id, st.quality, inputs.at(st.quality).steps.size(), st.input, inputs.at(st.input).steps.size());
    }
    if (st.op == "cube.reduce") {
      selections[st.id] = {select(st, st.period, "period"), st.threshold_percentile ? select(st, st.baseline, "baseline") : std::vector<std::size_t>{}};
    } else if (st.op == "cube.trend" || st.op == "zonal.trend") {
      selections[st.id] = {select(st, st.period, "period"), {}};
      if (selections[st.id].main.size() < 3) {
        core::fail(ErrorCode::kInvalidInput, "recipe '{}': step '{}': a trend needs at least 3 time steps, the period has {}", recipe.source,
                   st.id, selections[st.id].main.size());
      }
      if (inputs.at(st.input).dates.empty()) {
        result.warnings.push_back(fmt::format("step '{}': input '{}' has no dates; the trend is per step, not per {}", st.id, st.input,
                                              st.per == 10.0 ? "decade" : "year"));
      }
    } else if (st.op == "cube.anomaly") {
      selections[st.id] = {select(st, st.period, "period"), select(st, st.baseline, "baseline")};
    } else if (st.op == "cube.change") {
      selections[st.id] = {select(st, st.period, "after"), select(st, st.baseline, "before")};
    }
  }

  // 4. The area of interest and the working grid: the first input's grid, cut to the area.
  io::VectorZones zones = io::read_zones(req.aoi, req.layer, req.id);
  const ResolvedInput& first = inputs.at(recipe.grid_like.empty() ? recipe.inputs.front().name : recipe.grid_like);
  const core::Grid& ref_grid = first.sources.front().grid;
  core::Grid grid;
  {
    const io::Bounds b = io::zones_bounds(zones, ref_grid.crs_wkt);
    if (!io::crop_grid(ref_grid, b, 1, grid)) {
      core::fail(ErrorCode::kInvalidInput, "the area of interest '{}' (extent {} in {}) does not overlap input '{}' '{}' (extent {})",
                 req.aoi, b.describe(), io::crs_label(ref_grid.crs_wkt), first.decl->name, first.sources.front().given,
                 io::grid_bounds(ref_grid).describe());
    }
  }
  for (const auto& [name, in] : inputs) {
    for (const auto& s : in.sources) {
      const core::Grid& g = s.grid;
      core::Grid unused;
      const io::Bounds b = io::zones_bounds(zones, g.crs_wkt);
      if (!io::crop_grid(g, b, 0, unused)) {
        core::fail(ErrorCode::kInvalidInput, "the area of interest '{}' (extent {}) does not overlap input '{}' '{}' (extent {})", req.aoi,
                   b.describe(), name, s.given, io::grid_bounds(g).describe());
      }
    }
  }
  // A numeric attribute of the districts (residents, vulnerability), NaN where empty or not a number.
  auto numeric_field = [&](const std::string& field) {
    std::vector<double> values;
    for (const auto& text : io::read_zones(req.aoi, req.layer, field).ids) {
      char* end = nullptr;
      const double x = std::strtod(text.c_str(), &end);
      values.push_back(text.empty() || *end ? std::nan("") : x);
    }
    return values;
  };
  std::vector<double> population;
  for (const auto& st : steps) {
    if (!st.population_field.empty() && population.empty()) population = numeric_field(st.population_field);
  }

  // 5. The output folder: staged beside its final place, renamed when complete.
  const fs::path out_dir = fs::absolute(req.out).lexically_normal();
  const fs::path parent = out_dir.parent_path();
  if (!fs::is_directory(parent)) core::fail(ErrorCode::kIo, "cannot write '{}': folder '{}' does not exist", req.out, parent.string());
  if (::access(parent.c_str(), W_OK) != 0) core::fail(ErrorCode::kIo, "cannot write '{}': folder '{}' is not writable", req.out, parent.string());
  if (fs::exists(out_dir) && !(fs::is_directory(out_dir) && fs::is_empty(out_dir)) && !req.overwrite) {
    core::fail(ErrorCode::kInvalidInput, "'{}' exists and is not empty: choose another --out, or add --overwrite", req.out);
  }
  StagingGuard staging{parent / fmt::format(".{}.sco-partial-{}", out_dir.filename().string(), ::getpid())};
  fs::remove_all(staging.path);
  const fs::path work = staging.path / ".work";
  fs::create_directories(work);

  // Provenance recorded in every raster (no clock time: reruns must give identical bytes).
  json input_records = json::array();
  std::string inputs_tag;
  for (const auto& d : recipe.inputs) {
    const ResolvedInput& in = inputs.at(d.name);
    json rec = {{"name", d.name}, {"kind", ind::input_kind_name(d.kind)}, {"sources", json::array()}};
    for (const auto& s : in.sources) {
      json files = file_records(s.file);
      rec["sources"].push_back({{"given", s.given}, {"dataset", s.path}, {"band", s.band}, {"files", files}});
      inputs_tag += fmt::format("{}{}={} sha256:{}", inputs_tag.empty() ? "" : "; ", d.name, s.given,
                                files.empty() ? std::string("?") : files[0]["sha256"].get<std::string>());
    }
    if (d.kind == ind::InputKind::kCube) {
      rec["steps"] = in.steps.size();
      rec["time"] = in.time_note;
      json dates = json::array();
      for (const auto& dt : in.dates) dates.push_back(dt.iso());
      rec["dates"] = dates;
    }
    input_records.push_back(rec);
  }
  const json aoi_files = file_records(req.aoi);
  json params_json = json::object();
  for (const auto& [k, v] : params) params_json[k] = v;
  std::vector<std::pair<std::string, std::string>> tags = {
      {"SCO_RECIPE", recipe.id + " " + recipe.version},
      {"SCO_RECIPE_SHA256", recipe.hash},
      {"SCO_PARAMETERS", params_json.dump()},
      {"SCO_INPUTS", inputs_tag},
      {"SCO_AOI", req.aoi + (aoi_files.empty() ? "" : " sha256:" + aoi_files[0]["sha256"].get<std::string>())},
      {"SCO_RESAMPLING", resampling},
      {"SCO_VERSION", core::kVersion},
  };

  // 6. Inputs on the working grid (VRT windows or warps).
  std::vector<std::string> warped;
  for (auto& [name, in] : inputs) {
    for (std::size_t k = 0; k < in.sources.size(); ++k) {
      Source& s = in.sources[k];
      s.prepared = (work / fmt::format("{}_{}.vrt", name, k)).string();
      s.warped = io::write_aligned_vrt(s.path, s.grid, grid, resampling, s.prepared);
      if (s.warped) warped.push_back(fmt::format("{} ({} to the working grid with {})", s.given, s.grid.describe(), resampling));
    }
  }

  GlobalOptions quiet = global;
  quiet.quiet = true;
  quiet.json = false;
  const bool show = !global.quiet && !global.json && global.progress();
  std::map<std::string, std::string> raster_path;  // input or step -> file on the working grid
  for (const auto& [name, in] : inputs) {
    if (in.decl->kind == ind::InputKind::kRaster) raster_path[name] = in.sources[0].prepared;
  }
  std::map<std::string, io::ResultTable> tables;
  std::map<std::string, json> series_docs;  // zonal.trend steps: each district's series, for the web map's charts
  ind::ReportModel report;
  report.title = recipe.title;
  report.recipe_id = recipe.id;
  report.recipe_version = recipe.version;
  report.description = recipe.description;
  report.category = recipe.category;
  report.references = recipe.references;
  report.area_of_interest = req.aoi;
  const std::string palette = ind::palette_for_category(recipe.category);

  auto raster_spec = [&](const ind::Step& st) {
    io::OutputSpec spec;
    spec.path = st.output ? (staging.path / (st.id + ".tif")).string() : (work / (st.id + ".tif")).string();
    spec.type = core::DataType::kFloat32;
    spec.nodata = std::nan("");
    spec.format = st.output ? io::OutputFormat::kCog : io::OutputFormat::kGTiff;
    spec.metadata = tags;
    spec.metadata.emplace_back("SCO_STEP", st.id + " (" + st.op + ")");
    if (!st.units.empty()) spec.metadata.emplace_back("SCO_UNITS", st.units);
    spec.band_description = st.title;
    return spec;
  };
  auto zonal_table = [&](const std::vector<std::string>& rasters, const std::string& stats, const std::string& weights) {
    ZonalRequest zr;
    zr.rasters = rasters;
    zr.zones = req.aoi;
    zr.layer = req.layer;
    zr.id = req.id;
    zr.stats = stats;
    zr.weights = weights;
    ZonalJobResult r = run_zonal_job(zr, quiet);
    for (const auto& w : r.warnings) {
      if (std::find(result.warnings.begin(), result.warnings.end(), w) == result.warnings.end()) result.warnings.push_back(w);
    }
    return r.table;
  };
  auto column = [](const io::ResultTable& t, const std::string& name) {
    const auto it = std::find(t.columns.begin(), t.columns.end(), name);
    if (it == t.columns.end()) core::fail(ErrorCode::kInternal, "no column '{}'", name);
    std::vector<double> v;
    for (const auto& row : t.rows) v.push_back(row[static_cast<std::size_t>(it - t.columns.begin())]);
    return v;
  };
  auto add_column = [](io::ResultTable& t, const std::string& name, const std::vector<double>& v) {
    t.columns.push_back(name);
    for (std::size_t i = 0; i < t.rows.size(); ++i) t.rows[i].push_back(v[i]);
  };
  auto add_text_column = [](io::ResultTable& t, const std::string& name, const std::vector<std::string>& v) {
    t.text_columns.push_back(name);
    t.text_rows.resize(t.rows.size());
    for (std::size_t i = 0; i < t.rows.size(); ++i) t.text_rows[i].push_back(v[i]);
  };

  std::vector<zonal::Zone> zone_geoms;  // the districts in the working grid's CRS, for report maps

  // 7. The steps, in order.
  for (std::size_t si = 0; si < steps.size(); ++si) {
    const ind::Step& st = steps[si];
    core::throw_if_cancelled();
    if (show) std::fprintf(stderr, "sco: step %zu/%zu %s (%s)\n", si + 1, steps.size(), st.id.c_str(), st.op.c_str());
    if (st.makes_raster()) {
      io::OutputSpec spec = raster_spec(st);
      if (st.op.rfind("index.", 0) == 0) {
        IndexRequest ir;
        ir.index = st.index;
        ir.input = inputs.at(st.input).sources[0].prepared;
        ir.sensor = st.sensor;
        ir.scale = st.scale;
        ir.offset = st.offset;
        std::vector<std::string> warnings;
        ExpressionJob job = build_index_job(ir, warnings);
        job.output = spec;
        job.record_inputs = false;
        job.extra_metadata.clear();
        run_expression_job(job, quiet);
      } else if (st.op == "raster.calc") {
        ExpressionJob job;
        for (const auto& [name, path] : raster_path) job.inputs.emplace_back(name, io::PipelineInput{path, 1});
        job.expression = st.expression;
        job.output = spec;
        job.record_inputs = false;
        job.output.metadata.emplace_back("SCO_EXPRESSION", st.expression);
        run_expression_job(job, quiet);
      } else {
        const ResolvedInput& in = inputs.at(st.input);
        const Selection& sel = selections.at(st.id);
        cube::CubeStepSpec cs;
        cs.op = st.reducer;
        cs.t_main = years(in, sel.main, st.per);
        if (st.op == "cube.reduce" && st.threshold_percentile) {
          cs.form = cube::CubeStepSpec::Form::kThreshold;
          cs.percentile = *st.threshold_percentile / 100.0;
        } else if (st.op == "cube.anomaly" || st.op == "cube.change") {
          cs.form = cube::CubeStepSpec::Form::kDifference;
          cs.relative = st.relative;
        }
        std::vector<io::PipelineInput> pin;
        for (std::size_t i : sel.main) pin.push_back({in.sources[in.steps[i].first].prepared, in.steps[i].second});
        if (cs.form != cube::CubeStepSpec::Form::kReduce) {
          cs.t_reference = years(in, sel.reference, st.per);
          for (std::size_t i : sel.reference) pin.push_back({in.sources[in.steps[i].first].prepared, in.steps[i].second});
        }
        const bool has_quality = !st.quality.empty(), has_mask = !st.mask.empty();
        if (has_quality) {
          const ResolvedInput& q = inputs.at(st.quality);
          for (std::size_t i : sel.main) pin.push_back({q.sources[q.steps[i].first].prepared, q.steps[i].second});
          if (cs.form != cube::CubeStepSpec::Form::kReduce) {
            for (std::size_t i : sel.reference) pin.push_back({q.sources[q.steps[i].first].prepared, q.steps[i].second});
          }
        }
        if (has_mask) pin.push_back({raster_path.at(st.mask), 1});
        auto describe = [&](const std::vector<std::size_t>& idx) {
          if (in.dates.empty()) return fmt::format("steps {}..{}", idx.front() + 1, idx.back() + 1);
          return in.dates[idx.front()].iso().substr(0, 10) + ".." + in.dates[idx.back()].iso().substr(0, 10);
        };
        spec.metadata.emplace_back("SCO_TIME_STEPS", describe(sel.main) + (sel.reference.empty() ? "" : " vs " + describe(sel.reference)));
        io::PipelineOptions options;
        options.threads = global.effective_threads();
        io::run_block_pipeline(
            pin, spec, [&] { return std::make_unique<CubeWorker>(cs, has_quality, st.quality_valid, has_mask); }, options);
      }
      raster_path[st.id] = spec.path;
      if (st.output) {
        result.outputs.push_back({"raster", st.id, spec.path, st.title, st.units});
        report.rasters.emplace_back(st.title, st.id + ".tif");
      }
      continue;
    }

    // Tables per district.
    io::ResultTable table;
    std::string main_column;
    std::string picture_raster;
    if (st.op == "zonal.stats") {
      table = zonal_table({"value=" + raster_path.at(st.raster)}, join(st.stats, ","),
                          st.weights.empty() ? "" : raster_path.at(st.weights));
      main_column = table.columns.empty() ? "" : table.columns.front();
      picture_raster = raster_path.at(st.raster);
      if (!st.exposure_mask.empty()) {
        const io::ResultTable ex = zonal_table({"mask=" + raster_path.at(st.exposure_mask)}, "mean,area", "");
        const auto share = column(ex, "mean");
        const auto area = column(ex, "area");
        std::vector<double> km2(share.size());
        for (std::size_t i = 0; i < share.size(); ++i) km2[i] = share[i] * area[i] / 1e6;
        add_column(table, "exposed_fraction", share);
        add_column(table, "exposed_area_km2", km2);
        if (!st.population_field.empty()) {
          std::vector<double> exposed(share.size());
          for (std::size_t i = 0; i < share.size(); ++i) exposed[i] = share[i] * population[i];
          add_column(table, "residents", population);
          add_column(table, "exposed_residents", exposed);
          main_column = "exposed_residents";
        } else {
          main_column = "exposed_fraction";
        }
      }
    } else if (st.op == "zonal.trend") {
      const ResolvedInput& in = inputs.at(st.input);
      const Selection& sel = selections.at(st.id);
      std::vector<std::string> rasters;
      for (std::size_t i : sel.main) {
        rasters.push_back(fmt::format("t{}={}:{}", i, in.sources[in.steps[i].first].prepared, in.steps[i].second));
      }
      // One coverage computation for every step: the steps share the working grid.
      const io::ResultTable series = zonal_table(rasters, "mean", "");
      const std::vector<double> t = years(in, sel.main, st.per);
      table.id_column = series.id_column;
      table.ids = series.ids;
      table.rows.assign(series.ids.size(), {});
      std::vector<double> mean(series.ids.size()), slope(mean.size()), s(mean.size()), z(mean.size()), p(mean.size()), n(mean.size());
      std::vector<std::string> significant(mean.size());
      std::vector<double> scratch;
      for (std::size_t r = 0; r < series.ids.size(); ++r) {
        const std::vector<double>& x = series.rows[r];
        double sum = 0;
        int count = 0;
        for (double v : x) {
          if (v == v) {
            sum += v;
            ++count;
          }
        }
        mean[r] = count ? sum / count : std::nan("");
        const cube::TrendResult tr = cube::trend(t.data(), x.data(), x.size(), scratch);
        const bool ok = tr.n >= 3;
        slope[r] = ok ? tr.slope : std::nan("");
        s[r] = ok ? tr.s : std::nan("");
        z[r] = ok ? tr.z : std::nan("");
        p[r] = ok ? tr.p : std::nan("");
        n[r] = tr.n;
        significant[r] = ok ? (tr.p < st.alpha ? "yes" : "no") : "";
      }
      for (const auto& [name, v] : std::vector<std::pair<std::string, std::vector<double>*>>{
               {"mean", &mean}, {"slope", &slope}, {"mk_s", &s}, {"mk_z", &z}, {"p_value", &p}, {"steps", &n}}) {
        add_column(table, name, *v);
      }
      add_text_column(table, "significant", significant);
      main_column = "slope";
      json dates = json::array(), by_id = json::object();
      for (std::size_t i : sel.main) dates.push_back(in.dates[i].iso().substr(0, 10));
      for (std::size_t r = 0; r < series.ids.size(); ++r) {
        json values = json::array();
        for (double v : series.rows[r]) values.push_back(v == v ? json(v) : json());
        by_id[series.ids[r]] = values;
      }
      series_docs[st.id] = {{"step", st.id}, {"id_column", series.id_column}, {"statistic", "mean"}, {"slope_units", st.units},
                            {"slope_per", st.per == 10.0 ? "decade" : "year"}, {"dates", dates}, {"series", by_id}};
    } else if (st.op == "risk") {
      auto factor = [&](const ind::TableColumnRef& ref) -> std::vector<double> {
        if (!ref.given) return {};
        if (!ref.field.empty()) return numeric_field(ref.field);
        return column(tables.at(ref.step), ref.column);
      };
      const auto hazard = factor(st.hazard), exposure = factor(st.exposure), vulnerability = factor(st.vulnerability);
      const ind::RiskColumns rc = ind::combine_risk(hazard, exposure, vulnerability);
      const io::ResultTable& base = tables.at(st.hazard.step);
      table.id_column = base.id_column;
      table.ids = base.ids;
      table.rows.assign(base.ids.size(), {});
      const std::vector<double> none(base.ids.size(), std::nan(""));
      add_column(table, "hazard", hazard);
      add_column(table, "exposure", exposure.empty() ? none : exposure);
      add_column(table, "vulnerability", vulnerability.empty() ? none : vulnerability);
      add_column(table, "hazard_norm", rc.hazard_norm);
      add_column(table, "exposure_norm", rc.exposure_norm);
      add_column(table, "vulnerability_norm", rc.vulnerability_norm);
      add_column(table, "risk", rc.risk);
      main_column = "risk";
    }
    if (st.classes.given) {
      const auto v = column(table, st.classes.column);
      std::vector<std::string> labels;
      for (double x : v) labels.push_back(ind::classify(x, st.classes));
      add_text_column(table, "class", labels);
      main_column = st.classes.column;
    }
    tables[st.id] = table;
    if (!st.output) continue;
    const std::string csv = (staging.path / (st.id + ".csv")).string();
    const std::string geojson = (staging.path / (st.id + ".geojson")).string();
    const std::string gpkg = (staging.path / (st.id + ".gpkg")).string();
    io::write_table(table, csv, zones);
    io::write_table(table, geojson, zones);
    io::write_table(table, gpkg, zones);
    if (series_docs.count(st.id)) {
      std::ofstream((staging.path / (st.id + "_series.json")).string()) << series_docs.at(st.id).dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
    }
    result.outputs.push_back({"table", st.id, csv, st.title, st.units});
    result.outputs.push_back({"table", st.id, geojson, st.title, st.units});
    result.outputs.push_back({"table", st.id, gpkg, st.title, st.units});

    // The report's section for this table.
    ind::ReportTable rt;
    rt.step = st.id;
    rt.op = st.op;
    rt.title = st.title;
    rt.units = st.units;
    rt.description = st.description;
    rt.id_column = table.id_column;
    rt.ids = table.ids;
    rt.columns = table.columns;
    rt.rows = table.rows;
    rt.text_columns = table.text_columns;
    rt.text_rows = table.text_rows;
    rt.main_column = main_column;
    rt.map.palette = palette;
    if (zone_geoms.empty()) {
      std::vector<std::string> zone_warnings;
      zone_geoms = io::zones_for_grid(zones, grid, zone_warnings);
    }
    int pic_w = 0, pic_h = 0;
    if (!picture_raster.empty()) {
      const io::MapPicture pic = io::render_map_picture(picture_raster, ind::palette(palette), 640);
      rt.map.png = pic.png;
      rt.map.width = pic_w = pic.width;
      rt.map.height = pic_h = pic.height;
      rt.map.low = pic.low;
      rt.map.high = pic.high;
    } else {
      const double f = 640.0 / std::max(grid.width, grid.height);
      pic_w = std::max(1, static_cast<int>(std::lround(grid.width * f)));
      pic_h = std::max(1, static_cast<int>(std::lround(grid.height * f)));
      rt.map.width = pic_w;
      rt.map.height = pic_h;
    }
    for (const auto& z : zone_geoms) rt.map.zone_paths.push_back(ind::zone_svg_path(z, grid.transform, grid.width, grid.height, pic_w, pic_h));
    if (std::find(table.columns.begin(), table.columns.end(), "valid_fraction") != table.columns.end()) {
      const auto vf = column(table, "valid_fraction");
      int low = 0;
      for (double v : vf) low += (v == v && v < 0.5) ? 1 : 0;
      if (low) rt.notes.push_back(fmt::format("{} district{} with less than half of the area covered by valid pixels: read their figures with care",
                                              low, low == 1 ? "" : "s"));
    }
    report.tables.push_back(std::move(rt));
  }

  // 8. Provenance, report, then the folder appears in one rename.
  fs::remove_all(work);
  json outputs = json::array();
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(staging.path)) files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) outputs.push_back({{"path", f}, {"sha256", core::sha256_file((staging.path / f).string())}});
  json prov = {
      {"sco_provenance", 1},
      {"software", {{"name", "sco"}, {"version", core::kVersion}}},
      {"recipe",
       {{"id", recipe.id}, {"version", recipe.version}, {"title", recipe.title}, {"source", recipe.source}, {"sha256", recipe.hash},
        {"document", recipe.document}}},
      {"parameters", params_json},
      {"inputs", input_records},
      {"area_of_interest", {{"path", req.aoi}, {"layer", zones.layer}, {"id_field", req.id}, {"zones", zones.ids.size()}, {"files", aoi_files}}},
      {"grid", {{"width", grid.width}, {"height", grid.height}, {"transform", grid.transform}, {"crs", io::crs_label(grid.crs_wkt)}}},
      {"resampling", resampling},
      {"warped_inputs", warped},
      {"started", started},
      {"finished", core::utc_now()},
      {"outputs", outputs},
      {"warnings", result.warnings},
  };
  report.provenance = prov;
  report.warnings = result.warnings;
  {
    const std::string html = ind::render_report(report);
    std::ofstream f(staging.path / "report.html", std::ios::binary);
    f << html;
    if (!f) core::fail(ErrorCode::kIo, "cannot write the report in '{}'", staging.path.string());
  }
  {
    std::ofstream f(staging.path / "provenance.json", std::ios::binary);
    f << prov.dump(2) << '\n';
    if (!f) core::fail(ErrorCode::kIo, "cannot write provenance.json in '{}'", staging.path.string());
  }
  core::throw_if_cancelled();
  // The staging folder becomes --out; a folder it replaces is moved aside and removed only once the
  // run is also registered, so that a failure from here on leaves everything as it was.
  fs::path aside;
  if (fs::exists(out_dir)) {
    aside = parent / fmt::format(".{}.sco-old-{}", out_dir.filename().string(), ::getpid());
    fs::rename(out_dir, aside);
  }
  fs::rename(staging.path, out_dir);
  struct Unpublish {
    const fs::path &out, &staging, &aside;
    bool done = false;
    ~Unpublish() {
      if (done) return;
      std::error_code ec;
      fs::rename(out, staging, ec);  // the staging guard removes it
      if (!aside.empty()) fs::rename(aside, out, ec);
    }
  } unpublish{out_dir, staging.path, aside};
  for (auto& o : result.outputs) o.path = (out_dir / fs::path(o.path).filename()).string();
  result.outputs.push_back({"report", "", (out_dir / "report.html").string(), "report", ""});
  result.outputs.push_back({"provenance", "", (out_dir / "provenance.json").string(), "provenance", ""});
  result.out = out_dir.string();
  // 9. The rasters join the node's catalog, with their provenance (processing extension, and the
  // report and provenance.json as metadata assets). The items' time is the data's: the cube inputs'
  // dates, else the run's.
  if (req.register_outputs) {
    std::string start, end;
    for (const auto& [name, in] : inputs) {
      if (in.dates.empty()) continue;
      const std::string a = in.dates.front().iso(), b = in.dates.back().iso();
      if (start.empty() || a < start) start = a;
      if (end.empty() || b > end) end = b;
    }
    const auto store = catalog::open_sqlite_store(global.catalog_dir());
    const auto keys = security::NodeKeys::load_or_create(global.catalog_dir());
    store->transaction([&] {
      // The collection with its visibility first, in the transaction that adds the items.
      json c = store->collection(recipe.id).value_or(
          catalog::new_collection(recipe.id, recipe.title, recipe.description.empty() ? recipe.title : recipe.description, ""));
      if (!req.visibility.empty()) c["sco:visibility"] = req.visibility;
      store->put_collection(c);
      // Every asset carries its size and SHA-256 (file extension), so that partners who sync the
      // product can prove each file: from provenance.json's records, or hashed here (itself).
      std::map<std::string, std::string> recorded;  // output file name -> SHA-256, from provenance.json
      for (const auto& rec : prov["outputs"]) recorded[rec["path"].get<std::string>()] = rec["sha256"].get<std::string>();
      auto recorded_sha = [&](const std::string& path) {
        const auto it = recorded.find(fs::path(path).filename().string());
        return it != recorded.end() ? it->second : std::string();
      };
      std::map<std::string, json> file_fields;
      auto with_file = [&](json asset) {
        const std::string path = asset["href"].get<std::string>();
        auto it = file_fields.find(path);
        if (it == file_fields.end()) {
          std::string sha = recorded_sha(path);
          if (sha.empty()) sha = core::sha256_file(path);
          it = file_fields.emplace(path, json{{"file:checksum", "1220" + sha}, {"file:size", fs::file_size(path)}}).first;
        }
        asset.update(it->second);
        return asset;
      };
      for (const auto& o : result.outputs) {
        if (o.kind != "raster") continue;
        const std::string item_id = out_dir.filename().string() + "-" + o.step;
        const std::string sha = recorded_sha(o.path);  // computed for provenance.json already
        catalog::BuiltItem built =
            catalog::raster_item(o.path, recipe.id, {.id = item_id, .datetime = start.empty() ? prov["finished"].get<std::string>() : start}, sha);
        json& props = built.item["properties"];
        if (!start.empty() && start != end) {
          props["datetime"] = nullptr;
          props["start_datetime"] = start;
          props["end_datetime"] = end;
        }
        props["title"] = o.title;
        if (!o.units.empty()) props["sco:units"] = o.units;
        props["processing:software"] = {{"sco", core::kVersion}};
        props["processing:lineage"] = fmt::format("recipe {} {} (sha256 {}), step {}", recipe.id, recipe.version, recipe.hash, o.step);
        props["processing:level"] = "L4";
        built.item["stac_extensions"].push_back(catalog::kProcessingExtension);
        built.item["assets"]["provenance"] = with_file({{"href", (out_dir / "provenance.json").string()}, {"type", "application/json"},
                                                        {"title", "provenance"}, {"roles", json::array({"metadata"})}});
        built.item["assets"]["report"] = with_file({{"href", (out_dir / "report.html").string()}, {"type", "text/html"},
                                                    {"title", "report"}, {"roles", json::array({"overview"})}});
        for (const auto& t : result.outputs) {
          if (t.kind == "table" && t.path.ends_with(".geojson")) {
            built.item["assets"]["table_" + t.step] = with_file({{"href", t.path}, {"type", "application/geo+json"}, {"title", t.title},
                                                                {"roles", json::array({"data"})}});
          }
        }
        security::sign_item(built.item, keys);
        store->put_item(built.item, built.sha256);
        result.registered.push_back(item_id);
      }
      store->refresh_extent(recipe.id);
      // The per-district tables, for OGC API Features.
      for (const auto& o : result.outputs) {
        if (o.kind != "table" || !o.path.ends_with(".geojson")) continue;
        const io::Bounds b = io::zones_bounds(zones, "");
        json bbox = json::array({b.min_x, b.min_y, b.max_x, b.max_y});
        if (!zones.crs_wkt.empty()) {
          OGRSpatialReference wgs84;
          wgs84.importFromEPSG(4326);
          char* wkt = nullptr;
          wgs84.exportToWkt(&wkt);
          const io::Bounds g = io::zones_bounds(zones, wkt);
          CPLFree(wkt);
          bbox = json::array({g.min_x, g.min_y, g.max_x, g.max_y});
        }
        store->put_feature_table({{"id", out_dir.filename().string() + "-" + o.step},
                                  {"title", o.title + " (" + out_dir.filename().string() + ")"},
                                  {"description", recipe.title + ": " + o.title},
                                  {"path", o.path},
                                  {"id_column", tables.count(o.step) ? tables.at(o.step).id_column : ""},
                                  {"recipe", recipe.id},
                                  {"units", o.units},
                                  {"run", out_dir.filename().string()},
                                  {"step", o.step},
                                  {"series", fs::exists(out_dir / (o.step + "_series.json"))},
                                  {"bbox", bbox}});
        result.registered.push_back(out_dir.filename().string() + "-" + o.step);
      }
      // Written ahead of the commit and confirmed by it.
      json detail = {{"recipe", recipe.id}, {"recipe_sha256", recipe.hash}, {"out", out_dir.string()}, {"items", result.registered}};
      if (!req.visibility.empty()) detail["visibility"] = req.visibility;
      core::crash_point("run.staged");
      const auto entry = security::audit_ahead(global.catalog_dir(), keys, "run.register", detail);
      store->confirm_audit(entry.seq, entry.hash);
      core::crash_point("run.audited");
    });
  }
  unpublish.done = true;
  staging.keep = true;
  if (!aside.empty()) fs::remove_all(aside);
  result.provenance = prov;
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
  result.summary = summary;
  result.tables = std::move(tables);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace sco::app
