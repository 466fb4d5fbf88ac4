#pragma once
// The evaluator of openEO process graphs (openeo_graph.hpp), shared by the files that implement its
// processes: openeo_graph.cpp (loading, band math, reducers, saving) and openeo_dimensions.cpp (the
// processes that change a cube's dimensions and labels, merge cubes and filter by kernels). Internal to
// sco_server.
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "algebra/expression.hpp"
#include "core/error.hpp"
#include "core/grid.hpp"
#include "cube/series_op.hpp"
#include "indicators/recipe.hpp"
#include "io/block_pipeline.hpp"
#include "io/table_writer.hpp"
#include "run/ops/estimate.hpp"
#include "run/run.hpp"
#include "run/zonal_table.hpp"
#include "server/openeo_graph.hpp"

namespace sco::server::evaluation {

using core::ErrorCode;
using nlohmann::json;
namespace fs = std::filesystem;

// A band of a slice: a file (a VRT on the cube's grid, or a result) and its band number; or a band
// not computed yet: band math (an expression tree of sco's language) over file bands (`leaves`,
// inputs v0, v1, ...), composed with the band math that follows and computed in one pass when a
// process needs its pixels (fusion: no intermediate file between ndvi, apply, mask and save_result).
struct Leaf {
  std::string name;  // its input in the expression
  std::string path;
  int number = 1;
};

struct Band {
  std::string path;
  int number = 1;
  std::optional<algebra::Expr> expr = std::nullopt;
  std::vector<Leaf> leaves = {};
  bool lazy() const { return expr.has_value(); }
};

// Every input of `e` replaced by `replace(name)` (the replacements are not visited again).
void substitute(algebra::Expr& e, const std::function<algebra::Expr(const std::string&)>& replace);
algebra::Expr input_expr(const std::string& name);
// `expression` over named inputs as one lazy band over file leaves: lazy inputs' trees are
// substituted for their names, every leaf file band named once.
Band compose(const std::vector<std::pair<std::string, Band>>& inputs, const algebra::Expr& expression);

struct Slice {
  std::string date;                  // RFC 3339
  std::string collection, item;      // the catalog item it was loaded from (empty once computed)
  std::vector<std::pair<std::string, Band>> bands;  // in the cube's band order
};

// A vector cube (aggregate_spatial's result): one row per geometry, a column per time step and band.
struct VectorPart {
  std::shared_ptr<run::ZoneSet> zones;
  io::ResultTable table;
};

struct Cube {
  std::optional<VectorPart> vector;
  core::Grid grid;
  std::vector<Slice> slices;
  std::vector<std::string> band_names;
  std::map<std::string, std::string> common_names;  // band name -> eo:bands common_name (red, nir, ...)
  bool bands_reduced = false;  // the bands dimension was reduced away: one value per cell and date
  bool time_reduced = false;   // the t dimension was reduced or dropped: one slice, no time axis
  std::optional<json> array;   // a node whose value is an array, not a cube (dimension_labels)
};

// A reducer callback as one of sco's cube reducers (mean, min, max, median, sum, count, sd, variance).
cube::SeriesOp reducer_of(const std::string& node, const json& reducer);
// Fails with DimensionNotAvailable when the cube has no t dimension any more.
void require_time(const std::string& node, const Cube& c);

// Fails with the openEO error `code`, naming the node.
[[noreturn]] void fail_node(const std::string& node, const std::string& code, const std::string& why);


// The rate at which this node reads, warps and computes a band's cells per thread (float32 through
// VRT windows), measured by bench/openeo on this machine; estimates of seconds divide by it.
constexpr double kReadBytesPerSecond = 150e6;
// The built-in indicator a process id names ("sco_heat_trend": heat.trend), or null.
const indicators::Recipe* indicator_of(const std::string& process);


class Evaluator {
 public:
  Evaluator(const json& graph, const catalog::CatalogStore& store, const Caller& caller, std::string work, const GraphOptions& options,
            bool plan_only)
      : graph_(graph), store_(store), caller_(caller), work_(std::move(work)), opts_(options), plan_only_(plan_only) {}

