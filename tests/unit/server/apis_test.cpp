// Each API of the node called without a socket: the shared parameters, the access rules, item
// assets, tiles (on the real Landsat-7 sample) and OGC API Features (on a district table).
#include <gtest/gtest.h>

#include <cpl_vsi.h>
#include <gdal_priv.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "catalog/ingest.hpp"
#include "catalog/store.hpp"
#include "core/error.hpp"
#include "io/gdal_session.hpp"
#include "server/access.hpp"
#include "server/features_api.hpp"
#include "server/params.hpp"
#include "server/stac_api.hpp"
#include "server/tiles_api.hpp"
#include "support/temp_dir.hpp"

using namespace sco;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const core::Error& e) {
    EXPECT_EQ(e.code(), core::ErrorCode::kInvalidInput);
    return e.what();
  }
  return "";
}

server::ApiRequest get(const std::string& path, std::map<std::string, std::string> query = {}, server::Role role = server::Role::kAnonymous) {
  server::ApiRequest r;
  r.path = path;
  r.query = std::move(query);
  r.base_url = "http://node";
  r.caller.role = role;
  return r;
}

}  // namespace

TEST(ApiParams, OneParserForTheSharedParameters) {
  namespace p = server::params;
  const catalog::BBox b = p::bbox("-35,-8.1,-34.8,-7.9", "bbox");
  EXPECT_DOUBLE_EQ(b.west, -35);
  EXPECT_DOUBLE_EQ(b.north, -7.9);
  EXPECT_DOUBLE_EQ(p::bbox(std::vector<double>{0, 1, 10, 2, 3, 20}, "bbox").east, 2);  // 3D: the height dropped
  EXPECT_EQ(error_of([] { p::bbox("10,0,1,1", "bbox"); }).rfind("bbox: expected west <= east", 0), 0u);
  EXPECT_EQ(error_of([] { p::bbox("0,1,1,0", "bbox"); }), "bbox: expected south <= north");
  EXPECT_EQ(error_of([] { p::bbox("0,0,1,91", "bbox"); }), "bbox: outside -180,-90,180,90");
  EXPECT_EQ(error_of([] { p::bbox("0,0,1", "bbox"); }), "bbox: expected 4 (or 6) numbers: west,south,east,north");
  EXPECT_EQ(error_of([] { p::bbox("0,0,1,inf", "bbox"); }), "bbox: 'inf' is not a finite number");
  // Instants, dates (a whole day) and open intervals, in UTC.
  EXPECT_EQ(p::datetime("2021-01-01T12:00:00+02:00", "datetime").start, "2021-01-01T10:00:00Z");
  const auto day = p::datetime("2021-01-01", "datetime");
  EXPECT_EQ(day.start, "2021-01-01T00:00:00Z");
  EXPECT_EQ(day.end, "2021-01-01T23:59:59Z");
  const auto open = p::datetime("../2021-03-01", "datetime");
  EXPECT_EQ(open.start, "");
  EXPECT_EQ(open.end, "2021-03-01T23:59:59Z");
  EXPECT_EQ(error_of([] { p::datetime("2021-02-01/2021-01-01", "datetime"); }), "datetime: the interval ends before it starts");
  EXPECT_EQ(error_of([] { p::datetime("../..", "datetime"); }), "datetime: an interval needs at least one end");
  EXPECT_NE(error_of([] { p::datetime("2021-02-30", "datetime"); }).find("datetime"), std::string::npos);
  EXPECT_EQ(p::integer("25", 1, 100, "limit"), 25);
  EXPECT_EQ(error_of([] { p::integer("0", 1, 100, "limit"); }), "limit: must lie in 1..100");
  EXPECT_EQ(error_of([] { p::integer("1e3", 1, 100, "limit"); }), "limit: '1e3' is not an integer");
  EXPECT_EQ(p::numbers("0,255", "rescale", 2, 2), (std::vector<double>{0, 255}));
  EXPECT_EQ(error_of([] { p::numbers("1,2,3", "rescale", 2, 2); }), "rescale: expected 2 numbers, got 3");
  EXPECT_EQ(p::bands("3,2,1", "bidx"), (std::vector<int>{3, 2, 1}));
  EXPECT_NE(error_of([] { p::bands("0", "bidx"); }).find("bidx"), std::string::npos);
}

