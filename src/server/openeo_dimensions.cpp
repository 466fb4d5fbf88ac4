// openEO processes that change a cube's dimensions or labels (drop_dimension, add_dimension,
// rename_labels), group its time steps by explicit intervals (aggregate_temporal), merge two cubes
// (merge_cubes) and filter it with a kernel (apply_kernel). sco's raster cubes have the dimensions x,
// y, t and bands; t and bands can be absent (reduced or dropped) and added back.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "algebra/convolution.hpp"
#include "io/focal.hpp"
#include "server/openeo_callback.hpp"
#include "server/openeo_evaluator.hpp"

namespace sco::server::evaluation {

namespace {

bool is_time(const std::string& name) { return name == "t" || name == "time"; }

std::string label_text(const std::string& node, const json& v, const char* what) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  if (v.is_number()) return fmt::format("{}", v.get<double>());
  fail_node(node, "ProcessArgumentInvalid", fmt::format("{}: a label is a string or a number, not {}", what, v.dump()));
}

// A label renamed, or kept when `renamed` does not name it.
const std::string& renamed_label(const std::map<std::string, std::string>& renamed, const std::string& label) {
  const auto it = renamed.find(label);
  return it == renamed.end() ? label : it->second;
}

// The cube's bands renamed (slices and common names follow).
void rename_bands(Cube& c, const std::map<std::string, std::string>& renamed) {
  for (auto& name : c.band_names) name = renamed_label(renamed, name);
  for (auto& sl : c.slices) {
    for (auto& [name, band] : sl.bands) name = renamed_label(renamed, name);
  }
  std::map<std::string, std::string> common;
  for (const auto& [name, role] : c.common_names) common[renamed_label(renamed, name)] = role;
  c.common_names = std::move(common);
}

std::vector<std::string> dates_of(const Cube& c) {
  std::vector<std::string> d;
  for (const auto& sl : c.slices) d.push_back(sl.date);
  return d;
}

}  // namespace

// drop_dimension: a dimension of one label removed (t: the cube has no time axis; bands: one value per
// cell, a netCDF variable "var"); a dimension of more labels cannot be dropped.
Cube Evaluator::drop_dimension(const std::string& node, const json& args) {
  Cube out = cube_arg(node, args, "data");
  const std::string name = arg(node, args, "name").is_string() ? args["name"].get<std::string>() : "";
  if (out.vector) fail_node(node, "ProcessUnsupported", "a vector cube's dimensions cannot be dropped");
  if (is_time(name)) {
    require_time(node, out);
    if (out.slices.size() != 1) fail_node(node, "DimensionLabelCountMismatch", fmt::format("t has {} labels; only a dimension of one label can be dropped", out.slices.size()));
    out.time_reduced = true;
  } else if (name == "bands") {
    if (out.bands_reduced) fail_node(node, "DimensionNotAvailable", "the cube has no bands dimension any more");
    if (out.band_names.size() != 1) fail_node(node, "DimensionLabelCountMismatch", fmt::format("bands has {} labels; only a dimension of one label can be dropped", out.band_names.size()));
    out.bands_reduced = true;
  } else if (name == "x" || name == "y") {
    fail_node(node, "DimensionLabelCountMismatch", fmt::format("the spatial dimension '{}' cannot be dropped", name));
  } else {
    fail_node(node, "DimensionNotAvailable", fmt::format("dimension '{}' (the cube's: x, y{}{})", name, out.time_reduced ? "" : ", t", out.bands_reduced ? "" : ", bands"));
  }
  return out;
}

// add_dimension: bands (type "bands") or t (type "temporal") added back with one label to a cube that
// has none; other types are not part of sco's cubes.
Cube Evaluator::add_dimension(const std::string& node, const json& args) {
  Cube out = cube_arg(node, args, "data");
  const std::string name = arg(node, args, "name").is_string() ? args["name"].get<std::string>() : "";
  const std::string label = label_text(node, arg(node, args, "label"), "label");
  const std::string type = args.value("type", json("other")).is_string() ? args.value("type", "other") : "";
  if (out.vector) fail_node(node, "ProcessUnsupported", "add_dimension on a vector cube");
  if (type == "bands" && name == "bands") {
    if (!out.bands_reduced) fail_node(node, "DimensionExists", "the cube has a bands dimension");
    rename_bands(out, {{out.band_names.at(0), label}});
    out.bands_reduced = false;
  } else if (type == "temporal" && is_time(name)) {
    if (!out.time_reduced) fail_node(node, "DimensionExists", "the cube has a t dimension");
    out.slices.at(0).date = label;
    out.time_reduced = false;
  } else {
    fail_node(node, "ProcessUnsupported", fmt::format("dimension '{}' of type '{}': sco's cubes take back 'bands' (type bands) or 't' (type temporal)", name, type));
  }
  return out;
}