  GraphResult run() {
    const std::string result_node = result_of(graph_, "the process graph");
    const Cube& value = evaluate(result_node);
    if (value.array) {
      save_array(*value.array);  // a graph whose result is an array (dimension_labels): JSON
    } else if (!saved_) {
      save_cube(result_node, value, value.vector ? "geojson" : "gtiff");  // openEO leaves the default format to the back-end
    }
    GraphResult r;
    r.files = *saved_;
    r.files.insert(r.files.end(), extra_files_.begin(), extra_files_.end());
    r.inputs = inputs_;
    r.bbox = bbox_;
    r.estimate = estimate_;
    r.estimate.peak_memory = run::kProcessBaseBytes + (64ull << 20) + step_peak_;
    r.estimate.seconds = static_cast<double>(estimate_.bytes_read + estimate_.bytes_written) / (kReadBytesPerSecond * std::max(1, opts_.threads));
    return r;
  }

 private:
  // The node with "result": true of a (sub)graph, checking every node has a process_id.
  static std::string result_of(const json& graph, const std::string& what) {
    if (!graph.is_object() || graph.empty()) core::fail(ErrorCode::kInvalidInput, "ProcessGraphMissing: {} is empty", what);
    std::string result_node;
    for (const auto& [id, node] : graph.items()) {
      if (!node.is_object() || !node.contains("process_id") || !node["process_id"].is_string()) fail_node(id, "ProcessGraphInvalid", "no process_id");
      if (node.value("result", false)) {
        if (!result_node.empty()) fail_node(id, "ProcessGraphInvalid", "a second result node (the first: '" + result_node + "')");
        result_node = id;
      }
    }
    if (result_node.empty()) core::fail(ErrorCode::kInvalidInput, "ProcessGraphInvalid: no node of {} has \"result\": true", what);
    return result_node;
  }

  using Process = Cube (Evaluator::*)(const std::string&, const json&);
  static const std::map<std::string, Process>& processes();