TEST(ApiAccess, WhoSeesWhat) {
  using server::Role;
  const struct {
    Role role;
    bool pub, partners, priv;
    int refusal;
  } rows[] = {{Role::kAnonymous, true, false, false, 401}, {Role::kReader, true, false, false, 403},
              {Role::kPartner, true, true, false, 403}, {Role::kAdmin, true, true, true, 403}};
  for (const auto& r : rows) {
    const server::Caller c{r.role, "t", ""};
    EXPECT_EQ(server::may_see(c, "public"), r.pub);
    EXPECT_EQ(server::may_see(c, "partners"), r.partners);
    EXPECT_EQ(server::may_see(c, "private"), r.priv);
    EXPECT_EQ(server::may_see(c, "secret-typo"), r.priv);  // anything unknown is private
    EXPECT_EQ(server::refusal_status(c), r.refusal);
  }
  EXPECT_EQ(server::visibility_of(json{{"id", "x"}}), "public");
}

class SceneApis : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(scene)) GTEST_SKIP() << "sample data missing (scripts/fetch-data.sh)";
    store = catalog::open_sqlite_store(dir.path());
    const catalog::IngestOptions dated{.items = {.datetime = "2021-01-01"}};
    catalog::ingest(*store, {scene}, "scenes", dated);
    json hidden = catalog::new_collection("hidden", "", "", "");
    hidden["sco:visibility"] = "partners";
    store->put_collection(hidden);
    catalog::ingest(*store, {scene}, "hidden", dated);
  }
  const std::string scene = std::string(SCO_SAMPLE_DIR) + "/L7_ETMs.tif";
  test::TempDir dir;
  std::unique_ptr<catalog::CatalogStore> store;
};

TEST_F(SceneApis, AssetsAreTheirFilesForThoseWhoMaySeeThem) {
  const server::StacApi stac(*store);
  std::string path, type;
  server::ApiResponse r = stac.asset_file("scenes", "L7_ETMs", "data", server::Caller{}, path, type);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(fs::canonical(path), fs::canonical(scene));
  EXPECT_EQ(type.rfind("image/tiff", 0), 0u) << type;
  EXPECT_EQ(stac.asset_file("scenes", "L7_ETMs", "thumbnail", server::Caller{}, path, type).status, 404);
  EXPECT_EQ(stac.asset_file("scenes", "nothing", "data", server::Caller{}, path, type).status, 404);
  EXPECT_EQ(stac.asset_file("hidden", "L7_ETMs", "data", server::Caller{}, path, type).status, 401);
  EXPECT_EQ(stac.asset_file("hidden", "L7_ETMs", "data", server::Caller{server::Role::kReader, "r", ""}, path, type).status, 403);
  EXPECT_EQ(stac.asset_file("hidden", "L7_ETMs", "data", server::Caller{server::Role::kPartner, "p", ""}, path, type).status, 200);
  // The item served over HTTP points at /assets, never at the node's path.
  const auto item = json::parse(stac.handle(get("/stac/collections/scenes/items/L7_ETMs")).body);
  EXPECT_EQ(item["assets"]["data"]["href"], "http://node/assets/scenes/L7_ETMs/data");
}

TEST_F(SceneApis, TilesOfTheSceneAndTheirErrors) {
  server::TilesApi tiles(*store, 1 << 20);
  // The zoom-12 tile holding the scene's centre (Web Mercator tile numbers from its WGS 84 bbox).
  const auto item = *store->item("scenes", "L7_ETMs");
  const double lon = (item["bbox"][0].get<double>() + item["bbox"][2].get<double>()) / 2;
  const double lat = (item["bbox"][1].get<double>() + item["bbox"][3].get<double>()) / 2;
  const double n = 4096, phi = lat * M_PI / 180;
  const int x = static_cast<int>((lon + 180) / 360 * n), y = static_cast<int>((1 - std::log(std::tan(phi) + 1 / std::cos(phi)) / M_PI) / 2 * n);
  const std::string path = "/tiles/scenes/L7_ETMs/data/12/" + std::to_string(x) + "/" + std::to_string(y) + ".png";
  const server::ApiResponse r = tiles.handle(get(path, {{"bidx", "3,2,1"}, {"rescale", "0,255"}}), path + "?bidx=3,2,1&rescale=0,255");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "image/png");
  // GDAL reads it back: a 256 x 256 RGBA picture with opaque pixels (the scene is under the tile).
  VSIFCloseL(VSIFileFromMemBuffer("/vsimem/t.png", reinterpret_cast<GByte*>(const_cast<char*>(r.body.data())), r.body.size(), FALSE));
  io::init_gdal();
  GDALDataset* png = static_cast<GDALDataset*>(GDALOpen("/vsimem/t.png", GA_ReadOnly));
  ASSERT_NE(png, nullptr);
  EXPECT_EQ(png->GetRasterXSize(), 256);
  ASSERT_EQ(png->GetRasterCount(), 4);
  std::vector<std::uint8_t> alpha(256 * 256);
  ASSERT_EQ(png->GetRasterBand(4)->RasterIO(GF_Read, 0, 0, 256, 256, alpha.data(), 256, 256, GDT_Byte, 0, 0), CE_None);
  GDALClose(png);
  VSIUnlink("/vsimem/t.png");
  EXPECT_GT(std::count(alpha.begin(), alpha.end(), 255), 1000);
  EXPECT_EQ(tiles.handle(get("/tiles/scenes/L7_ETMs/data/31/0/0.png"), "a").status, 400);     // z above 30
  EXPECT_EQ(tiles.handle(get("/tiles/scenes/L7_ETMs/data/1/2/0.png"), "b").status, 400);      // x beyond 2^z - 1
  EXPECT_EQ(tiles.handle(get(path, {{"rescale", "9,1"}}), "c").status, 400);
  EXPECT_EQ(tiles.handle(get(path, {{"bidx", "0"}}), "d").status, 400);
  EXPECT_EQ(tiles.handle(get("/tiles/nope/L7_ETMs/data/1/0/0.png"), "e").status, 404);
  EXPECT_EQ(tiles.handle(get("/tiles/hidden/L7_ETMs/data/1/0/0.png"), "f").status, 401);
  const auto tj = tiles.handle(get("/tiles/scenes/L7_ETMs/data/tilejson.json"), "g");
  ASSERT_EQ(tj.status, 200);
  EXPECT_EQ(json::parse(tj.body)["tilejson"], "3.0.0");
}

