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

// The processes callbacks are made of (apply, reduce_dimension, aggregate_spatial): run only inside
// callbacks, compiled to band math (openeo_callback) or, over t and per geometry, sco's reducers.
void add_callback_processes(json& list) {
  const json number = {{"type", json::array({"number", "null"})}};
  const json boolean = {{"type", json::array({"boolean", "null"})}};
  const json numbers = {{"type", "array"}, {"items", number}};
  auto add = [&](const std::string& id, const std::string& summary, const std::string& category, json params, const json& returns) {
    list.push_back({{"id", id}, {"summary", summary}, {"description", summary + " Runs inside callbacks, compiled to sco's band math."},
                    {"categories", json::array({category})}, {"parameters", std::move(params)}, {"returns", {{"description", "The result."}, {"schema", returns}}}});
  };
  const std::vector<std::pair<const char*, const char*>> binary = {{"add", "x + y"}, {"subtract", "x - y"}, {"multiply", "x * y"}, {"divide", "x / y (nodata for y = 0)"}};
  for (const auto& [id, what] : binary) add(id, what, "math", json::array({param("x", "A number.", number), param("y", "A number.", number)}), number);
  const std::vector<std::pair<const char*, const char*>> compare = {{"gt", "x > y"}, {"gte", "x >= y"}, {"lt", "x < y"}, {"lte", "x <= y"}, {"eq", "x == y"}, {"neq", "x != y"}};
  for (const auto& [id, what] : compare) add(id, what, "comparison", json::array({param("x", "A value.", number), param("y", "A value.", number)}), boolean);
  add("and", "x and y", "logic", json::array({param("x", "A boolean.", boolean), param("y", "A boolean.", boolean)}), boolean);
  add("or", "x or y", "logic", json::array({param("x", "A boolean.", boolean), param("y", "A boolean.", boolean)}), boolean);
  add("not", "not x", "logic", json::array({param("x", "A boolean.", boolean)}), boolean);
  for (const char* id : {"absolute", "sqrt", "exp", "ln", "floor", "ceil", "round", "int"}) {
    add(id, std::string(id) + " of x", "math", json::array({param("x", "A number.", number)}), number);
  }
  add("log", "Logarithm of x to a base", "math", json::array({param("x", "A number.", number), param("base", "The base.", number)}), number);
  add("power", "base to the power p", "math", json::array({param("base", "A number.", number), param("p", "The exponent.", number)}), number);
  add("clip", "x limited to [min, max]", "math", json::array({param("x", "A number.", number), param("min", "Lower bound.", number), param("max", "Upper bound.", number)}), number);
  add("linear_scale_range", "x scaled from [inputMin, inputMax] to [outputMin, outputMax]", "math",
      json::array({param("x", "A number.", number), param("inputMin", "Input minimum.", number), param("inputMax", "Input maximum.", number),
                   param("outputMin", "Output minimum (0).", number, true), param("outputMax", "Output maximum (1).", number, true)}), number);
  add("if", "accept if value is true, else reject", "logic",
      json::array({param("value", "A boolean.", boolean), param("accept", "The value if true.", number), param("reject", "The value if false (null).", number, true)}), number);
  add("array_element", "One element of the band array, by index or label", "arrays",
      json::array({param("data", "The band array.", numbers), param("index", "Zero-based index.", {{"type", "integer"}, {"minimum", 0}}, true),
                   param("label", "A band label.", {{"type", "string"}}, true)}), number);
  for (const char* id : {"mean", "median", "min", "max", "sum", "count"}) {
    add(id, std::string(id) + " of the values (over t: the time steps; per geometry: its cells, exactly weighted; over bands: mean, sum, min, max)",
        "reducer", json::array({param("data", "An array of numbers.", numbers), param("ignore_nodata", "Missing values are left out (always).", {{"type", "boolean"}}, true)}),
        number);
  }
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

// The standard's interface of each process sco offers (openeo_spec_schemas.inc: parameters' names,
// optionality, defaults and schemas, the return schema, categories), with sco's own descriptions:
// clients and the conformance suite see the schemas of the openEO process definitions.
void with_standard_interfaces(json& list) {
  static const json spec = json::parse(
#include "server/openeo_spec_schemas.inc"
  );
  for (auto& p : list) {
    const auto it = spec.find(p["id"].get<std::string>());
    if (it == spec.end()) continue;
    std::map<std::string, std::string> ours;
    for (const auto& q : p["parameters"]) ours[q["name"].get<std::string>()] = q.value("description", "");
    json params = json::array();
    for (json q : (*it)["parameters"]) {
      const auto d = ours.find(q["name"].get<std::string>());
      q["description"] = d != ours.end() ? d->second : "As the openEO process definition says (processes.openeo.org).";
      params.push_back(std::move(q));
    }
    p["parameters"] = std::move(params);
    p["returns"]["schema"] = (*it)["returns"]["schema"];
    p["categories"] = (*it)["categories"];
    for (const char* flag : {"experimental", "deprecated"}) {
      if (it->contains(flag)) p[flag] = (*it)[flag];
    }
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
    const json bbox = {{"type", "object"}, {"subtype", "bounding-box"}, {"required", {"west", "south", "east", "north"}}};
    // Callbacks with the parameters they are given (clients name their arguments from these).
    auto callback_of = [](const char* value, const char* description, json schema) {
      return json{{"type", "object"}, {"subtype", "process-graph"},
                  {"parameters", json::array({{{"name", value}, {"description", description}, {"schema", std::move(schema)}},
                                              {{"name", "context"}, {"description", "Additional data (not used)."}, {"schema", {{"type", "null"}}}, {"optional", true}}})},
                  {"returns", {{"description", "The value."}, {"schema", {{"type", json::array({"number", "null"})}}}}}};
    };
    const json callback = callback_of("data", "The values to reduce (time steps, cells or bands).", {{"type", "array"}});
    const json pixel_callback = callback_of("x", "The pixel's value.", {{"type", json::array({"number", "null"})}});
    json list = json::array();
    auto add = [&](const std::string& id, const std::string& summary, json params, const std::string& returns) {
      list.push_back({{"id", id}, {"summary", summary}, {"description", summary}, {"categories", json::array({"cubes"})},
                      {"parameters", std::move(params)}, {"returns", {{"description", returns}, {"schema", kCube}}}});
    };
    add("load_collection", "Load a collection of the node's catalog as a data cube",
        json::array({param("id", "The collection's id.", {{"type", "string"}, {"subtype", "collection-id"}}),
                     param("spatial_extent", "The bounding box (west, south, east, north; crs an EPSG code, default 4326).", json::array({bbox, {{"type", "null"}}})),
                     param("temporal_extent", "[start, end] as RFC 3339 dates or times, null for open ends.", json::array({{{"type", "array"}, {"subtype", "temporal-interval"}}, {{"type", "null"}}})),
                     param("bands", "Band names or common names; all when null.", json::array({{{"type", "array"}, {"items", {{"type", "string"}}}}, {{"type", "null"}}}), true)}),
        "A data cube over the extents.");
    add("filter_bands", "Keep the named bands", json::array({param("data", "A data cube.", kCube), param("bands", "Band names or common names.", {{"type", "array"}, {"items", {{"type", "string"}}}})}),
        "The cube with the bands kept.");
    add("ndvi", "Normalized difference vegetation index (nir - red) / (nir + red)",
        json::array({param("data", "A data cube with red and near-infrared bands.", kCube), param("nir", "The NIR band's name or common name.", {{"type", "string"}}, true),
                     param("red", "The red band's name or common name.", {{"type", "string"}}, true),
                     param("target_band", "The name of the band holding the result.", json::array({{{"type", "string"}}, {{"type", "null"}}}), true)}),
        "A cube of one band.");
    add("normalized_difference", "(x - y) / (x + y) of two one-band cubes", json::array({param("x", "The first cube.", kCube), param("y", "The second cube.", kCube)}),
        "A cube of one band.");
    add("reduce_dimension", "Reduce the t dimension (mean, min, max, median, sum, count) or the bands (any callback over the band array)",
        json::array({param("data", "A data cube.", kCube),
                     param("reducer", "Over t: a process graph of one of mean, min, max, median, sum, count. Over bands: a callback of arithmetic, "
                                      "comparisons, logic, if, clip, linear_scale_range, normalized_difference, array_element and mean, sum, min, max, "
                                      "compiled to one band-math expression.", callback),
                     param("dimension", "t or bands.", {{"type", "string"}}),
                     param("context", "Not used.", {{"type", "null"}}, true)}),
        "The cube without the dimension.");
    add("aggregate_temporal_period", "Group the time steps by calendar period and reduce each group",
        json::array({param("data", "A raster data cube.", kCube),
                     param("period", "day, dekad, month, season (djf, mam, jja, son; December with the next year), year, decade (years 0-9) or decade-ad (1-10).",
                           {{"type", "string"}, {"enum", {"day", "dekad", "month", "season", "year", "decade", "decade-ad"}}}),
                     param("reducer", "A process graph of one of mean, min, max, median, sum, count.", callback),
                     param("dimension", "Not supported (t).", {{"type", "null"}}, true), param("context", "Not used.", {{"type", "null"}}, true)}),
        "A cube with one time step per period, dated at the period's start.");
    add("resample_spatial", "Warp the cube to another CRS and / or cell size (GDAL's warper)",
        json::array({param("data", "A raster data cube.", kCube),
                     param("resolution", "The cell size in the target CRS's units; 0: kept.", {{"type", "number"}, {"minimum", 0}}, true),
                     param("projection", "An EPSG code or a WKT string; null: kept.", json::array({{{"type", "integer"}, {"subtype", "epsg-code"}}, {{"type", "string"}, {"subtype", "wkt2-definition"}}, {{"type", "null"}}}), true),
                     param("method", "near, bilinear, cubic, cubicspline, lanczos, average, mode, max, min, med, q1, q3, sum.", {{"type", "string"}}, true),
                     param("align", "Only upper-left.", {{"type", "string"}}, true)}),
        "The resampled cube.");
    add("mask", "Replace the values where a mask is true (non-zero) by a replacement, or by nodata",
        json::array({param("data", "A raster data cube.", kCube),
                     param("mask", "A cube on the same grid: one band (for every band) or the data's bands; one time step (for every step) or the data's.", kCube),
                     param("replacement", "The value masked cells take; null: nodata.", json::array({{{"type", "number"}}, {{"type", "null"}}}), true)}),
        "The masked cube.");
    add("aggregate_spatial", "Statistics of the cube per geometry, with exact cell coverage (cells cut by a boundary weighted by their share inside)",
        json::array({param("data", "A raster data cube.", kCube),
                     param("geometries", "GeoJSON: a FeatureCollection, Feature or geometry (any CRS it names; WGS 84 by default).", {{"type", "object"}, {"subtype", "geojson"}}),
                     param("reducer", "A process graph of one of mean, min, max, median, sum, count.", callback),
                     param("target_dimension", "Not supported (always null).", {{"type", "null"}}, true),
                     param("context", "Not used.", {{"type", "null"}}, true)}),
        "A vector cube: one row per geometry, one column per time step and band.");
    add("filter_temporal", "Keep the time steps in [start, end)",
        json::array({param("data", "A data cube.", kCube), param("extent", "[start, end], RFC 3339; null for an open end.", {{"type", "array"}, {"subtype", "temporal-interval"}}),
                     param("dimension", "Not supported (t).", {{"type", "null"}}, true)}),
        "The cube with fewer time steps.");
    add("filter_bbox", "Cut the cube to a bounding box", json::array({param("data", "A data cube.", kCube), param("extent", "west, south, east, north (crs: an EPSG code, default 4326).", bbox)}),
        "The cube over the box.");
    add("apply", "Apply a process to every pixel (compiled to one band-math expression)",
        json::array({param("data", "A data cube.", kCube),
                     param("process", "A callback over the pixel value: arithmetic (add, subtract, multiply, divide, power, absolute, sqrt, exp, ln, log, floor, ceil, "
                                       "round, int, clip, linear_scale_range), comparisons, logic and if, compiled to one band-math expression.", pixel_callback),
                     param("context", "Not used.", {{"type", "null"}}, true)}),
        "The cube with the values changed.");
    add("save_result", "Save the cube in a file format (GTiff: a cloud-optimised GeoTIFF)",
        json::array({param("data", "A data cube of one time step and one band.", kCube), param("format", "GTiff.", {{"type", "string"}, {"subtype", "output-format"}}),
                     param("options", "Format options (none for GTiff).", {{"type", "object"}}, true)}),
        "The cube, saved.");
    list.back()["returns"]["schema"] = {{"type", "boolean"}};
    add_callback_processes(list);
    add_indicator_processes(list);
    with_standard_interfaces(list);
    return list;
  }();
  return processes;
}

}  // namespace sco::server