// rename_labels: labels of bands or t replaced, source[i] by target[i]; without source, every label in
// order.
Cube Evaluator::rename_labels(const std::string& node, const json& args) {
  Cube out = cube_arg(node, args, "data");
  const std::string dim = arg(node, args, "dimension").is_string() ? args["dimension"].get<std::string>() : "";
  const json target = array_arg(node, args, "target", json());
  const json source = array_arg(node, args, "source", json::array());
  if (!target.is_array() || !(source.is_array() || source.is_null())) fail_node(node, "ProcessArgumentInvalid", "target and source: arrays of labels");
  const bool time = is_time(dim);
  if (!time && dim != "bands") fail_node(node, "DimensionNotAvailable", fmt::format("dimension '{}': labels of t and bands can be renamed", dim));
  if (time) require_time(node, out);
  if (!time && out.bands_reduced) fail_node(node, "DimensionNotAvailable", "the cube has no bands dimension any more");
  const std::vector<std::string> labels = time ? dates_of(out) : out.band_names;
  std::vector<std::string> from, to;
  for (const auto& t : target) to.push_back(label_text(node, t, "target"));
  if (source.is_array() && !source.empty()) {
    for (const auto& s : source) from.push_back(label_text(node, s, "source"));
  } else {
    from = labels;
  }
  if (from.size() != to.size()) fail_node(node, "LabelMismatch", fmt::format("{} source labels for {} target labels", from.size(), to.size()));
  std::map<std::string, std::string> renamed;
  for (std::size_t i = 0; i < from.size(); ++i) {
    if (std::find(labels.begin(), labels.end(), from[i]) == labels.end()) {
      fail_node(node, "LabelNotAvailable", fmt::format("no label '{}' in {} ({})", from[i], dim, fmt::join(labels, ", ")));
    }
    renamed[from[i]] = to[i];
  }
  std::set<std::string> result;
  for (const auto& l : labels) {
    if (!result.insert(renamed_label(renamed, l)).second) fail_node(node, "LabelExists", fmt::format("label '{}' would be in {} twice", renamed_label(renamed, l), dim));
  }
  if (!time) {
    rename_bands(out, renamed);
  } else {
    for (auto& sl : out.slices) sl.date = renamed_label(renamed, sl.date);
  }
  return out;
}

// dimension_labels: the labels of x, y (cell centres), t or bands, as an array (for rename_labels).
Cube Evaluator::dimension_labels(const std::string& node, const json& args) {
  const Cube& in = cube_arg(node, args, "data");
  const std::string dim = arg(node, args, "dimension").is_string() ? args["dimension"].get<std::string>() : "";
  json labels = json::array();
  if (is_time(dim) && !in.time_reduced) {
    for (const auto& d : dates_of(in)) labels.push_back(d);
  } else if (dim == "bands" && !in.bands_reduced) {
    for (const auto& b : in.band_names) labels.push_back(b);
  } else if (dim == "x" || dim == "y") {
    const bool x = dim == "x";
    for (int i = 0; i < (x ? in.grid.width : in.grid.height); ++i) labels.push_back(in.grid.transform[x ? 0 : 3] + (i + 0.5) * in.grid.transform[x ? 1 : 5]);
  } else {
    fail_node(node, "DimensionNotAvailable", fmt::format("dimension '{}' (the cube's: x, y{}{})", dim, in.time_reduced ? "" : ", t", in.bands_reduced ? "" : ", bands"));
  }
  Cube out;
  out.array = std::move(labels);
  return out;
}

void Evaluator::save_array(const json& array) {
  const std::string path = file("result.json");
  saved_ = std::vector<ResultFile>{{path, "application/json", "result (JSON)", ""}};
  if (!plan_only_) std::ofstream(path) << array.dump() << "\n";
}

