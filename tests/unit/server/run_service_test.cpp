// A built-in indicator run in the server's process, as the node runs one asked through its APIs: the
// inputs are catalog items (the real NetCDF sample ingested), the area of interest GeoJSON text (the
// North Carolina counties), the outputs in the node's runs folder and catalog. The figures must be
// those of the same recipe run on the file itself; refusals name the field.
#include <gtest/gtest.h>

#include <cpl_vsi.h>
#include <gdal_utils.h>
#include <gdal_priv.h>

#include <filesystem>

#include "catalog/ingest.hpp"
#include "catalog/store.hpp"
#include "core/error.hpp"
#include "io/gdal_session.hpp"
#include "run/run.hpp"
#include "server/run_service.hpp"
#include "support/temp_dir.hpp"

namespace sco::server {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const std::string kNc = std::string(SCO_SAMPLE_DIR) + "/bcsd_obs_1999.nc";
const std::string kCounties = std::string(SCO_SAMPLE_DIR) + "/nc.gpkg";

// The counties as GeoJSON text, by GDAL's own translation.
std::string counties_geojson() {
  io::init_gdal();
  GDALDatasetH src = GDALOpenEx(kCounties.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr);
  const char* args[] = {"-f", "GeoJSON", nullptr};
  GDALVectorTranslateOptions* opt = GDALVectorTranslateOptionsNew(const_cast<char**>(args), nullptr);
  GDALDatasetH out = GDALVectorTranslate("/vsimem/counties.geojson", nullptr, 1, &src, opt, nullptr);
  GDALVectorTranslateOptionsFree(opt);
  GDALClose(out);
  GDALClose(src);
  vsi_l_offset size = 0;
  GByte* bytes = VSIGetMemFileBuffer("/vsimem/counties.geojson", &size, TRUE);
  std::string text(reinterpret_cast<char*>(bytes), size);
  CPLFree(bytes);
  return text;
}

class RunServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kNc) || !fs::exists(kCounties)) GTEST_SKIP() << "sample data missing (scripts/fetch-data.sh)";
    auto store = catalog::open_sqlite_store(dir.path());
    catalog::ingest(*store, {kNc}, "climate", {});
    body = {{"recipe", "heat.hot_months"},
            {"inputs", {{"tas", json::array({{{"collection", "climate"}, {"item", "bcsd_obs_1999"}, {"asset", "tas"}}})}}},
            {"aoi", {{"geojson", json::parse(counties_geojson())}}},
            {"id_field", "NAME"},
            {"name", "nc-hot"}};
  }
  test::TempDir dir;
  json body;
};

TEST_F(RunServiceTest, RunsABuiltInIndicatorInProcessOnCatalogItems) {
  const RunService service(dir.path());
  const Caller anyone;
  const json plan = service.plan(body, anyone);
  EXPECT_EQ(plan["area_of_interest"]["zones"], 100);
  const json r = service.execute(body, anyone);
  EXPECT_EQ(r["run"], "nc-hot");
  EXPECT_TRUE(fs::exists(fs::path(dir.path()) / "runs" / "nc-hot" / "report.html"));
  EXPECT_EQ(r["tables"]["hot_steps_by_district"]["districts"], 100);
  // Registered in the node's catalog, private unless asked otherwise.
  auto store = catalog::open_sqlite_store(dir.path());
  EXPECT_EQ(store->collection("heat.hot_months")->value("sco:visibility", ""), "private");
  EXPECT_FALSE(r["catalog_items"].empty());

  // The same recipe on the file itself, through the library: the same figures, district by district.
  run::RunRequest direct;
  direct.recipe = run::load_recipe("heat.hot_months");
  direct.inputs = {{"tas", {run::InputSource::variable(kNc, "tas")}}};
  direct.aoi = run::AreaOfInterest::from_file(kCounties, "", "NAME");
  direct.out = dir.file("direct");
  const run::RunResult d = run::run_recipe(std::move(direct));
  const json& cols = r["tables"]["hot_steps_by_district"]["columns"];
  for (auto it = cols.begin(); it != cols.end(); ++it) {
    const json& want = d.summary["hot_steps_by_district"]["columns"][it.key()];
    EXPECT_EQ(it.value(), want) << it.key();
  }
}

TEST_F(RunServiceTest, RefusesWhatTheCallerMayNotSeeAndNamesBadFields) {
  {
    auto store = catalog::open_sqlite_store(dir.path());
    json c = *store->collection("climate");
    c["sco:visibility"] = "private";
    store->put_collection(c);
  }
  const RunService service(dir.path());
  auto error = [&](const json& b, const Caller& who) {
    try {
      service.plan(b, who);
    } catch (const core::Error& e) {
      return std::make_pair(e.code(), std::string(e.what()));
    }
    return std::make_pair(core::ErrorCode::kInternal, std::string());
  };
  const auto hidden = error(body, Caller{});
  EXPECT_EQ(hidden.first, core::ErrorCode::kNotFound);
  EXPECT_NE(hidden.second.find("inputs.tas[0]: no collection 'climate'"), std::string::npos) << hidden.second;
  const Caller admin{Role::kAdmin, "t", ""};
  json b = body;
  b["inputs"]["tas"][0].erase("item");
  EXPECT_NE(error(b, admin).second.find("inputs.tas[0]: expected a string 'item'"), std::string::npos);
  b = body;
  b["recipe"] = "/etc/passwd.json";
  EXPECT_EQ(error(b, admin).first, core::ErrorCode::kInvalidInput);
  b = body;
  b["name"] = "../escape";
  EXPECT_NE(error(b, admin).second.find("name: letters, digits"), std::string::npos);
  b = body;
  b["aoi"] = "somewhere";
  EXPECT_NE(error(b, admin).second.find("aoi: expected"), std::string::npos);
  EXPECT_EQ(error(body, admin).first, core::ErrorCode::kInternal);  // the admin's plan goes through
}

}  // namespace
}  // namespace sco::server
