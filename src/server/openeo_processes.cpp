#include "server/openeo_graph.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "indicators/builtin.hpp"

// The metadata of the processes the evaluator (openeo_graph.cpp) runs, as GET /processes serves it.
namespace sco::server {

using nlohmann::json;

namespace {

json param(const std::string& name, const std::string& description, json schema, bool optional = false) {
  json p = {{"name", name}, {"description", description}, {"schema", std::move(schema)}};
  if (optional) p["optional"] = true;
  return p;
}

const json kCube = {{"type", "object"}, {"subtype", "datacube"}};

// A process of the openEO definitions in sco's words: its summary, what it returns, and a description
// for each parameter sco says more about; the interface itself (parameter names, optionality,
// defaults, schemas, return schema, categories) is the standard's (openeo_spec_schemas.inc).
struct Described {
  std::string id, summary, returns;
  std::map<std::string, std::string> parameters;
};

std::vector<Described> described() {
  const std::string reducers = "A process graph of one of mean, min, max, median, sum, count.";
  std::vector<Described> d = {
      {"load_collection", "Load a collection of the node's catalog as a data cube", "A data cube over the extents.",
       {{"id", "The collection's id."}, {"spatial_extent", "The bounding box (west, south, east, north; crs an EPSG code, default 4326)."},
        {"temporal_extent", "[start, end] as RFC 3339 dates or times, null for open ends."}, {"bands", "Band names or common names; all when null."},
        {"properties", "Not used."}}},
      {"filter_bands", "Keep the named bands", "The cube with the bands kept.", {{"data", "A data cube."}, {"bands", "Band names or common names."}}},
      {"ndvi", "Normalized difference vegetation index (nir - red) / (nir + red)", "A cube of one band.",
       {{"data", "A data cube with red and near-infrared bands."}, {"nir", "The NIR band's name or common name."}, {"red", "The red band's name or common name."},
        {"target_band", "The name of the band holding the result."}}},
      {"normalized_difference", "(x - y) / (x + y) of two one-band cubes", "A cube of one band.", {{"x", "The first cube."}, {"y", "The second cube."}}},
      {"reduce_dimension", "Reduce the t dimension (mean, min, max, median, sum, count) or the bands (any callback over the band array)",
       "The cube without the dimension.",
       {{"data", "A data cube."},
        {"reducer", "Over t: " + reducers + " Over bands: a callback of arithmetic, comparisons, logic, if, clip, linear_scale_range, "
                    "normalized_difference, array_element and mean, sum, min, max, compiled to one band-math expression."},
        {"dimension", "t or bands."}, {"context", "Not used."}}},
      {"aggregate_temporal_period", "Group the time steps by calendar period and reduce each group", "A cube with one time step per period, dated at the period's start.",
       {{"data", "A raster data cube."},
        {"period", "day, week (ISO 8601, from Monday), dekad, month, season (djf, mam, jja, son; December with the next year), year, decade (years 0-9) or decade-ad (1-10)."},
        {"reducer", reducers}, {"dimension", "Not supported (t)."}, {"context", "Not used."}}},
      {"resample_spatial", "Warp the cube to another CRS and / or cell size (GDAL's warper)", "The resampled cube.",
       {{"data", "A raster data cube."}, {"resolution", "The cell size in the target CRS's units; 0: kept."}, {"projection", "An EPSG code or a WKT string; null: kept."},
        {"method", "near, bilinear, cubic, cubicspline, lanczos, average, mode, max, min, med, q1, q3, sum."}, {"align", "Only upper-left."}}},
      {"mask", "Replace the values where a mask is true (non-zero) by a replacement, or by nodata", "The masked cube.",
       {{"data", "A raster data cube."},
        {"mask", "A cube on the same grid: one band (for every band) or the data's bands; one time step (for every step) or the data's."},
        {"replacement", "The value masked cells take; null: nodata."}}},
      {"aggregate_spatial", "Statistics of the cube per geometry, with exact cell coverage (cells cut by a boundary weighted by their share inside)",
       "A vector cube: one row per geometry, one column per time step and band.",
       {{"data", "A raster data cube."}, {"geometries", "GeoJSON: a FeatureCollection, Feature or geometry (any CRS it names; WGS 84 by default)."},
        {"reducer", reducers}, {"target_dimension", "Not supported (always null)."}, {"context", "Not used."}}},
      {"filter_temporal", "Keep the time steps in [start, end)", "The cube with fewer time steps.",
       {{"data", "A data cube."}, {"extent", "[start, end], RFC 3339; null for an open end."}, {"dimension", "Not supported (t)."}}},
      {"filter_bbox", "Cut the cube to a bounding box", "The cube over the box.",
       {{"data", "A data cube."}, {"extent", "west, south, east, north (crs: an EPSG code, default 4326)."}}},
      {"apply", "Apply a process to every pixel (compiled to one band-math expression)", "The cube with the values changed.",
       {{"data", "A data cube."},
        {"process", "A callback over the pixel value: arithmetic (add, subtract, multiply, divide, power, absolute, sqrt, exp, ln, log, floor, ceil, "
                    "round, int, clip, linear_scale_range), comparisons, logic and if, compiled to one band-math expression."},
        {"context", "Not used."}}},
      {"save_result", "Save the cube in a file format (GTiff: cloud-optimised GeoTIFFs; netCDF; GeoJSON, CSV, JSON for vector cubes)", "The cube, saved.",
       {{"data", "A data cube."}, {"format", "GTiff, netCDF, GeoJSON, CSV or JSON (GET /file_formats)."},
        {"options", "GTiff: COMPRESS, LEVEL, OVERVIEWS, BLOCKSIZE (GET /file_formats)."}}},
      {"drop_dimension", "Remove a dimension of one label (t or bands)", "The cube without the dimension.",
       {{"data", "A raster data cube."}, {"name", "t or bands; it must have one label."}}},
      {"add_dimension", "Add back a bands or t dimension of one label to a cube that has none", "The cube with the dimension.",
       {{"data", "A raster data cube without that dimension."}, {"name", "bands or t."}, {"label", "Its one label (for t a date)."},
        {"type", "bands or temporal."}}},
      {"rename_labels", "Rename labels of the bands or t dimension", "The cube with the labels renamed.",
       {{"data", "A raster data cube."}, {"dimension", "bands or t."}, {"target", "The new labels."},
        {"source", "The labels to rename, in the order of target; empty: every label, in order."}}},
      {"apply_dimension", "Apply a process to the values along the bands (or over t into bands)", "The cube with the dimension's values replaced.",
       {{"data", "A raster data cube."},
        {"process", "Over bands: a callback returning an array of the band array (the bands, array_create, array_concat, quantiles, sort, "
                    "order, or any band math per value), compiled to one band-math expression per value. Over t: quantiles, with target_dimension bands, "
                    "on a cube of one band."},
        {"dimension", "bands, or t."}, {"target_dimension", "null or bands."}, {"context", "Not used."}}},
      {"dimension_labels", "The labels of a dimension (x, y: cell centres; t; bands) as an array", "The labels.",
       {{"data", "A raster data cube."}, {"dimension", "x, y, t or bands."}}},
      {"merge_cubes", "Join two cubes on one grid: their bands and time steps; where both hold a value, the overlap resolver decides",
       "The merged cube.",
       {{"cube1", "A raster data cube."}, {"cube2", "A raster data cube on the same grid, with the same bands or the same time steps."},
        {"overlap_resolver", "A callback of x (cube1) and y (cube2), compiled to band math; needed where both cubes hold a band at a time step."},
        {"context", "Not used."}}},
      {"aggregate_temporal", "Reduce the time steps of each interval [start, end) into one", "A cube with one time step per interval.",
       {{"data", "A raster data cube."}, {"intervals", "[start, end] pairs of RFC 3339 dates or times; each must hold a time step."},
        {"reducer", "A process graph of one of mean, min, max, median, sum, count, sd, variance."},
        {"labels", "One label per interval; empty: each interval's start."}, {"dimension", "Not supported (t)."}, {"context", "Not used."}}},
      {"apply_kernel", "Filter every band with a 2-D kernel (weights times the cells under them, summed, times factor)", "The filtered cube.",
       {{"data", "A raster data cube."}, {"kernel", "Rows (north to south) of weights (west to east); odd sides, up to 101."},
        {"factor", "Multiplies each sum."}, {"border", "A number (the cells beyond the edge), replicate, reflect, reflect_pixel or wrap."},
        {"replace_invalid", "The value of missing and infinite cells."}}},
  };
  // The processes callbacks are made of (apply, reduce_dimension, aggregate_spatial): run only inside
  // callbacks, compiled to band math (openeo_callback) or, over t and per geometry, sco's reducers.
  auto callback = [&d](const std::string& id, const std::string& summary, std::map<std::string, std::string> params) {
    d.push_back({id, summary + " Runs inside callbacks, compiled to sco's band math.", "The result.", std::move(params)});
  };
  for (const auto& [id, what] : std::vector<std::pair<std::string, std::string>>{
           {"add", "x + y"}, {"subtract", "x - y"}, {"multiply", "x * y"}, {"divide", "x / y (nodata for y = 0)"}, {"gt", "x > y"}, {"gte", "x >= y"},
           {"lt", "x < y"}, {"lte", "x <= y"}, {"eq", "x == y"}, {"neq", "x != y"}, {"and", "x and y"}, {"or", "x or y"}}) {
    callback(id, what, {{"x", "A value."}, {"y", "A value."}});
  }
  for (const char* id : {"not", "absolute", "sqrt", "exp", "ln", "floor", "ceil", "round", "int"}) callback(id, std::string(id) + " of x", {{"x", "A value."}});
  callback("log", "Logarithm of x to a base", {{"x", "A number."}, {"base", "The base."}});
  callback("power", "base to the power p", {{"base", "A number."}, {"p", "The exponent."}});
  callback("clip", "x limited to [min, max]", {{"x", "A number."}, {"min", "Lower bound."}, {"max", "Upper bound."}});
  callback("linear_scale_range", "x scaled from [inputMin, inputMax] to [outputMin, outputMax]",
           {{"x", "A number."}, {"inputMin", "Input minimum."}, {"inputMax", "Input maximum."}, {"outputMin", "Output minimum (0)."}, {"outputMax", "Output maximum (1)."}});
  callback("if", "accept if value is true, else reject", {{"value", "A boolean."}, {"accept", "The value if true."}, {"reject", "The value if false (null)."}});
  callback("array_element", "One element of the band array, by index or label", {{"data", "The band array."}, {"index", "Zero-based index."}, {"label", "A band label."}});
  for (const auto& [id, what] : std::vector<std::pair<std::string, std::string>>{
           {"sin", "Sine of x (radians)"}, {"cos", "Cosine of x (radians)"}, {"tan", "Tangent of x (radians)"},
           {"arcsin", "Arc sine of x (radians)"}, {"arccos", "Arc cosine of x (radians)"}, {"arctan", "Arc tangent of x (radians)"},
           {"sgn", "The sign of x: -1, 0 or 1"}, {"constant", "The value x"}}) {
    callback(id, what, {{"x", "A number."}});
  }
  callback("mod", "x modulo y, with the sign of y (nodata for y = 0)", {{"x", "A number."}, {"y", "The divisor."}});
  callback("e", "Euler's number", {});
  callback("pi", "The ratio of a circle's circumference to its diameter", {});
  callback("between", "Whether x lies in [min, max] (or [min, max) with exclude_max)",
           {{"x", "A value."}, {"min", "Lower bound."}, {"max", "Upper bound."}, {"exclude_max", "Leave max out."}});
  callback("product", "Product of the values (over bands a missing band makes it missing; over t missing steps are left out)",
           {{"data", "The band array or the time series."}, {"ignore_nodata", "Over t always; over bands not."}});
  for (const char* id : {"first", "last"}) {
    callback(id, std::string("The ") + id + " value over the bands or over t, missing values skipped (over bands unless ignore_nodata is false)",
             {{"data", "The band array or the time series."}, {"ignore_nodata", "Skip missing values (default)."}});
  }
  callback("quantiles", "Quantiles of the band array (numpy's linear interpolation), one value per probability (apply_dimension)",
           {{"data", "The band array (up to 8 bands)."}, {"probabilities", "A list in [0, 1], or a number of intervals."},
            {"q", "A number of intervals."}, {"ignore_nodata", "Not used: a missing band makes the quantiles missing."}});
  callback("sort", "The band array in order (apply_dimension)", {{"data", "The band array (up to 8 bands)."}, {"asc", "Ascending (default) or descending."},
                                                                 {"nodata", "Not used: a missing band makes the values missing."}});
  callback("order", "The indices that would sort the band array (apply_dimension)",
           {{"data", "The band array (up to 8 bands)."}, {"asc", "Ascending (default) or descending."}, {"nodata", "Not used: missing bands are not placed apart."}});
  callback("array_concat", "Two arrays one after the other (apply_dimension)", {{"array1", "The first array."}, {"array2", "The second."}});
  callback("array_create", "An array of values, repeated (apply_dimension)", {{"data", "The values."}, {"repeat", "How many times (1)."}});
  for (const char* id : {"sd", "variance"}) {
    callback(id, std::string(id == std::string("sd") ? "Sample standard deviation" : "Sample variance") + " of the values (n - 1), as a reducer over t",
             {{"data", "An array of numbers."}, {"ignore_nodata", "Missing values are left out (always)."}});
  }
  for (const char* id : {"mean", "median", "min", "max", "sum", "count"}) {
    callback(id, std::string(id) + " of the values (over t: the time steps; per geometry: its cells, exactly weighted; over bands: mean, sum, min, max)",
             {{"data", "An array of numbers."}, {"ignore_nodata", "Missing values are left out (always)."}});
  }
  return d;
}

// A described process with the standard's interface; an offered process missing from the definitions
// is an error at the first GET /processes (scripts/openeo-spec-schemas.py lists what sco offers).
json standard_process(const Described& d) {
  static const json spec = json::parse(
#include "server/openeo_spec_schemas.inc"
  );
  const json& s = spec.at(d.id);
  json params = json::array();
  for (json q : s["parameters"]) {
    const auto it = d.parameters.find(q["name"].get<std::string>());
    q["description"] = it != d.parameters.end() ? it->second : "As the openEO process definition says (processes.openeo.org).";
    params.push_back(std::move(q));
  }
  json p = {{"id", d.id}, {"summary", d.summary}, {"description", d.summary}, {"categories", s["categories"]}, {"parameters", std::move(params)},
            {"returns", {{"description", d.returns}, {"schema", s["returns"]["schema"]}}}};
  for (const char* flag : {"experimental", "deprecated"}) {
    if (s.contains(flag)) p[flag] = s[flag];
  }
  return p;
}

// sco's built-in indicators as predefined processes: their inputs as cubes, the districts as
// geometries, their parameters with their defaults; a vector cube of the run's district table.
void add_indicator_processes(json& list) {
  for (const auto& r : indicators::builtin_recipes()) {
    json params = json::array();
    for (const auto& in : r.inputs) {
      params.push_back(param(in.name, fmt::format("{}{}: a cube loaded from the catalog (its items are the run's inputs).", in.title.empty() ? in.name : in.title,
                                                  in.units.empty() ? "" : " (" + in.units + ")"), kCube));
    }
    params.push_back(param("geometries", "The districts: GeoJSON (a FeatureCollection, Feature or geometry; any CRS it names).", {{"type", "object"}, {"subtype", "geojson"}}));
    params.push_back(param("id_field", "The property naming each district (default: the features' ids).", {{"type", "string"}}, true));
    for (const auto& p : r.parameters) {
      json schema = {{"type", p.type == indicators::ParamType::kNumber ? "number" : p.type == indicators::ParamType::kBoolean ? "boolean" : "string"}};
      if (p.minimum) schema["minimum"] = *p.minimum;
      if (p.maximum) schema["maximum"] = *p.maximum;
      if (!p.choices.empty()) schema["enum"] = p.choices;
      json q = param(p.name, (p.title.empty() ? p.name : p.title) + (p.units.empty() ? "" : " (" + p.units + ")"), schema, !p.default_value.is_null());
      if (!p.default_value.is_null()) q["default"] = p.default_value;
      params.push_back(q);
    }
    list.push_back({{"id", openeo_indicator_process_id(r.id)}, {"summary", r.title}, {"description", r.description + " Runs sco's built-in indicator '" + r.id + "' (version " + r.version + ") exactly as `sco run` does."},
                    {"categories", json::array({"sco indicators", r.category})}, {"parameters", params},
                    {"returns", {{"description", "A vector cube: the indicator's table per district."}, {"schema", {{"type", "object"}, {"subtype", "datacube"}}}}}});
  }
}

}  // namespace

std::string openeo_indicator_process_id(const std::string& recipe_id) {
  std::string id = "sco_" + recipe_id;
  std::replace(id.begin(), id.end(), '.', '_');
  return id;
}

const json& openeo_processes() {
  static const json processes = [] {
    json list = json::array();
    for (const auto& d : described()) list.push_back(standard_process(d));
    add_indicator_processes(list);
    return list;
  }();
  return processes;
}

}  // namespace sco::server