json Evaluator::array_arg(const std::string& node, const json& args, const std::string& name, const json& fallback) {
  if (!args.contains(name)) {
    if (fallback.is_null()) arg(node, args, name);  // required: fails naming it
    return fallback;
  }
  const json& v = arg(node, args, name);
  if (v.is_object() && (v.contains("from_node") || v.contains("sco:cube"))) {
    const Cube& c = node_arg(node, args, name);
    if (!c.array) fail_node(node, "ProcessArgumentInvalid", fmt::format("{}: an array, not a data cube", name));
    return *c.array;
  }
  return v;
}

// aggregate_temporal: the time steps in each interval [start, end) reduced into one step, labelled by
// `labels` or by the interval's start.
Cube Evaluator::aggregate_temporal(const std::string& node, const json& args) {
  const Cube in = materialized(cube_arg(node, args, "data"));
  require_time(node, in);
  const json& intervals = arg(node, args, "intervals");
  const json labels = args.value("labels", json::array());
  const cube::SeriesOp op = reducer_of(node, arg(node, args, "reducer"));
  if (!intervals.is_array() || intervals.empty()) fail_node(node, "ProcessArgumentInvalid", "intervals: a list of [start, end] intervals");
  if (labels.is_array() && !labels.empty() && labels.size() != intervals.size()) {
    fail_node(node, "DistinctDimensionLabelsRequired", fmt::format("{} labels for {} intervals", labels.size(), intervals.size()));
  }
  Cube out = in;
  out.slices.clear();
  for (std::size_t i = 0; i < intervals.size(); ++i) {
    const json& iv = intervals[i];
    if (!iv.is_array() || iv.size() != 2 || !iv[0].is_string() || !iv[1].is_string()) {
      fail_node(node, "ProcessArgumentInvalid", fmt::format("intervals[{}]: [start, end] as RFC 3339 dates or times", i));
    }
    const std::string start = iv[0].get<std::string>(), end = iv[1].get<std::string>();
    std::vector<Slice> group;
    for (const auto& sl : in.slices) {
      if (sl.date >= start && sl.date < end) group.push_back(sl);
    }
    if (group.empty()) fail_node(node, "NoDataForUpdate", fmt::format("intervals[{}] [{}, {}) holds no time step of the cube", i, start, end));
    const std::string label = labels.is_array() && !labels.empty() ? label_text(node, labels[i], "labels") : start;
    out.slices.push_back(reduce_steps(in, group, op, label));
  }
  return out;
}

// merge_cubes: two raster cubes on one grid. Their bands and time steps are joined; where both hold a
// band at a time step, the overlap resolver (a callback of x and y, compiled to band math) decides.
// Either the bands or the time steps of both must be the same (else some cells would have no value).
Cube Evaluator::merge_cubes(const std::string& node, const json& args) {
  const Cube& a = cube_arg(node, args, "cube1");
  const Cube& b = cube_arg(node, args, "cube2");
  if (a.vector || b.vector) fail_node(node, "ProcessUnsupported", "merge_cubes of vector cubes");
  if (!a.grid.same_geometry(b.grid)) fail_node(node, "ProcessArgumentInvalid", "the cubes' grids differ (resample_spatial one onto the other): " + a.grid.describe() + " vs " + b.grid.describe());
  if (a.time_reduced != b.time_reduced || a.bands_reduced != b.bands_reduced) {
    fail_node(node, "ProcessArgumentInvalid", "one cube has a dimension (t or bands) the other has not");
  }
  const std::vector<std::string> da = dates_of(a), db = dates_of(b);
  if (a.band_names != b.band_names && !(a.time_reduced || da == db)) {
    fail_node(node, "ProcessUnsupported", "merging cubes whose bands and time steps both differ (the bands or the time steps must be the same)");
  }
  std::string expression;
  const json resolver = args.value("overlap_resolver", json());
  if (resolver.is_object()) expression = compile_callback(node, resolver, {{}, {"x", "y"}});
  Cube out = a;
  for (const auto& name : b.band_names) {
    if (std::find(out.band_names.begin(), out.band_names.end(), name) == out.band_names.end()) out.band_names.push_back(name);
  }
  for (const auto& [name, role] : b.common_names) out.common_names.emplace(name, role);
  std::map<std::string, std::map<std::string, Band>> cells;  // date -> band -> value
  for (const Cube* c : {&a, &b}) {
    for (std::size_t t = 0; t < c->slices.size(); ++t) {
      const std::string date = c->time_reduced ? "" : c->slices[t].date;
      for (const auto& [name, band] : c->slices[t].bands) {
        auto [it, fresh] = cells[date].emplace(name, band);
        if (fresh) continue;
        if (expression.empty()) fail_node(node, "OverlapResolverMissing", fmt::format("both cubes hold band '{}' at '{}' and no overlap_resolver is given", name, date));
        it->second = evaluate_expression({{"x", it->second}, {"y", band}}, expression);
      }
    }
  }
  out.slices.clear();
  for (const auto& [date, bands] : cells) {
    Slice sl{a.time_reduced ? a.slices.at(0).date : date, "", "", {}};
    for (const auto& name : out.band_names) sl.bands.emplace_back(name, bands.at(name));
    out.slices.push_back(std::move(sl));
  }
  return out;
}