  // The value of a node, each node evaluated once; cycles refused.
  const Cube& evaluate(const std::string& id) {
    if (auto it = done_.find(id); it != done_.end()) return it->second;
    if (!graph_.contains(id)) core::fail(ErrorCode::kInvalidInput, "ProcessGraphInvalid: a reference to the unknown node '{}'", id);
    if (!active_.insert(id).second) fail_node(id, "ProcessGraphInvalid", "the graph has a cycle through it");
    core::throw_if_cancelled(opts_.cancel);
    const json& node = graph_[id];
    const std::string process = node["process_id"].get<std::string>();
    const json args = node.value("arguments", json::object());
    const auto t0 = std::chrono::steady_clock::now();
    Cube value;
    if (const auto it = processes().find(process); it != processes().end()) {
      value = (this->*(it->second))(id, args);
    } else if (const indicators::Recipe* recipe = indicator_of(process)) {
      value = indicator(id, *recipe, args);
    } else {
      value = user_defined(id, process, args);
    }
    ++estimate_.nodes;
    if (opts_.on_node && !plan_only_) opts_.on_node(id, process, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    active_.erase(id);
    return done_.emplace(id, std::move(value)).first->second;
  }

  // A process the caller stored (PUT /process_graphs/{id}): its graph evaluated with its parameters
  // bound to this node's arguments, in a folder of this graph's work folder, adding to its estimate.
  Cube user_defined(const std::string& id, const std::string& process, const json& args) {
    const auto udp = opts_.user_process ? opts_.user_process(process) : std::nullopt;
    if (!udp) fail_node(id, "ProcessUnsupported", fmt::format("process '{}' is not offered by this back-end (GET /processes, GET /process_graphs)", process));
    if (++depth_ > 16) fail_node(id, "ProcessGraphInvalid", "user-defined processes nest more than 16 deep (or call themselves)");
    const std::string folder = (fs::path(work_) / fmt::format("{}-{}", counter_++, process)).string();
    if (!plan_only_) fs::create_directories(folder);
    Evaluator inner((*udp)["process_graph"], store_, caller_, folder, opts_, plan_only_);
    inner.depth_ = depth_;
    for (const json& p : udp->value("parameters", json::array())) {
      const std::string name = p.value("name", "");
      if (args.contains(name)) {
        inner.parameters_[name] = resolve(id, args[name]);
      } else if (p.contains("default")) {
        inner.parameters_[name] = p["default"];
      } else if (!p.value("optional", false)) {
        fail_node(id, "ProcessArgumentRequired", fmt::format("argument '{}' of '{}' is missing", name, process));
      }
    }
    inner.cubes_ = cubes_;
    inner.direct_ = direct_;
    const Cube value = inner.evaluate(result_of(inner.graph_, "process '" + process + "'"));
    for (const auto& [k, c] : inner.cubes_) cubes_.emplace(k, c);
    estimate_.bytes_read += inner.estimate_.bytes_read;
    estimate_.bytes_written += inner.estimate_.bytes_written;
    estimate_.cells = std::max(estimate_.cells, inner.estimate_.cells);
    step_peak_ = std::max(step_peak_, inner.step_peak_);
    inputs_.insert(inputs_.end(), inner.inputs_.begin(), inner.inputs_.end());
    extra_files_.insert(extra_files_.end(), inner.extra_files_.begin(), inner.extra_files_.end());
    --depth_;
    return value;
  }

  // An argument with its references resolved: a cube from another node becomes {"sco:cube": KEY},
  // a parameter of a user-defined process its value; anything else as it is.
  json resolve(const std::string& node, const json& v) {
    if (v.is_object() && v.contains("from_node") && v["from_node"].is_string()) {
      const std::string key = fmt::format("{}#{}", depth_, v["from_node"].get<std::string>());
      cubes_.emplace(key, evaluate(v["from_node"].get<std::string>()));
      return {{"sco:cube", key}};
    }
    if (v.is_object() && v.contains("from_parameter") && v["from_parameter"].is_string()) {
      const auto it = parameters_.find(v["from_parameter"].get<std::string>());
      if (it == parameters_.end()) fail_node(node, "ProcessParameterMissing", fmt::format("no parameter '{}'", v["from_parameter"].get<std::string>()));
      return it->second;
    }
    return v;
  }

  const json& arg(const std::string& node, const json& args, const std::string& name) {
    if (!args.contains(name)) fail_node(node, "ProcessArgumentRequired", fmt::format("argument '{}' is missing", name));
    const json& v = args[name];
    if (v.is_object() && v.contains("from_parameter") && v["from_parameter"].is_string() && !parameters_.empty()) {
      resolved_.push_back(resolve(node, v));  // kept alive: callers hold a reference
      return resolved_.back();
    }
    return v;
  }

  // The value of another node an argument names (a cube, or an array: Cube::array).
  const Cube& node_arg(const std::string& node, const json& args, const std::string& name) {
    const json& v = arg(node, args, name);
    if (v.is_object() && v.contains("sco:cube")) return cubes_.at(v["sco:cube"].get<std::string>());
    if (!v.is_object() || !v.contains("from_node") || !v["from_node"].is_string()) {
      fail_node(node, "ProcessArgumentInvalid", fmt::format("argument '{}' must be a data cube ({{\"from_node\": ...}})", name));
    }
    return evaluate(v["from_node"].get<std::string>());
  }

  const Cube& cube_arg(const std::string& node, const json& args, const std::string& name) {
    const Cube& c = node_arg(node, args, name);
    if (c.array) fail_node(node, "ProcessArgumentInvalid", fmt::format("argument '{}' must be a data cube, not an array", name));
    return c;
  }

  std::string file(const std::string& name) { return (fs::path(work_) / fmt::format("{}-{}", counter_++, name)).string(); }

  // A step's costs: bytes add up, memory is the largest step's (nodes run one after another).
  void account(const run::StepEstimate& e) {
    estimate_.bytes_read += e.bytes_read;
    estimate_.bytes_written += e.bytes_written;
    step_peak_ = std::max(step_peak_, e.peak_bytes);
  }

  Cube load_collection(const std::string& node, const json& args);
  std::string on_cube_grid(const std::string& path, const core::Grid& grid, const std::string& item);
  // A file band as a pipeline input: read straight from the item's file at its window's offset when
  // its VRT is a plain window of that file (no copy through GDAL's VRT), else through the VRT.
  io::PipelineInput input_of(const std::string& path, int number) const {
    io::PipelineInput in;
    in.path = path;
    in.band = number;
    if (const auto it = direct_->find(path); it != direct_->end()) {
      in.source = it->second.source;
      in.source_x = it->second.source_x;
      in.source_y = it->second.source_y;
    }
    return in;
  }
  // openeo_dimensions.cpp
  Cube drop_dimension(const std::string& node, const json& args);
  Cube add_dimension(const std::string& node, const json& args);
  Cube rename_labels(const std::string& node, const json& args);
  Cube merge_cubes(const std::string& node, const json& args);
  Cube aggregate_temporal(const std::string& node, const json& args);
  Cube apply_kernel(const std::string& node, const json& args);
  Cube dimension_labels(const std::string& node, const json& args);
  Cube apply_dimension(const std::string& node, const json& args);
  Cube quantiles_over_time(const std::string& node, const Cube& in, const json& process, const json& target);
  // An argument that is an array, given as it is or as the result of another node (dimension_labels).
  json array_arg(const std::string& node, const json& args, const std::string& name, const json& fallback);

  Cube filter_bands(const std::string& node, const json& args);
  Cube ndvi(const std::string& node, const json& args);
  Cube normalized_difference(const std::string& node, const json& args);
  Cube reduce_dimension(const std::string& node, const json& args);
  Cube save_result(const std::string& node, const json& args);
  Cube aggregate_spatial(const std::string& node, const json& args);
  Cube filter_temporal(const std::string& node, const json& args);
  Cube filter_bbox(const std::string& node, const json& args);
  Cube apply(const std::string& node, const json& args);
  Cube indicator(const std::string& node, const indicators::Recipe& recipe, const json& args);
  Cube mask(const std::string& node, const json& args);
  Cube reduce_bands(const std::string& node, const Cube& in, const json& reducer);
  // `cog`: the options of the save_result that alone takes the result, which it is then written as.
  Slice reduce_steps(const Cube& in, const std::vector<Slice>& steps, const cube::SeriesOp& op, const std::string& date,
                     const std::optional<std::vector<std::string>>& cog = std::nullopt);
  std::optional<std::vector<std::string>> saved_as_gtiff(const std::string& node) const;
  Cube aggregate_temporal_period(const std::string& node, const json& args);
  Cube resample_spatial(const std::string& node, const json& args);
  Cube on_grid(const Cube& in, const core::Grid& grid, const std::string& method);
  void save_cube(const std::string& node, const Cube& in, const std::string& format);
  void save_vector(const std::string& node, const Cube& in, const std::string& format);
  void save_array(const json& array);
  Cube band_math(const std::string& node, const Cube& in, const std::string& a, const std::string& b, const std::string& out_name);
  // A band as a file (computed when lazy), and every band of a cube so.
  Band materialize(const Cube& on, const Band& band, const std::string& name, const std::string& path = "",
                   io::OutputFormat format = io::OutputFormat::kGTiff);
  Cube materialized(const Cube& in);
  // One expression over named bands: a lazy band, computed when needed (materialize).
  Band evaluate_expression(const std::vector<std::pair<std::string, Band>>& inputs, const std::string& expression);
  std::string band_of(const std::string& node, const Cube& c, const std::string& wanted, const std::string& role);

  const json& graph_;
  const catalog::CatalogStore& store_;
  const Caller& caller_;
  std::string work_;
  const GraphOptions& opts_;
  bool plan_only_;
  int counter_ = 0;
  int depth_ = 0;
  std::map<std::string, Cube> done_;
  std::map<std::string, Cube> cubes_;       // "depth#node" -> a cube passed into a user-defined process
  std::map<std::string, json> parameters_;  // a user-defined process's parameters
  std::deque<json> resolved_;
  std::set<std::string> active_;
  std::optional<std::vector<ResultFile>> saved_;
  std::vector<std::string> inputs_;
  GraphEstimate estimate_;
  std::vector<double> bbox_;
  std::vector<std::string> cog_options_;  // save_result's GTiff options
  std::map<std::string, std::vector<std::string>> cog_files_;  // results written as a save_result's COG, with its options
  std::vector<ResultFile> extra_files_;   // files that go with the result (an indicator's report)
  std::uint64_t step_peak_ = 0;
  // load_collection's VRTs that are plain windows of their files (shared with user-defined processes).
  std::shared_ptr<std::map<std::string, io::PipelineInput>> direct_ = std::make_shared<std::map<std::string, io::PipelineInput>>();
};

}  // namespace sco::server::evaluation
