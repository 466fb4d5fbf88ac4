#include "server/openeo_graph.hpp"
#include "server/openeo_evaluator.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "algebra/expression.hpp"
#include "core/error.hpp"
#include "cube/series_op.hpp"
#include "indicators/builtin.hpp"
#include "io/block_pipeline.hpp"
#include "io/cube_output.hpp"
#include "io/grid_alignment.hpp"
#include "io/raster_dataset.hpp"
#include "run/expression_job.hpp"
#include "run/ops/estimate.hpp"
#include "run/run.hpp"
#include "run/series_worker.hpp"
#include "run/zonal_table.hpp"
#include "server/openeo_callback.hpp"
#include "server/run_service.hpp"
#include "server/stac_api.hpp"
#include "zonal/statistic.hpp"

namespace sco::server {

using core::ErrorCode;
using nlohmann::json;
namespace fs = std::filesystem;

namespace evaluation {

// Every input of `e` replaced by `replace(name)` (the replacements are not visited again).
void substitute(algebra::Expr& e, const std::function<algebra::Expr(const std::string&)>& replace) {
  if (e.kind == algebra::Expr::Kind::kInput) {
    e = replace(e.name);
    return;
  }
  for (auto& a : e.args) substitute(a, replace);
}

algebra::Expr input_expr(const std::string& name) {
  algebra::Expr e;
  e.kind = algebra::Expr::Kind::kInput;
  e.name = name;
  return e;
}

// `expression` over named inputs as one lazy band over file leaves: lazy inputs' trees are
// substituted for their names, every leaf file band named once.
Band compose(const std::vector<std::pair<std::string, Band>>& inputs, const algebra::Expr& expression) {
  Band out;
  auto leaf = [&out](const std::string& path, int number) {
    for (const auto& l : out.leaves) {
      if (l.path == path && l.number == number) return l.name;
    }
    out.leaves.push_back({fmt::format("v{}", out.leaves.size()), path, number});
    return out.leaves.back().name;
  };
  std::map<std::string, algebra::Expr> replacement;
  for (const auto& [name, band] : inputs) {
    if (!band.lazy()) {
      replacement[name] = input_expr(leaf(band.path, band.number));
      continue;
    }
    std::map<std::string, std::string> renamed;
    for (const auto& l : band.leaves) renamed[l.name] = leaf(l.path, l.number);
    algebra::Expr inner = *band.expr;
    substitute(inner, [&](const std::string& n) { return input_expr(renamed.at(n)); });
    replacement[name] = std::move(inner);
  }
  out.expr = expression;
  substitute(*out.expr, [&](const std::string& n) {
    const auto it = replacement.find(n);
    if (it == replacement.end()) core::fail(ErrorCode::kInvalidInput, "ProcessGraphInvalid: the band math names an unknown input '{}'", n);
    return it->second;
  });
  return out;
}

[[noreturn]] void fail_node(const std::string& node, const std::string& code, const std::string& why) {
  core::fail(ErrorCode::kInvalidInput, "{}: node '{}': {}", code, node, why);
}

void require_time(const std::string& node, const Cube& c) {
  if (c.time_reduced) fail_node(node, "DimensionNotAvailable", "the cube has no t dimension any more (it was reduced or dropped)");
}

// A geometries argument (a FeatureCollection, a Feature or a bare geometry) as a FeatureCollection.
json feature_collection(const std::string& node, const json& geometries) {
  if (!geometries.is_object() || !geometries.contains("type")) fail_node(node, "ProcessArgumentInvalid", "geometries: a GeoJSON object");
  if (geometries["type"] == "FeatureCollection") return geometries;
  const json feature = geometries["type"] == "Feature" ? geometries : json{{"type", "Feature"}, {"properties", json::object()}, {"geometry", geometries}};
  return {{"type", "FeatureCollection"}, {"features", json::array({feature})}};
}

// The built-in indicator a process id names ("sco_heat_trend": heat.trend), or null.
const indicators::Recipe* indicator_of(const std::string& process) {
  if (process.rfind("sco_", 0) != 0) return nullptr;
  for (const auto& r : indicators::builtin_recipes()) {
    if (openeo_indicator_process_id(r.id) == process) return &r;
  }
  return nullptr;
}

Cube select_bands(const std::string& node, const Cube& in, const json& bands) {
  if (!bands.is_array() || bands.empty()) fail_node(node, "ProcessArgumentInvalid", "bands must be a list of band names");
  Cube out = in;
  out.band_names.clear();
  for (const auto& b : bands) {
    if (!b.is_string()) fail_node(node, "ProcessArgumentInvalid", "bands must be a list of band names");
    std::string name = b.get<std::string>();
    if (std::find(in.band_names.begin(), in.band_names.end(), name) == in.band_names.end()) {
      for (const auto& [n, common] : in.common_names) {
        if (common == name) name = n;  // a common name (red, nir...) stands for its band
      }
    }
    if (std::find(in.band_names.begin(), in.band_names.end(), name) == in.band_names.end()) {
      fail_node(node, "BandExists", fmt::format("no band '{}' (bands: {})", b.get<std::string>(), fmt::join(in.band_names, ", ")));
    }
    out.band_names.push_back(name);
  }
  for (auto& s : out.slices) {
    std::vector<std::pair<std::string, Band>> kept;
    for (const auto& name : out.band_names) {
      for (const auto& nb : s.bands) {
        if (nb.first == name) kept.push_back(nb);
      }
    }
    s.bands = kept;
  }
  return out;
}

const std::map<std::string, Evaluator::Process>& Evaluator::processes() {
  static const std::map<std::string, Process> table = {
      {"load_collection", &Evaluator::load_collection}, {"filter_bands", &Evaluator::filter_bands},
      {"ndvi", &Evaluator::ndvi},                       {"normalized_difference", &Evaluator::normalized_difference},
      {"reduce_dimension", &Evaluator::reduce_dimension}, {"save_result", &Evaluator::save_result},
      {"aggregate_spatial", &Evaluator::aggregate_spatial}, {"filter_temporal", &Evaluator::filter_temporal},
      {"filter_bbox", &Evaluator::filter_bbox}, {"apply", &Evaluator::apply}, {"mask", &Evaluator::mask},
      {"aggregate_temporal_period", &Evaluator::aggregate_temporal_period}, {"resample_spatial", &Evaluator::resample_spatial},
      {"drop_dimension", &Evaluator::drop_dimension}, {"add_dimension", &Evaluator::add_dimension},
      {"rename_labels", &Evaluator::rename_labels}, {"merge_cubes", &Evaluator::merge_cubes},
      {"aggregate_temporal", &Evaluator::aggregate_temporal}, {"apply_kernel", &Evaluator::apply_kernel},
      {"dimension_labels", &Evaluator::dimension_labels}, {"apply_dimension", &Evaluator::apply_dimension}};
  return table;
}

// A spatial_extent: its box and the WKT of its CRS (EPSG:4326 unless `crs` names another code).
struct Extent {
  io::Bounds box;
  std::string crs_wkt;
  io::Bounds in(const std::string& wkt) const { return io::transform_bounds(box, crs_wkt, wkt, "spatial_extent"); }
};

Extent extent_of(const std::string& node, const json& e) {
  if (!e.is_object()) fail_node(node, "ProcessArgumentInvalid", "spatial_extent: {west, south, east, north[, crs]}");
  for (const char* k : {"west", "south", "east", "north"}) {
    if (!e.contains(k) || !e[k].is_number()) fail_node(node, "ProcessArgumentInvalid", fmt::format("spatial_extent needs a number '{}'", k));
  }
  const double w = e["west"], s = e["south"], ea = e["east"], n = e["north"];
  if (!(w < ea && s < n)) fail_node(node, "ProcessArgumentInvalid", "spatial_extent: west < east and south < north");
  // The specification's EPSG code (an integer) or WKT2 text; "EPSG:32632" as clients also send it.
  const json crs = e.value("crs", json(4326));
  if (!crs.is_number_integer() && !crs.is_string()) {
    fail_node(node, "ProcessArgumentInvalid", "spatial_extent: crs must be an EPSG code or a WKT2 definition");
  }
  try {
    return {{w, s, ea, n}, crs.is_string() ? io::crs_wkt_of(crs.get<std::string>()) : io::epsg_wkt(crs.get<int>())};
  } catch (const core::Error& err) {
    fail_node(node, "ProcessArgumentInvalid", fmt::format("spatial_extent: crs: {}", err.what()));
  }
}

// An item's time: its datetime, or the start of its interval.
std::string item_date(const json& item) {
  const json& p = item["properties"];
  return p.value("datetime", json()).is_string() ? p["datetime"].get<std::string>() : p.value("start_datetime", std::string());
}

Cube Evaluator::load_collection(const std::string& node, const json& args) {
  const json& idv = arg(node, args, "id");
  if (!idv.is_string()) fail_node(node, "ProcessArgumentInvalid", "id must be a collection id");
  const std::string id = idv.get<std::string>();
  const auto c = store_.collection(id);
  if (!c || !may_see(caller_, visibility_of(*c))) fail_node(node, "CollectionNotFound", fmt::format("no collection '{}'", id));
  catalog::SearchQuery q;
  q.collections = {id};
  q.limit = 10000;
  const json spatial = args.value("spatial_extent", json());
  std::optional<Extent> area;
  if (!spatial.is_null()) {
    area = extent_of(node, spatial);
    const io::Bounds b = area->in(io::epsg_wkt(4326));
    q.bbox = catalog::BBox{std::min(b.min_x, b.max_x), std::min(b.min_y, b.max_y), std::max(b.min_x, b.max_x), std::max(b.min_y, b.max_y)};
  }
  const json temporal = args.value("temporal_extent", json());
  if (temporal.is_array() && temporal.size() == 2) {
    if (temporal[0].is_string()) q.datetime_start = temporal[0].get<std::string>();
    if (temporal[1].is_string()) q.datetime_end = temporal[1].get<std::string>();  // openEO: the end is excluded; items are instants
  }
  const auto page = store_.search(q);
  if (page.items.empty()) fail_node(node, "NoDataForUpdate", fmt::format("collection '{}' has no item in the extents asked", id));
  Cube cube;
  for (const auto& item : page.items) {
    const std::vector<ItemBand> item_bands = bands_of_item(item);
    if (item_bands.empty()) continue;
    inputs_.push_back(id + "/" + item.value("id", ""));
    if (plan_only_ && !cube.slices.empty()) {  // the first item gives the grid and the bands
      cube.slices.push_back({item_date(item), id, item.value("id", ""), cube.slices[0].bands});
      continue;
    }
    if (cube.slices.empty()) {
      const io::RasterDataset ds = io::RasterDataset::open(item_bands[0].path);
      cube.grid = ds.grid();
      if (area) {
        core::Grid cut;
        if (!io::crop_grid(ds.grid(), area->in(ds.grid().crs_wkt), 0, cut)) {
          fail_node(node, "NoDataForUpdate", "spatial_extent does not overlap the collection's data");
        }
        cube.grid = cut;
      }
      for (const ItemBand& b : item_bands) {
        cube.band_names.push_back(b.name);
        if (!b.common_name.empty()) cube.common_names[b.name] = b.common_name;
      }
      // Admission: the cube's size is known before any pixel is read.
      const std::uint64_t bands = args.contains("bands") && args["bands"].is_array() ? args["bands"].size() : cube.band_names.size();
      const std::uint64_t cells = static_cast<std::uint64_t>(cube.grid.width) * static_cast<std::uint64_t>(cube.grid.height) * page.items.size() * bands;
      estimate_.cells = std::max(estimate_.cells, cells);
    }
    // Each file of the item on the cube's grid (one VRT per file: a multi-band asset, or each band's).
    Slice s{item_date(item), id, item.value("id", ""), {}};
    std::map<std::string, std::string> vrts;
    for (const ItemBand& b : item_bands) {
      if (std::find(cube.band_names.begin(), cube.band_names.end(), b.name) == cube.band_names.end()) continue;
      auto [it, fresh] = vrts.emplace(b.path, "");
      if (fresh) it->second = plan_only_ ? file(item.value("id", "item") + ".vrt") : on_cube_grid(b.path, cube.grid, item.value("id", "item"));
      s.bands.emplace_back(b.name, Band{it->second, b.band});
    }
    cube.slices.push_back(std::move(s));
  }
  std::sort(cube.slices.begin(), cube.slices.end(), [](const Slice& a, const Slice& b) { return a.date < b.date; });
  if (args.contains("bands") && !args["bands"].is_null()) return select_bands(node, cube, args["bands"]);
  return cube;
}

// An item's file as a band file on the cube's grid: the file itself when it is that grid; else a VRT
// (a window of it, which the pipelines read straight from the file at its offset, or a warp).
std::string Evaluator::on_cube_grid(const std::string& path, const core::Grid& grid, const std::string& item) {
  const io::RasterDataset ds = io::RasterDataset::open(path);
  const std::optional<core::Window> w = io::aligned_window(ds.grid(), grid);
  if (w && w->x == 0 && w->y == 0 && w->width == ds.grid().width && w->height == ds.grid().height) return path;
  const std::string vrt = file(item + ".vrt");
  io::write_aligned_vrt(path, ds.grid(), grid, "near", vrt);
  if (w) direct_->emplace(vrt, io::PipelineInput{.path = vrt, .source = path, .source_x = w->x, .source_y = w->y});
  return vrt;
}

Cube Evaluator::filter_bands(const std::string& node, const json& args) { return select_bands(node, cube_arg(node, args, "data"), arg(node, args, "bands")); }

// The band named `wanted`, else the one whose common name is `role` (red, nir, ...).
std::string Evaluator::band_of(const std::string& node, const Cube& c, const std::string& wanted, const std::string& role) {
  if (std::find(c.band_names.begin(), c.band_names.end(), wanted) != c.band_names.end()) return wanted;
  for (const auto& [name, common] : c.common_names) {
    if (common == role && std::find(c.band_names.begin(), c.band_names.end(), name) != c.band_names.end()) return name;
  }
  fail_node(node, "BandExists", fmt::format("no band '{}' (nor one whose common name is '{}') among {}", wanted, role, fmt::join(c.band_names, ", ")));
}

// (a - b) / (a + b) per slice, by sco's band-math evaluator: one band `out_name`.
Cube Evaluator::band_math(const std::string& node, const Cube& in, const std::string& a, const std::string& b, const std::string& out_name) {
  Cube out;
  out.grid = in.grid;
  out.band_names = {out_name};
  for (const auto& s : in.slices) {
    std::vector<std::pair<std::string, Band>> inputs;
    for (const auto& [name, band] : s.bands) {
      if (name == a) inputs.emplace_back("a", band);
      if (name == b) inputs.emplace_back("b", band);
    }
    if (inputs.size() != 2) fail_node(node, "BandExists", fmt::format("a slice lacks band '{}' or '{}'", a, b));
    out.slices.push_back({s.date, "", "", {{out_name, evaluate_expression(inputs, "(a - b) / (a + b)")}}});
  }
  return out;
}

Band Evaluator::evaluate_expression(const std::vector<std::pair<std::string, Band>>& inputs, const std::string& expression) {
  return compose(inputs, algebra::parse_expression(expression));  // a callback that cannot compile fails at planning
}

// The band as a file: a lazy band computed by sco's evaluator in one pass over its leaves, into a
// float32 GTiff of the work folder (or `path` in `format`); a file band as it is.
Band Evaluator::materialize(const Cube& on, const Band& band, const std::string& name, const std::string& path, io::OutputFormat format) {
  if (!band.lazy()) return band;
  Band out{path.empty() ? file(name + ".tif") : path, 1, std::nullopt, {}};
  account(run::ops::pipeline_estimate(on.grid, opts_.threads, band.leaves.size(), 4, format == io::OutputFormat::kCog));
  if (plan_only_) return out;
  run::ExpressionJob job;
  for (const auto& l : band.leaves) job.inputs.emplace_back(l.name, input_of(l.path, l.number));
  job.parsed = *band.expr;
  job.expression = algebra::to_string(*band.expr);
  job.output.path = out.path;
  job.output.type = core::DataType::kFloat32;
  job.output.nodata = std::nan("");
  job.output.format = format;
  job.output.band_description = name;
  if (format == io::OutputFormat::kCog) job.output.creation_options = cog_options_;
  job.record_inputs = false;
  run::ExecOptions exec;
  exec.threads = opts_.threads;
  exec.cancel = opts_.cancel;
  run::run_expression_job(job, exec);
  return out;
}

// Every lazy band of the cube computed (for processes that read files: reducers over time, zonal
// statistics, warps, netCDF).
Cube Evaluator::materialized(const Cube& in) {
  Cube out = in;
  for (auto& sl : out.slices) {
    for (auto& [name, band] : sl.bands) band = materialize(in, band, name);
  }
  return out;
}

Cube Evaluator::ndvi(const std::string& node, const json& args) {
  const Cube& in = cube_arg(node, args, "data");
  const std::string nir = band_of(node, in, args.value("nir", "nir"), "nir"), red = band_of(node, in, args.value("red", "red"), "red");
  const bool target = args.value("target_band", json()).is_string();
  Cube out = band_math(node, in, nir, red, target ? args["target_band"].get<std::string>() : "ndvi");
  out.bands_reduced = !target;
  return out;
}

Cube Evaluator::normalized_difference(const std::string& node, const json& args) {
  // The openEO process takes two cubes of one band each (x - y) / (x + y); here, two bands of one cube.
  const Cube& x = cube_arg(node, args, "x");
  const Cube& y = cube_arg(node, args, "y");
  if (x.band_names.size() != 1 || y.band_names.size() != 1 || x.slices.size() != y.slices.size()) {
    fail_node(node, "ProcessArgumentInvalid", "x and y must be cubes of one band each, with the same time steps (filter_bands)");
  }
  Cube both = x;
  both.band_names = {"x", "y"};
  for (std::size_t i = 0; i < both.slices.size(); ++i) {
    both.slices[i].bands = {{"x", x.slices[i].bands[0].second}, {"y", y.slices[i].bands[0].second}};
  }
  return band_math(node, both, "x", "y", "normalized_difference");
}


// The reducer callback: one node of mean, min, max, median, sum or count over {"from_parameter": "data"}.
// The one process of a reducer callback. Over time sd and variance (sample, n - 1) too; per geometry
// not: sco's zonal spread is the coverage-weighted population one, not openEO's sample sd.
std::string reducer_name(const std::string& node, const json& reducer, bool over_time) {
  static const std::vector<std::string> kEverywhere = {"mean", "min", "max", "median", "sum", "count"};
  static const std::vector<std::string> kOverTime = {"sd", "variance", "first", "last", "product"};
  std::vector<std::string> allowed = kEverywhere;
  if (over_time) allowed.insert(allowed.end(), kOverTime.begin(), kOverTime.end());
  const json graph = reducer.is_object() ? reducer.value("process_graph", json()) : json();
  if (!graph.is_object() || graph.size() != 1) {
    fail_node(node, "ProcessArgumentInvalid", fmt::format("reducer: a process graph of one node ({}) is supported", fmt::join(allowed, ", ")));
  }
  const std::string process = graph.begin()->value("process_id", "");
  if (std::find(allowed.begin(), allowed.end(), process) == allowed.end()) {
    fail_node(node, "ProcessUnsupported", fmt::format("reducer '{}' (this back-end reduces with {})", process, fmt::join(allowed, ", ")));
  }
  return process;
}

cube::SeriesOp reducer_of(const std::string& node, const json& reducer) { return cube::parse_series_op(reducer_name(node, reducer, true)); }

// aggregate_spatial: sco's exact zonal statistics (cells cut by a boundary weighted by the share of
// their area inside), per geometry, time step and band; geometries as GeoJSON in any CRS it names.
Cube Evaluator::aggregate_spatial(const std::string& node, const json& args) {
  const Cube in = materialized(cube_arg(node, args, "data"));
  const json fc = feature_collection(node, arg(node, args, "geometries"));
  const std::string stat = reducer_name(node, arg(node, args, "reducer"), false);
  const std::vector<zonal::StatSpec> stats = zonal::parse_stats(stat);
  Cube out;
  out.vector = VectorPart{std::make_shared<run::ZoneSet>(run::AreaOfInterest::from_geojson(fc.dump()).zones), {}};
  const std::size_t band_count = in.slices.size() * in.band_names.size();
  account(run::ops::zonal_estimate(in.grid, opts_.threads, out.vector->zones->size(), band_count, stat == "median"));
  out.band_names = in.band_names;
  if (plan_only_) return out;
  run::ZonalTableRequest req;
  for (const auto& s : in.slices) {
    for (const auto& [name, band] : s.bands) {
      req.bands.push_back(run::zonal_band(in.slices.size() > 1 ? s.date.substr(0, 10) + ":" + name : name, band.path, band.number));
    }
  }
  req.stats = stats;
  run::ExecOptions exec;
  exec.threads = opts_.threads;
  exec.cancel = opts_.cancel;
  run::ZonalTable t = run::compute_zonal_table(*out.vector->zones, req, exec);
  if (req.bands.size() == 1) t.table.columns = {req.bands[0].label};  // one column: the band's name
  else for (auto& c : t.table.columns) c = c.substr(0, c.rfind('_'));  // "LABEL_STAT" -> "LABEL"
  out.vector->table = std::move(t.table);
  return out;
}

// A vector cube as GeoJSON (the geometries with one property per time step and band), CSV or JSON.
void Evaluator::save_vector(const std::string& node, const Cube& in, const std::string& format) {
  std::string ext = format == "geojson" ? ".geojson" : format == "csv" ? ".csv" : format == "json" ? ".json" : "";
  if (ext.empty()) fail_node(node, "FormatUnsupported", fmt::format("format '{}': a vector cube is saved as GeoJSON, CSV or JSON", format));
  const std::string path = file("result" + ext);
  const std::string type = format == "geojson" ? "application/geo+json" : format == "csv" ? "text/csv" : "application/json";
  saved_ = std::vector<ResultFile>{{path, type, "result (" + format + ")", ""}};
  if (plan_only_) return;
  const io::Bounds b = io::zones_bounds(in.vector->zones->vector(), io::epsg_wkt(4326));
  bbox_ = {std::min(b.min_x, b.max_x), std::min(b.min_y, b.max_y), std::max(b.min_x, b.max_x), std::max(b.min_y, b.max_y)};
  const io::ResultTable& t = in.vector->table;
  if (format == "json") {
    json rows = json::array();
    for (std::size_t r = 0; r < t.rows.size(); ++r) {
      json row = {{"id", t.ids[r]}};
      for (std::size_t c = 0; c < t.columns.size(); ++c) row[t.columns[c]] = std::isfinite(t.rows[r][c]) ? json(t.rows[r][c]) : json();
      for (std::size_t c = 0; c < t.text_columns.size() && r < t.text_rows.size(); ++c) row[t.text_columns[c]] = t.text_rows[r][c];
      rows.push_back(row);
    }
    std::ofstream(path) << json_text(rows);
  } else {
    io::write_table(t, path, in.vector->zones->vector());
  }
}

Cube Evaluator::reduce_dimension(const std::string& node, const json& args) {
  const Cube& in = cube_arg(node, args, "data");
  const std::string dim = arg(node, args, "dimension").is_string() ? args["dimension"].get<std::string>() : "";
  if (dim == "bands") return reduce_bands(node, in, arg(node, args, "reducer"));
  if (dim != "t" && dim != "time") fail_node(node, "DimensionNotAvailable", fmt::format("dimension '{}': the cube's dimensions are x, y, t and bands", dim));
  require_time(node, in);
  const cube::SeriesOp op = reducer_of(node, arg(node, args, "reducer"));
  Cube out = materialized(in);
  out.slices = {reduce_steps(out, out.slices, op, in.slices.empty() ? "" : in.slices.front().date, saved_as_gtiff(node))};
  out.time_reduced = true;
  return out;
}

std::vector<std::string> gtiff_options(const std::string& node, const json& options);

namespace {
std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool refers_to(const json& v, const std::string& node) {
  if (v.is_object()) {
    if (v.contains("from_node") && v["from_node"] == node) return true;
    for (const auto& [k, x] : v.items()) {
      if (k != "process_graph" && refers_to(x, node)) return true;  // a callback's own nodes are its own
    }
  } else if (v.is_array()) {
    for (const auto& x : v) {
      if (refers_to(x, node)) return true;
    }
  }
  return false;
}
}  // namespace

// The GTiff options of the save_result that alone takes `node`'s cube, when it saves it as GTiff:
// `node` then writes its file as that result (save_result links it, no second pass); else none.
std::optional<std::vector<std::string>> Evaluator::saved_as_gtiff(const std::string& node) const {
  std::string user;
  for (const auto& [id, n] : graph_.items()) {
    if (!refers_to(n.value("arguments", json::object()), node)) continue;
    if (!user.empty()) return std::nullopt;
    user = id;
  }
  if (user.empty() || graph_[user].value("process_id", "") != "save_result") return std::nullopt;
  const json args = graph_[user].value("arguments", json::object());
  const std::string format = args.contains("format") && args["format"].is_string() ? args["format"].get<std::string>() : "";
  if (lowercase(format) != "gtiff") return std::nullopt;
  try {
    return gtiff_options(user, args.value("options", json::object()));
  } catch (const core::Error&) {
    return std::nullopt;  // save_result reports its own bad options
  }
}

// The steps reduced per pixel by a cube reducer, band by band, into one time step dated `date`.
Slice Evaluator::reduce_steps(const Cube& in, const std::vector<Slice>& steps_in, const cube::SeriesOp& op, const std::string& date,
                              const std::optional<std::vector<std::string>>& cog) {
  Slice result{date, "", "", {}};
  for (const auto& name : in.band_names) {
    std::vector<io::PipelineInput> steps;
    for (const auto& s : steps_in) {
      for (const auto& [n, b] : s.bands) {
        if (n == name) steps.push_back(input_of(b.path, b.number));
      }
    }
    io::OutputSpec spec;
    spec.path = file(name + "-" + op.name + ".tif");
    spec.type = core::DataType::kFloat32;
    spec.nodata = std::nan("");
    spec.format = io::OutputFormat::kGTiff;
    if (cog && in.band_names.size() == 1) {  // written as save_result would write it
      spec.format = io::OutputFormat::kCog;
      spec.creation_options = *cog;
      spec.band_description = name;
      if (!plan_only_) cog_files_[spec.path] = *cog;
    }
    account(run::ops::pipeline_estimate(in.grid, opts_.threads, steps.size(), 4, false));
    result.bands.emplace_back(name, Band{spec.path, 1});
    if (plan_only_) continue;
    io::PipelineOptions options;
    options.threads = opts_.threads;
    options.cancel = opts_.cancel;
    const std::size_t n = steps.size();
    io::run_block_pipeline(steps, spec, [&] { return std::make_unique<run::SeriesWorker>(op, std::vector<double>(n, 0.0)); }, options);
  }
  return result;
}

// The ISO 8601 week of a date ("2022-W22") and its Monday: weeks begin on Monday, and week 1 of a
// year is the one holding its first Thursday (so 1-3 January may belong to the previous year's last).
std::pair<std::string, std::string> iso_week(int y, int m, int d) {
  const auto day_number = [](int yy, int mm, int dd) {
    return static_cast<long>(std::floor(cube::days_from_epoch(cube::DateTime{yy, mm, dd}, cube::Calendar::kStandard)));
  };
  const long n = day_number(y, m, d);
  const long weekday = ((n - day_number(2000, 1, 3)) % 7 + 7) % 7;  // 0 = Monday (3 January 2000 was one)
  const long monday = n - weekday, thursday = monday + 3;
  int year = y;  // the ISO year is the year of the week's Thursday
  if (thursday < day_number(y, 1, 1)) year = y - 1;
  if (thursday >= day_number(y + 1, 1, 1)) year = y + 1;
  const long week = (thursday - day_number(year, 1, 1)) / 7 + 1;
  cube::DateTime start = cube::date_from_days(static_cast<double>(monday), cube::Calendar::kStandard);
  return {fmt::format("{:04}-W{:02}", year, week), fmt::format("{:04}-{:02}-{:02}T00:00:00Z", start.year, start.month, start.day)};
}

// The period of an RFC 3339 date as openEO names it, and the date it begins (the step's new date).
std::pair<std::string, std::string> period_of(const std::string& node, const std::string& period, const std::string& date) {
  int y = 0, m = 0, d = 0;
  if (std::sscanf(date.c_str(), "%d-%d-%d", &y, &m, &d) != 3) fail_node(node, "ProcessArgumentInvalid", fmt::format("time step '{}' has no date", date));
  auto iso = [](int yy, int mm, int dd) { return fmt::format("{:04}-{:02}-{:02}T00:00:00Z", yy, mm, dd); };
  if (period == "day") return {fmt::format("{:04}-{:02}-{:02}", y, m, d), iso(y, m, d)};
  if (period == "dekad") {
    const int k = d <= 10 ? 0 : d <= 20 ? 1 : 2;
    return {fmt::format("{:04}-{:02}", y, (m - 1) * 3 + k + 1), iso(y, m, 1 + 10 * k)};
  }
  if (period == "week") return iso_week(y, m, d);
  if (period == "month") return {fmt::format("{:04}-{:02}", y, m), iso(y, m, 1)};
  if (period == "season") {  // djf (December counts with the next year's), mam, jja, son
    static const char* kNames[] = {"djf", "mam", "jja", "son"};
    const int s = (m % 12) / 3;
    const int year = m == 12 ? y + 1 : y;
    return {fmt::format("{:04}-{}", year, kNames[s]), s == 0 ? iso(year - 1, 12, 1) : iso(y, s * 3, 1)};
  }
  if (period == "year") return {fmt::format("{:04}", y), iso(y, 1, 1)};
  if (period == "decade") return {fmt::format("{:04}", y - y % 10), iso(y - y % 10, 1, 1)};
  if (period == "decade-ad") return {fmt::format("{:04}", y - (y + 9) % 10), iso(y - (y + 9) % 10, 1, 1)};
  fail_node(node, "ProcessArgumentInvalid", fmt::format("period '{}' (this back-end groups by day, week, dekad, month, season, year, decade, decade-ad)", period));
}

// aggregate_temporal_period: the time steps grouped by calendar period, each group reduced.
Cube Evaluator::aggregate_temporal_period(const std::string& node, const json& args) {
  const Cube in = materialized(cube_arg(node, args, "data"));
  require_time(node, in);
  const std::string period = arg(node, args, "period").is_string() ? args["period"].get<std::string>() : "";
  const cube::SeriesOp op = reducer_of(node, arg(node, args, "reducer"));
  std::vector<std::pair<std::string, std::pair<std::string, std::vector<Slice>>>> groups;  // label -> (start, steps), in time order
  for (const auto& sl : in.slices) {
    const auto [label, start] = period_of(node, period, sl.date);
    if (groups.empty() || groups.back().first != label) groups.push_back({label, {start, {}}});
    groups.back().second.second.push_back(sl);
  }
  Cube out = in;
  out.slices.clear();
  for (const auto& [label, group] : groups) out.slices.push_back(reduce_steps(in, group.second, op, group.first));
  return out;
}

// resample_spatial: the cube warped to another CRS (EPSG code or WKT) and / or cell size, by GDAL's
// warper through VRTs (nothing copied until a later process reads it).
Cube Evaluator::resample_spatial(const std::string& node, const json& args) {
  const Cube in = materialized(cube_arg(node, args, "data"));
  const json resolution = args.value("resolution", json(0));
  const json projection = args.value("projection", json());
  const std::string method = args.value("method", json("near")).is_string() ? args["method"].get<std::string>() : "";
  if (!resolution.is_number() || resolution.get<double>() < 0) {
    fail_node(node, "ProcessArgumentInvalid", "resolution: one number of the target CRS's units (0: kept); separate x and y resolutions are not supported");
  }
  try {
    io::check_resampling(method);
  } catch (const core::Error& e) {
    fail_node(node, "ProcessArgumentInvalid", e.what());
  }
  std::string wkt;
  if (projection.is_number_integer()) wkt = io::crs_wkt_of(fmt::format("EPSG:{}", projection.get<int>()));
  else if (projection.is_string()) wkt = io::crs_wkt_of(projection.get<std::string>());
  else if (!projection.is_null()) fail_node(node, "ProcessArgumentInvalid", "projection: an EPSG code, a WKT string or null");
  return on_grid(in, io::resampled_grid(in.grid, wkt, resolution.get<double>()), method);
}

// The cube's files seen on `grid` through VRTs (a window when aligned, else GDAL's warp with
// `method`), one per distinct file; lazy band math stays lazy, over its leaves' VRTs (cut with "near"
// only: a warp of an expression is not the expression of warps, so resample_spatial materializes first).
Cube Evaluator::on_grid(const Cube& in, const core::Grid& grid, const std::string& method) {
  Cube out = in;
  out.grid = grid;
  std::map<std::string, std::string> vrts;  // file -> its VRT on the grid
  auto retarget = [&](std::string& path) {
    auto it = vrts.find(path);
    if (it == vrts.end()) {
      const std::string vrt = file("on-grid.vrt");
      if (!plan_only_) io::write_aligned_vrt(path, in.grid, grid, method, vrt);
      it = vrts.emplace(path, vrt).first;
    }
    path = it->second;
  };
  for (auto& sl : out.slices) {
    for (auto& [name, band] : sl.bands) {
      if (!band.lazy()) retarget(band.path);
      for (auto& l : band.leaves) retarget(l.path);
    }
  }
  return out;
}

// save_result: GTiff (a cloud-optimised GeoTIFF per time step, one band per cube band), netCDF (one
// CF file with the time axis), and for vector cubes GeoJSON, CSV or JSON.
Cube Evaluator::save_result(const std::string& node, const json& args) {
  const Cube& in = cube_arg(node, args, "data");
  cog_options_ = gtiff_options(node, args.value("options", json::object()));
  save_cube(node, in, arg(node, args, "format").is_string() ? args["format"].get<std::string>() : "");
  return in;
}

// save_result's GTiff options as COG creation options: COMPRESS (DEFLATE, ZSTD, LZW, NONE), LEVEL,
// OVERVIEWS (AUTO, NONE), BLOCKSIZE; anything else refused naming it.
std::vector<std::string> gtiff_options(const std::string& node, const json& options) {
  if (!options.is_object()) fail_node(node, "ProcessArgumentInvalid", "options: an object");
  static const std::map<std::string, std::set<std::string>> kAllowed = {
      {"COMPRESS", {"DEFLATE", "ZSTD", "LZW", "NONE"}}, {"OVERVIEWS", {"AUTO", "NONE"}}, {"LEVEL", {}}, {"BLOCKSIZE", {}}};
  std::vector<std::string> out;
  for (const auto& [key, value] : options.items()) {
    std::string k = key;
    std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    const auto it = kAllowed.find(k);
    const std::string v = value.is_string() ? value.get<std::string>() : value.is_number_integer() ? std::to_string(value.get<long long>()) : "";
    if (it == kAllowed.end() || v.empty() || (!it->second.empty() && !it->second.count(v)) ||
        (it->second.empty() && v.find_first_not_of("0123456789") != std::string::npos)) {
      fail_node(node, "FormatArgumentInvalid", fmt::format("GTiff option {}={} (options: COMPRESS DEFLATE|ZSTD|LZW|NONE, LEVEL n, OVERVIEWS AUTO|NONE, BLOCKSIZE n)", key, value.dump()));
    }
    out.push_back(k + "=" + v);
  }
  return out;
}

void Evaluator::save_cube(const std::string& node, const Cube& in, const std::string& format) {
  const std::string lower = lowercase(format);
  if (in.vector) return save_vector(node, in, lower);
  if (lower != "gtiff" && lower != "netcdf") fail_node(node, "FormatUnsupported", fmt::format("format '{}': a raster cube is saved as GTiff or netCDF (GET /file_formats)", format));
  if (in.slices.empty()) fail_node(node, "NoDataForUpdate", "the cube has no time step");
  std::vector<ResultFile> files;
  if (lower == "netcdf") {
    std::vector<std::string> dates;
    std::vector<std::vector<io::CubeBand>> slices;
    for (const auto& sl : materialized(in).slices) {
      if (!in.time_reduced) dates.push_back(sl.date);
      slices.emplace_back();
      for (const auto& [name, band] : sl.bands) slices.back().push_back({name, band.path, band.number});
    }
    const std::string path = file("result.nc");
    account(run::ops::pipeline_estimate(in.grid, 1, in.band_names.size() * in.slices.size(), 4, true));
    // A cube without bands is one variable named "var", as other openEO back-ends write it (and the
    // openEO test suite reads it).
    const std::vector<std::string> names = in.bands_reduced && in.band_names.size() == 1 ? std::vector<std::string>{"var"} : in.band_names;
    if (!plan_only_) io::write_netcdf_cube(in.grid, names, dates, slices, path, opts_.cancel);
    files.push_back({path, "application/x-netcdf", "result (netCDF, CF-1.8)", ""});
  } else {
    if (opts_.single_file && in.slices.size() != 1) {
      const std::string why = fmt::format("a GTiff holds one time step and the cube has {}: reduce the t dimension, save as netCDF, "
                                          "or submit a batch job (one GeoTIFF per time step)", in.slices.size());
      // Planning says so after the limits: a cube too large to compute at all is told that first.
      if (!plan_only_) fail_node(node, "DataCubeTooLarge", why);
      estimate_.single_file_error = fmt::format("DataCubeTooLarge: node '{}': {}", node, why);
    }
    for (const auto& sl : in.slices) {
      const std::string day = sl.date.substr(0, 10);
      const std::string path = file(in.slices.size() == 1 ? "result.tif" : "result-" + day + ".tif");
      if (sl.bands.size() == 1) {
        // One pass, straight to sco's COG writer (a band already in a file: copied through the pipeline,
        // or linked when it was written as this result).
        const Band& b = sl.bands[0].second;
        const auto written = b.lazy() ? cog_files_.end() : cog_files_.find(b.path);
        if (written != cog_files_.end() && written->second == cog_options_ && b.number == 1) {
          fs::create_hard_link(b.path, path);
        } else {
          materialize(in, b.lazy() ? b : compose({{"x", b}}, input_expr("x")), sl.bands[0].first, path, io::OutputFormat::kCog);
        }
      } else {
        std::vector<io::CubeBand> bands;
        for (const auto& [name, band] : sl.bands) {
          const Band b = materialize(in, band, name);
          bands.push_back({name, b.path, b.number});
        }
        account(run::ops::pipeline_estimate(in.grid, opts_.threads, bands.size(), 4, true));
        if (!plan_only_) io::write_band_stack(bands, path, opts_.threads, opts_.cancel, cog_options_);
      }
      files.push_back({path, "image/tiff; application=geotiff; profile=cloud-optimized", in.slices.size() == 1 ? "result" : "result " + day,
                       in.slices.size() == 1 ? "" : sl.date});
    }
  }
  saved_ = std::move(files);
}

// filter_temporal: the slices whose date lies in [start, end) (null: open), as openEO's intervals.
Cube Evaluator::filter_temporal(const std::string& node, const json& args) {
  const Cube& in = cube_arg(node, args, "data");
  require_time(node, in);
  const json& e = arg(node, args, "extent");
  if (!e.is_array() || e.size() != 2) fail_node(node, "ProcessArgumentInvalid", "extent: [start, end]");
  const std::string start = e[0].is_string() ? e[0].get<std::string>() : "", end = e[1].is_string() ? e[1].get<std::string>() : "";
  Cube out = in;
  out.slices.clear();
  for (const auto& sl : in.slices) {
    if ((start.empty() || sl.date >= start) && (end.empty() || sl.date < end)) out.slices.push_back(sl);
  }
  if (out.slices.empty()) fail_node(node, "NoDataForUpdate", fmt::format("no time step in [{}, {})", start, end));
  return out;
}

// filter_bbox: the cube's grid cut to the box (any EPSG), each band file seen through a VRT on it.
Cube Evaluator::filter_bbox(const std::string& node, const json& args) {
  const Cube& in = cube_arg(node, args, "data");
  const Extent area = extent_of(node, arg(node, args, "extent"));
  Cube out = in;
  if (!io::crop_grid(in.grid, area.in(in.grid.crs_wkt), 0, out.grid)) fail_node(node, "NoDataForUpdate", "the box misses the cube");
  return on_grid(in, out.grid, "near");
}

Cube Evaluator::apply(const std::string& node, const json& args) {
  const Cube& in = cube_arg(node, args, "data");
  const std::string expression = compile_callback(node, arg(node, args, "process"), {});
  Cube out = in;
  for (auto& sl : out.slices) {
    for (auto& [name, band] : sl.bands) band = evaluate_expression({{"x", band}}, expression);
  }
  return out;
}

// reduce_dimension over bands: the reducer compiled to one expression over b1..bN, per time step.
Cube Evaluator::reduce_bands(const std::string& node, const Cube& in, const json& reducer) {
  const std::string expression = compile_callback(node, reducer, {in.band_names, {}});
  Cube out;
  out.grid = in.grid;
  out.band_names = {"value"};
  out.bands_reduced = true;
  for (const auto& sl : in.slices) {
    std::vector<std::pair<std::string, Band>> inputs;
    for (std::size_t k = 0; k < sl.bands.size(); ++k) inputs.emplace_back(callback_band_name(k), sl.bands[k].second);
    out.slices.push_back({sl.date, "", "", {{"value", evaluate_expression(inputs, expression)}}});
  }
  return out;
}

// mask: where the mask is non-zero (true), the value becomes the replacement, or nodata. A mask of one
// band applies to every band; of one time step, to every step.
Cube Evaluator::mask(const std::string& node, const json& args) {
  const Cube& in = cube_arg(node, args, "data");
  const Cube& m = cube_arg(node, args, "mask");
  if (m.band_names.size() != 1 && m.band_names != in.band_names) fail_node(node, "ProcessArgumentInvalid", "the mask must have one band, or the data's bands");
  if (m.slices.size() != 1 && m.slices.size() != in.slices.size()) fail_node(node, "ProcessArgumentInvalid", "the mask must have one time step, or the data's");
  if (!m.grid.same_geometry(in.grid)) fail_node(node, "ProcessArgumentInvalid", "the mask's grid differs from the data's: " + m.grid.describe() + " vs " + in.grid.describe());
  const json replacement = args.value("replacement", json());
  if (!replacement.is_null() && !replacement.is_number()) fail_node(node, "ProcessArgumentInvalid", "replacement: a number or null");
  // 0 / 0 is nodata in sco's evaluator: the masked cells become missing.
  const std::string expression = fmt::format("where(m != 0, {}, x)", replacement.is_number() ? fmt::format("({})", replacement.get<double>()) : "(0 / 0)");
  Cube out = in;
  for (std::size_t t = 0; t < out.slices.size(); ++t) {
    const Slice& ms = m.slices[m.slices.size() == 1 ? 0 : t];
    for (std::size_t k = 0; k < out.slices[t].bands.size(); ++k) {
      const Band mb = ms.bands[ms.bands.size() == 1 ? 0 : k].second;
      auto& band = out.slices[t].bands[k];
      band.second = evaluate_expression({{"x", band.second}, {"m", mb}}, expression);
    }
  }
  return out;
}

// sco_ID: a built-in indicator run by the run library exactly as `sco run` runs it, its inputs the
// catalog items of the cubes given, its districts the geometries; the result the run's first district
// table as a vector cube. Nothing is registered in the catalog (the openEO result is the answer).
Cube Evaluator::indicator(const std::string& node, const indicators::Recipe& recipe, const json& args) {
  json body = {{"recipe", recipe.id}, {"inputs", json::object()}, {"parameters", json::object()}};
  for (const auto& in : recipe.inputs) {
    const Cube& c = cube_arg(node, args, in.name);
    json refs = json::array();
    for (const auto& sl : c.slices) {
      if (sl.item.empty()) fail_node(node, "ProcessArgumentInvalid", fmt::format("'{}' must be a cube loaded from a collection (load_collection, filters)", in.name));
      refs.push_back({{"collection", sl.collection}, {"item", sl.item}});
    }
    body["inputs"][in.name] = refs;
  }
  body["aoi"] = {{"geojson", feature_collection(node, arg(node, args, "geometries"))}};
  if (args.contains("id_field") && args["id_field"].is_string()) body["id_field"] = args["id_field"];
  for (const auto& p : recipe.parameters) {
    if (args.contains(p.name) && !args[p.name].is_null()) body["parameters"][p.name] = args[p.name];
  }
  run::RunRequest req;
  try {
    req = RunService(opts_.catalog_dir).request(body, caller_);
  } catch (const core::Error& e) {
    fail_node(node, "ProcessArgumentInvalid", e.what());
  }
  req.out = file("run");
  req.catalog_dir.clear();
  req.threads = opts_.threads;
  run::RunPlan plan = run::plan_run(std::move(req));
  step_peak_ = std::max(step_peak_, plan.peak_memory > run::kProcessBaseBytes ? plan.peak_memory - run::kProcessBaseBytes : 0);
  Cube out;
  out.vector = VectorPart{};  // planning: no rows (save_result writes nothing then)
  if (plan_only_) return out;
  run::RunCallbacks callbacks;
  callbacks.cancel = opts_.cancel;
  const run::RunResult r = run::execute_run(std::move(plan), callbacks);
  out.vector->zones = r.zones;  // the districts the run read, not read again
  for (const auto& o : r.outputs) {  // the run's report goes with the results (a batch job's assets)
    if (o.kind == "report") extra_files_.push_back({o.path, "text/html", "report: " + recipe.title, ""});
  }
  for (const auto& o : r.outputs) {  // the first district table among the run's outputs
    if (o.kind == "table" && r.tables.count(o.step)) {
      out.vector->table = r.tables.at(o.step);
      return out;
    }
  }
  fail_node(node, "ProcessUnsupported", fmt::format("indicator '{}' makes no district table", recipe.id));
  return out;
}

}  // namespace evaluation

using evaluation::Evaluator;

GraphEstimate plan_process_graph(const json& graph, const catalog::CatalogStore& store, const Caller& caller, const GraphOptions& options) {
  return Evaluator(graph, store, caller, "", options, true).run().estimate;
}

GraphResult run_process_graph(const json& graph, const catalog::CatalogStore& store, const Caller& caller, const std::string& work_dir,
                              const GraphOptions& options) {
  fs::create_directories(work_dir);
  return Evaluator(graph, store, caller, work_dir, options, false).run();
}

std::string process_graph_key(const std::string& owner, const std::string& id) { return owner + "/" + id; }

std::function<std::optional<json>(const std::string&)> stored_processes(const catalog::CatalogStore& store, const std::string& owner) {
  return [&store, owner](const std::string& id) { return store.record("process_graph", process_graph_key(owner, id)); };
}

json GraphEstimate::to_json() const {
  return {{"cells", cells}, {"bytes_read", bytes_read}, {"bytes_written", bytes_written}, {"peak_memory_bytes", peak_memory},
          {"seconds", std::round(seconds * 1000) / 1000}, {"nodes", nodes}};
}

std::pair<std::string, std::string> openeo_code_of(const std::string& message) {
  const auto colon = message.find(": ");
  if (colon != std::string::npos && colon < 40 && message.find(' ') == colon + 1 && std::isupper(static_cast<unsigned char>(message[0]))) {
    return {message.substr(0, colon), message.substr(colon + 2)};
  }
  return {"ProcessGraphInvalid", message};
}

// The bands of an item: its "data" asset's (named by eo:bands, else b1..bN), or, for items stored
// band by band (a Sentinel-2 acquisition), each single-band GeoTIFF asset, named by its key (B04),
// with its eo:bands common name.
std::vector<ItemBand> bands_of_item(const json& item) {
  std::vector<ItemBand> out;
  const json& assets = item["assets"];
  if (assets.contains("data")) {
    const json& a = assets["data"];
    const std::string path = a.value("sco:gdal_name", a.value("href", ""));
    const json eo = a.value("eo:bands", json::array());
    const int n = static_cast<int>(a.value("raster:bands", json::array()).size());
    for (int k = 1; k <= std::max(n, static_cast<int>(eo.size())); ++k) {
      const bool named = k <= static_cast<int>(eo.size());
      out.push_back({named ? eo[k - 1].value("name", fmt::format("b{}", k)) : fmt::format("b{}", k),
                     named ? eo[k - 1].value("common_name", "") : "", path, k});
    }
    return out;
  }
  for (auto a = assets.begin(); a != assets.end(); ++a) {
    if (a->value("type", "").rfind("image/tiff", 0) != 0 || a->value("raster:bands", json::array()).size() != 1) continue;
    const json eo = a->value("eo:bands", json::array());
    out.push_back({a.key(), eo.size() == 1 ? eo[0].value("common_name", "") : "", a->value("href", ""), 1});
  }
  return out;
}

}  // namespace sco::server