// apply_dimension over bands: the process, a callback returning an array of the band array (the
// bands, array_create, array_concat, quantiles, sort, order), compiled to one band-math expression per
// value. The labels stay when as many values come out as bands went in, else they are 0, 1, ...
// Over t into bands: a callback of quantiles over the time series of a one-band cube, by the cube
// reducers (one band per probability).
Cube Evaluator::apply_dimension(const std::string& node, const json& args) {
  const Cube& in = cube_arg(node, args, "data");
  const std::string dim = arg(node, args, "dimension").is_string() ? args["dimension"].get<std::string>() : "";
  const json target = args.value("target_dimension", json());
  const json& process = arg(node, args, "process");
  if (in.vector) fail_node(node, "ProcessUnsupported", "apply_dimension on a vector cube");
  if (is_time(dim)) return quantiles_over_time(node, in, process, target);
  if (dim != "bands") fail_node(node, "DimensionNotAvailable", fmt::format("dimension '{}': apply_dimension runs over bands, or over t into bands", dim));
  if (in.bands_reduced) fail_node(node, "DimensionNotAvailable", "the cube has no bands dimension any more");
  if (!target.is_null() && target != "bands") fail_node(node, "ProcessUnsupported", "over bands, the target dimension is bands");
  const std::vector<std::string> expressions = compile_array_callback(node, process, {in.band_names, {}});
  if (expressions.empty()) fail_node(node, "ProcessArgumentInvalid", "the process returns an empty array");
  Cube out = in;
  out.band_names.clear();
  if (expressions.size() == in.band_names.size()) {
    out.band_names = in.band_names;
  } else {
    out.common_names.clear();
    for (std::size_t k = 0; k < expressions.size(); ++k) out.band_names.push_back(std::to_string(k));
  }
  for (auto& sl : out.slices) {
    std::vector<std::pair<std::string, Band>> inputs;
    for (std::size_t k = 0; k < sl.bands.size(); ++k) inputs.emplace_back(callback_band_name(k), sl.bands[k].second);
    sl.bands.clear();
    for (std::size_t k = 0; k < expressions.size(); ++k) sl.bands.emplace_back(out.band_names[k], evaluate_expression(inputs, expressions[k]));
  }
  return out;
}