TEST(FeaturesApiTest, DistrictTablesPagedFilteredAndGuarded) {
  test::TempDir dir;
  auto store = catalog::open_sqlite_store(dir.path());
  // Three districts of a run: unit squares at x = 0, 1, 2.
  json fc = {{"type", "FeatureCollection"}, {"features", json::array()}};
  for (int i = 0; i < 3; ++i) {
    fc["features"].push_back({{"type", "Feature"}, {"properties", {{"NAME", "d" + std::to_string(i)}, {"mean", 10.0 * i}, {"class", i ? "high" : "low"}}},
                              {"geometry", {{"type", "Polygon"}, {"coordinates", {{{i, 0}, {i + 1, 0}, {i + 1, 1}, {i, 1}, {i, 0}}}}}}});
  }
  const std::string path = dir.file("t.geojson");
  std::ofstream(path) << fc.dump();
  store->put_collection(catalog::new_collection("ind.x", "", "", ""));
  json private_ind = catalog::new_collection("ind.private", "", "", "");
  private_ind["sco:visibility"] = "private";
  store->put_collection(private_ind);
  auto table = [&](const std::string& id, const std::string& recipe) {
    return json{{"id", id}, {"title", id}, {"description", ""}, {"path", path}, {"id_column", "NAME"}, {"recipe", recipe}, {"units", ""},
                {"run", "r"}, {"step", "s"}, {"series", false}, {"bbox", {0, 0, 3, 1}}};
  };
  store->put_feature_table(table("r-s", "ind.x"));
  store->put_feature_table(table("r-p", "ind.private"));
  const server::FeaturesApi api(*store);
  const auto body = [&](const server::ApiRequest& r) {
    const auto a = api.handle(r);
    EXPECT_EQ(a.status, 200) << r.path << " " << a.body;
    return json::parse(a.body);
  };
  const json page = body(get("/features/collections/r-s/items", {{"limit", "1"}, {"offset", "1"}}));
  ASSERT_EQ(page["features"].size(), 1u);
  EXPECT_EQ(page["features"][0]["properties"]["NAME"], "d1");
  EXPECT_EQ(page["numberMatched"], 3);
  const json boxed = body(get("/features/collections/r-s/items", {{"bbox", "1.5,0.2,2.5,0.8"}}));
  EXPECT_EQ(boxed["numberMatched"], 2);  // d1 and d2 meet the box
  const json high = body(get("/features/collections/r-s/items", {{"class", "high"}}));
  EXPECT_EQ(high["numberMatched"], 2);
  EXPECT_EQ(api.handle(get("/features/collections/r-s/items", {{"limit", "0"}})).status, 400);
  const auto unknown = api.handle(get("/features/collections/r-s/items", {{"colour", "red"}}));
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(json::parse(unknown.body)["code"], "InvalidParameterValue");
  EXPECT_EQ(api.handle(get("/features/collections/none/items")).status, 404);
  EXPECT_EQ(api.handle(get("/features/collections/r-p/items")).status, 401);
  EXPECT_EQ(api.handle(get("/features/collections/r-p/items", {}, server::Role::kAdmin)).status, 200);
  const json list = body(get("/features/collections"));
  EXPECT_EQ(list["collections"].size(), 1u);  // the private one is not listed to anonymous callers
}
