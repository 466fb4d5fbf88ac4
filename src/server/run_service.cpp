#include "server/run_service.hpp"

#include <filesystem>
#include <regex>

#include <fmt/format.h>

#include "catalog/store.hpp"
#include "core/error.hpp"

namespace sco::server {

using core::ErrorCode;
using nlohmann::json;

namespace {

const std::string& text_field(const json& o, const std::string& key, const std::string& where) {
  if (!o.is_object() || !o.contains(key) || !o[key].is_string() || o[key].get_ref<const std::string&>().empty()) {
    core::fail(ErrorCode::kInvalidInput, "{}: expected a string '{}'", where, key);
  }
  return o[key].get_ref<const std::string&>();
}

// An input given as items of the catalog the caller may see.
run::RunInput catalog_input(const catalog::CatalogStore& store, const Caller& caller, const std::string& name, const json& refs) {
  if (!refs.is_array() || refs.empty()) core::fail(ErrorCode::kInvalidInput, "inputs.{}: expected an array of {{collection, item, asset}}", name);
  run::RunInput in{name, {}};
  for (std::size_t i = 0; i < refs.size(); ++i) {
    const std::string where = fmt::format("inputs.{}[{}]", name, i);
    const std::string& coll = text_field(refs[i], "collection", where);
    const auto c = store.collection(coll);
    if (!c || !may_see(caller, visibility_of(*c))) core::fail(ErrorCode::kNotFound, "{}: no collection '{}'", where, coll);
    const std::string asset = refs[i].contains("asset") ? text_field(refs[i], "asset", where) : "data";
    in.sources.push_back(run::InputSource::catalog_item(store, coll, text_field(refs[i], "item", where), asset));
  }
  return in;
}

run::AreaOfInterest area(const catalog::CatalogStore& store, const json& aoi, const std::string& id_field) {
  if (aoi.is_object() && aoi.contains("geojson")) return run::AreaOfInterest::from_geojson(aoi["geojson"].dump(), id_field);
  if (aoi.is_object() && aoi.contains("feature_table")) return run::AreaOfInterest::from_feature_table(store, text_field(aoi, "feature_table", "aoi"), id_field);
  core::fail(ErrorCode::kInvalidInput, "aoi: expected {{\"geojson\": FEATURE_COLLECTION}} or {{\"feature_table\": ID}}");
}

}  // namespace

run::RunRequest RunService::request(const json& body, const Caller& caller) const {
  if (!body.is_object()) core::fail(ErrorCode::kInvalidInput, "the request: expected a JSON object");
  static const std::regex name_re("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$");
  const std::string& recipe_id = text_field(body, "recipe", "the request");
  if (recipe_id.find('/') != std::string::npos || recipe_id.ends_with(".json")) core::fail(ErrorCode::kInvalidInput, "recipe: a built-in indicator id");
  const auto store = catalog::open_node_store(catalog_dir_);
  run::RunRequest r;
  r.recipe = run::load_recipe(recipe_id);
  if (!body.contains("inputs") || !body["inputs"].is_object()) core::fail(ErrorCode::kInvalidInput, "inputs: expected an object NAME: [items]");
  for (auto it = body["inputs"].begin(); it != body["inputs"].end(); ++it) r.inputs.push_back(catalog_input(*store, caller, it.key(), it.value()));
  const std::string id_field = body.contains("id_field") ? text_field(body, "id_field", "the request") : "";
  r.aoi = area(*store, body.value("aoi", json()), id_field);
  const json params = body.value("parameters", json::object());
  if (!params.is_object()) core::fail(ErrorCode::kInvalidInput, "parameters: expected an object KEY: VALUE");
  for (auto it = params.begin(); it != params.end(); ++it) r.params.emplace_back(it.key(), it->is_string() ? it->get<std::string>() : it->dump());
  const std::string name = body.contains("name") ? text_field(body, "name", "the request") : recipe_id;
  if (!std::regex_match(name, name_re)) core::fail(ErrorCode::kInvalidInput, "name: letters, digits, '.', '_' and '-' only");
  r.out = (std::filesystem::path(catalog_dir_) / "runs" / name).string();
  r.overwrite = true;
  r.catalog_dir = catalog_dir_;
  r.visibility = body.contains("visibility") ? text_field(body, "visibility", "the request") : "private";
  if (r.visibility != "public" && r.visibility != "partners" && r.visibility != "private") {
    core::fail(ErrorCode::kInvalidInput, "visibility: public, partners or private");
  }
  r.threads = 2;
  return r;
}

json RunService::plan(const json& body, const Caller& caller) const { return run::plan_run(request(body, caller)).to_json(); }

json RunService::execute(const json& body, const Caller& caller, const run::RunCallbacks& callbacks) const {
  run::RunRequest req = request(body, caller);
  std::filesystem::create_directories(std::filesystem::path(req.out).parent_path());
  const run::RunResult r = run::execute_run(run::plan_run(std::move(req)), callbacks);
  json outputs = json::array();
  for (const auto& o : r.outputs) outputs.push_back({{"kind", o.kind}, {"step", o.step}, {"file", std::filesystem::path(o.path).filename().string()}});
  return {{"recipe", r.recipe_id}, {"run", std::filesystem::path(r.out).filename().string()}, {"outputs", outputs},
          {"tables", r.summary}, {"catalog_items", r.registered}, {"warnings", r.warnings}, {"seconds", r.seconds}};
}

}  // namespace sco::server