Cube Evaluator::quantiles_over_time(const std::string& node, const Cube& in, const json& process, const json& target) {
  require_time(node, in);
  const json graph = process.is_object() ? process.value("process_graph", json()) : json();
  const json* q = graph.is_object() && graph.size() == 1 ? &*graph.begin() : nullptr;
  if (!q || q->value("process_id", "") != "quantiles" || target != "bands") {
    fail_node(node, "ProcessUnsupported", "over t, apply_dimension takes a callback of one quantiles node with target_dimension bands");
  }
  if (in.band_names.size() != 1 || in.bands_reduced) {
    fail_node(node, "ProcessArgumentInvalid", fmt::format("the target dimension bands exists with {} labels: values computed over t can replace it only when "
                                                          "it has one (filter_bands or reduce the bands first)", in.band_names.size()));
  }
  const json probs = q->value("arguments", json::object()).value("probabilities", json());
  if (!probs.is_array() || probs.empty()) fail_node(node, "QuantilesParameterMissing", "quantiles over t: probabilities, a list in [0, 1]");
  const Cube m = materialized(in);
  Cube out = m;
  out.band_names.clear();
  out.common_names.clear();
  Slice result{in.slices.front().date, "", "", {}};
  for (std::size_t k = 0; k < probs.size(); ++k) {
    if (!probs[k].is_number() || probs[k].get<double>() < 0 || probs[k].get<double>() > 1) fail_node(node, "ProcessArgumentInvalid", "quantiles: probabilities lie in [0, 1]");
    cube::SeriesOp op = cube::parse_series_op(fmt::format("p{}", probs[k].get<double>() * 100));
    const Slice one = reduce_steps(m, m.slices, op, result.date);
    out.band_names.push_back(std::to_string(k));
    result.bands.emplace_back(out.band_names.back(), one.bands.at(0).second);
  }
  out.slices = {result};
  out.time_reduced = true;
  return out;
}

namespace {
algebra::Kernel2D kernel_of(const std::string& node, const json& args) {
  const json& k = args.at("kernel");
  algebra::Kernel2D kernel;
  if (!k.is_array() || k.empty() || !k[0].is_array() || k[0].empty()) fail_node(node, "ProcessArgumentInvalid", "kernel: a two-dimensional array of numbers");
  kernel.rows = static_cast<int>(k.size());
  kernel.cols = static_cast<int>(k[0].size());
  if (kernel.rows % 2 == 0 || kernel.cols % 2 == 0) fail_node(node, "KernelDimensionsUneven", fmt::format("the kernel is {} x {}; each side must be odd", kernel.rows, kernel.cols));
  if (kernel.rows > 101 || kernel.cols > 101) fail_node(node, "ProcessArgumentInvalid", "the kernel is larger than 101 x 101");
  for (const auto& row : k) {
    if (!row.is_array() || static_cast<int>(row.size()) != kernel.cols) fail_node(node, "ProcessArgumentInvalid", "kernel: every row must have the same length");
    for (const auto& w : row) {
      if (!w.is_number() && !w.is_boolean()) fail_node(node, "ProcessArgumentInvalid", "kernel: the weights are numbers");
      kernel.weights.push_back(w.is_boolean() ? (w.get<bool>() ? 1.0 : 0.0) : w.get<double>());
    }
  }
  const json factor = args.value("factor", json(1));
  const json border = args.value("border", json(0));
  const json invalid = args.value("replace_invalid", json(0));
  if (!factor.is_number() || !invalid.is_number()) fail_node(node, "ProcessArgumentInvalid", "factor and replace_invalid are numbers");
  kernel.factor = factor.get<double>();
  kernel.replace_invalid = invalid.get<double>();
  if (border.is_number()) {
    kernel.border_value = border.get<double>();
  } else if (border.is_string()) {
    try {
      kernel.border = algebra::parse_border_mode(border.get<std::string>());
    } catch (const core::Error& e) {
      fail_node(node, "ProcessArgumentInvalid", e.what());
    }
  } else {
    fail_node(node, "ProcessArgumentInvalid", "border: a number or replicate, reflect, reflect_pixel, wrap");
  }
  return kernel;
}
}  // namespace

// apply_kernel: every band of every time step filtered by the kernel (sco's own kernel over strips of
// rows, io/focal), into float32 files of the work folder.
Cube Evaluator::apply_kernel(const std::string& node, const json& args) {
  const Cube& in = cube_arg(node, args, "data");
  if (in.vector) fail_node(node, "ProcessArgumentInvalid", "apply_kernel needs a raster cube");
  arg(node, args, "kernel");
  const algebra::Kernel2D kernel = kernel_of(node, args);
  Cube out = in;
  for (auto& sl : out.slices) {
    for (auto& [name, band] : sl.bands) {
      const Band source = materialize(in, band, name);
      const std::string path = file(name + "-kernel.tif");
      account(run::ops::pipeline_estimate(in.grid, 1, 1, 4, false));
      if (!plan_only_) io::convolve_band(source.path, source.number, kernel, path, opts_.cancel);
      band = Band{path, 1};
    }
  }
  return out;
}

}  // namespace sco::server::evaluation
