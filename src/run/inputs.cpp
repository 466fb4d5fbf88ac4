#include "run/join.hpp"
#include "run/inputs.hpp"

#include <algorithm>
#include <filesystem>
#include <regex>
#include <tuple>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/parse.hpp"
#include "io/raster_dataset.hpp"
#include "io/time_axis.hpp"

namespace sco::run {

using core::ErrorCode;
using nlohmann::json;
namespace fs = std::filesystem;
namespace ind = sco::indicators;

namespace {

std::optional<cube::DateTime> date_from_metadata(const io::RasterDataset& ds) {
  for (const auto& [k, v] : ds.metadata()) {
    if (k == "TIFFTAG_DATETIME" || k == "ACQUISITIONDATETIME" || k == "DATE_ACQUIRED" || k == "datetime") {
      if (auto d = find_date(v)) return d;
    }
  }
  return std::nullopt;
}

// A cube of one multi-band source: every band a step, dated by its CF time axis when it has one.
void cube_steps_from_bands(ResolvedInput& in, const io::RasterDataset& ds) {
  for (int b = 1; b <= ds.band_count(); ++b) in.steps.emplace_back(0, b);
  if (const auto axis = io::find_time_axis(ds); axis && axis->dates.size() == static_cast<std::size_t>(ds.band_count())) {
    in.dates = axis->dates;
    in.calendar = cube::parse_calendar(axis->calendar);
    in.time_note = fmt::format("CF time axis ({}, calendar {})", axis->units, axis->calendar.empty() ? "standard" : axis->calendar);
  }
}

// A cube of several sources, one step each: in date order when every source has a date.
void order_by_date(ResolvedInput& in) {
  for (const auto& s : in.sources) {
    if (!s.in.date) return;
  }
  for (const auto& s : in.sources) in.dates.push_back(*s.in.date);
  in.time_note = "dates of the files (@DATE, file name or metadata)";
  std::vector<std::size_t> order(in.sources.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  const auto& dates = in.dates;
  auto key = [&dates](std::size_t i) { return std::make_tuple(dates[i].year, dates[i].month, dates[i].day); };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
  std::vector<std::pair<std::size_t, int>> steps;
  std::vector<cube::DateTime> sorted;
  for (std::size_t i : order) {
    steps.push_back(in.steps[i]);
    sorted.push_back(in.dates[i]);
  }
  in.steps = steps;
  in.dates = sorted;
}

void resolve_source(const std::string& name, ResolvedInput& in, std::size_t k) {
  Source& s = in.sources[k];
  const io::RasterDataset ds = io::RasterDataset::open(s.in.path);
  s.grid = ds.grid();
  s.type = ds.band(s.in.band > 0 ? s.in.band : 1).type;  // throws naming the file and its band count
  switch (in.decl->kind) {
    case ind::InputKind::kRaster:
      if (s.in.band == 0) s.in.band = 1;
      in.steps.emplace_back(k, s.in.band);
      break;
    case ind::InputKind::kImage:
      if (s.in.band != 0) core::fail(ErrorCode::kInvalidInput, "--input {}: an image is a whole multi-band file, not one band", name);
      break;
    case ind::InputKind::kCube:
      if (in.sources.size() == 1 && s.in.band == 0) {
        cube_steps_from_bands(in, ds);
        break;
      }
      if (s.in.band == 0 && ds.band_count() != 1) {
        core::fail(ErrorCode::kInvalidInput, "--input {}: '{}' has {} bands; give the band of this date, {}:BAND", name, s.in.path,
                   ds.band_count(), s.in.path);
      }
      in.steps.emplace_back(k, s.in.band == 0 ? 1 : s.in.band);
      if (!s.in.date) s.in.date = find_date(fs::path(s.in.file).filename().string());
      if (!s.in.date) s.in.date = date_from_metadata(ds);
      break;
  }
}

}  // namespace

std::optional<cube::DateTime> find_date(const std::string& text) {
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

InputSource InputSource::raster(const std::string& file, int band, std::optional<cube::DateTime> date) {
  if (!fs::exists(file)) core::fail(ErrorCode::kNotFound, "input '{}' not found", file);
  return {band > 0 ? fmt::format("{}:{}", file, band) : file, file, file, band, date};
}

InputSource InputSource::variable(const std::string& file, const std::string& variable) {
  if (!fs::exists(file)) core::fail(ErrorCode::kNotFound, "input '{}' not found", file);
  return {file + ":" + variable, io::resolve_variable(file + ":" + variable), file, 0, std::nullopt};
}

InputSource InputSource::catalog_item(const catalog::CatalogStore& store, const std::string& collection, const std::string& item,
                                      const std::string& asset) {
  const auto doc = store.item(collection, item);
  if (!doc) core::fail(ErrorCode::kNotFound, "the catalog has no item '{}' in collection '{}'", item, collection);
  const auto& assets = (*doc)["assets"];
  if (!assets.contains(asset)) core::fail(ErrorCode::kNotFound, "item '{}' of '{}' has no asset '{}'", item, collection, asset);
  const auto& a = assets[asset];
  InputSource s = raster(a["href"].get<std::string>());
  if (a.contains("sco:gdal_name")) s.path = a["sco:gdal_name"].get<std::string>();  // a variable of a container
  s.given = fmt::format("{}/{}#{}", collection, item, asset);
  const auto& props = (*doc)["properties"];
  for (const char* key : {"datetime", "start_datetime"}) {
    if (props.contains(key) && props[key].is_string()) {
      s.date = find_date(props[key].get<std::string>());
      if (s.date) break;
    }
  }
  return s;
}

std::pair<std::string, InputSource> parse_input(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) core::fail(ErrorCode::kInvalidInput, "--input '{}': expected NAME=PATH[:VARIABLE_OR_BAND]", text);
  InputSource s;
  const std::string name = text.substr(0, eq);
  s.given = text.substr(eq + 1);
  std::string spec = s.given;
  const auto at = spec.rfind('@');
  const auto slash = spec.find_last_of('/');
  if (at != std::string::npos && (slash == std::string::npos || at > slash) && !fs::exists(spec)) {
    const std::string date_text = spec.substr(at + 1);
    const auto d = find_date(date_text);
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

namespace {

// The asset of `item` that holds `band`: the asset so keyed, else the one whose single eo:band has
// that name or common name.
std::string asset_of_band(const json& item, const std::string& band) {
  const json& assets = item["assets"];
  if (assets.contains(band)) return band;
  for (auto a = assets.begin(); a != assets.end(); ++a) {
    if (!a->contains("eo:bands") || (*a)["eo:bands"].size() != 1) continue;
    const json& b = (*a)["eo:bands"][0];
    if (b.value("name", "") == band || b.value("common_name", "") == band) return a.key();
  }
  return "";
}

std::vector<std::string> split_on(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = std::min(text.find(sep, start), text.size());
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

std::vector<InputSource> collection_sources(const catalog::CatalogStore& store, const std::string& spec, const std::string& name) {
  std::string rest = spec.substr(std::string("collection:").size()), query;
  if (const auto q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  const auto colon = rest.find(':');
  const std::string collection = rest.substr(0, colon), band = colon == std::string::npos ? "" : rest.substr(colon + 1);
  if (collection.empty()) core::fail(ErrorCode::kInvalidInput, "--input {}: 'collection:' needs a collection id", name);
  if (!store.collection(collection)) core::fail(ErrorCode::kNotFound, "--input {}: the catalog has no collection '{}'", name, collection);
  catalog::SearchQuery sq;
  sq.collections = {collection};
  sq.limit = 10000;
  for (const auto& kv : split_on(query, '&')) {
    if (kv.empty()) continue;
    const auto eq = kv.find('=');
    const std::string key = kv.substr(0, eq), value = eq == std::string::npos ? "" : kv.substr(eq + 1);
    if (key == "bbox") {
      std::vector<double> v;
      for (const auto& x : split_on(value, ',')) v.push_back(core::parse_finite(x, fmt::format("--input {}: bbox", name)));
      if (v.size() != 4 || !(v[0] <= v[2] && v[1] <= v[3])) core::fail(ErrorCode::kInvalidInput, "--input {}: bbox is W,S,E,N (got '{}')", name, value);
      sq.bbox = catalog::BBox{v[0], v[1], v[2], v[3]};
    } else if (key == "datetime") {
      const auto slash = value.find('/');
      if (slash == std::string::npos) core::fail(ErrorCode::kInvalidInput, "--input {}: datetime is START/END (got '{}')", name, value);
      sq.datetime_start = value.substr(0, slash) == ".." ? "" : core::parse_rfc3339(value.substr(0, slash), "datetime");
      sq.datetime_end = value.substr(slash + 1) == ".." ? "" : core::parse_rfc3339(value.substr(slash + 1), "datetime");
    } else {
      core::fail(ErrorCode::kInvalidInput, "--input {}: unknown filter '{}' (bbox, datetime)", name, key);
    }
  }
  const catalog::SearchPage page = store.search(sq);
  std::vector<std::pair<std::string, InputSource>> dated;
  for (const json& item : page.items) {
    const std::string id = item["id"].get<std::string>();
    const std::string asset = band.empty() ? "data" : asset_of_band(item, band);
    if (asset.empty() || !item["assets"].contains(asset)) {
      std::vector<std::string> keys;
      for (auto a = item["assets"].begin(); a != item["assets"].end(); ++a) keys.push_back(a.key());
      core::fail(ErrorCode::kNotFound, "--input {}: item '{}' of '{}' has no asset or band '{}' (assets: {})", name, id, collection,
                 band.empty() ? "data" : band, join(keys));
    }
    InputSource src = InputSource::catalog_item(store, collection, id, asset);
    src.given = spec + " -> " + src.given;
    dated.emplace_back(src.date ? src.date->iso() : id, std::move(src));
  }
  if (dated.empty()) core::fail(ErrorCode::kNotFound, "--input {}: no item of '{}' meets {}", name, collection, query.empty() ? "the query" : query);
  std::stable_sort(dated.begin(), dated.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<InputSource> out;
  for (auto& d : dated) out.push_back(std::move(d.second));
  return out;
}

std::vector<RunInput> parse_inputs(const std::vector<std::string>& texts, const catalog::CatalogStore* store) {
  std::vector<RunInput> out;
  for (const auto& text : texts) {
    const auto eq = text.find('=');
    const bool from_catalog = eq != std::string::npos && text.compare(eq + 1, 11, "collection:") == 0;
    std::vector<std::pair<std::string, InputSource>> parsed;
    if (from_catalog) {
      const std::string name = text.substr(0, eq);
      if (!store) core::fail(ErrorCode::kInvalidInput, "--input {}: collection inputs need the node's catalog", name);
      for (auto& s : collection_sources(*store, text.substr(eq + 1), name)) parsed.emplace_back(name, std::move(s));
    } else {
      parsed.push_back(parse_input(text));
    }
    for (auto& p : parsed) {
      const std::string name = p.first;
      auto it = std::find_if(out.begin(), out.end(), [&](const RunInput& r) { return r.name == name; });
      if (it == out.end()) it = out.insert(out.end(), RunInput{name, {}});
      it->sources.push_back(std::move(p.second));
    }
  }
  return out;
}

std::string ResolvedInput::dates_text() const {
  return dates.empty() ? std::string("no dates") : dates.front().iso().substr(0, 10) + ".." + dates.back().iso().substr(0, 10);
}

std::pair<std::string, int> ResolvedInput::step_band(std::size_t i) const { return {sources[steps[i].first].prepared, steps[i].second}; }

io::PipelineInput ResolvedInput::step_input(std::size_t i) const {
  const Source& s = sources[steps[i].first];
  io::PipelineInput in{s.prepared, steps[i].second};
  if (s.window) {
    in.source = s.in.path;
    in.source_x = s.window->x;
    in.source_y = s.window->y;
  }
  return in;
}

std::map<std::string, ResolvedInput> resolve_inputs(const ind::Recipe& recipe, const std::vector<RunInput>& given) {
  std::map<std::string, ResolvedInput> inputs;
  for (const auto& ri : given) {
    const ind::InputDecl* decl = recipe.find_input(ri.name);
    if (!decl) {
      std::vector<std::string> names;
      for (const auto& d : recipe.inputs) names.push_back(d.name);
      core::fail(ErrorCode::kInvalidInput, "--input {}: '{}' has no input '{}' (inputs: {})", ri.name, recipe.id, ri.name, join(names));
    }
    auto& in = inputs[ri.name];
    in.decl = decl;
    for (const auto& s : ri.sources) {
      if (decl->kind != ind::InputKind::kCube && !in.sources.empty()) {
        core::fail(ErrorCode::kInvalidInput, "--input {}: given twice, but it is a {} (only cubes take several files)", ri.name,
                   ind::input_kind_name(decl->kind));
      }
      in.sources.push_back(Source{.in = s});
    }
  }
  for (const auto& d : recipe.inputs) {
    if (!inputs.count(d.name)) {
      core::fail(ErrorCode::kInvalidInput, "missing input '{}' ({}, {}): give --input {}=PATH{}", d.name, ind::input_kind_name(d.kind), d.title,
                 d.name, d.kind == ind::InputKind::kCube ? "[:VARIABLE]" : "");
    }
  }
  for (auto& [name, in] : inputs) {
    for (std::size_t k = 0; k < in.sources.size(); ++k) resolve_source(name, in, k);
    if (in.decl->kind == ind::InputKind::kCube && in.sources.size() > 1) order_by_date(in);
    if (in.decl->kind == ind::InputKind::kCube && in.time_note.empty()) in.time_note = "no dates: steps in the order given";
  }
  return inputs;
}

}  // namespace sco::run
