// One mapping of sco's errors to HTTP for every API, and the STAC API answering it without a socket.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "catalog/ingest.hpp"
#include "catalog/store.hpp"
#include "core/error.hpp"
#include "server/stac_api.hpp"
#include "support/temp_dir.hpp"

using namespace sco;
using nlohmann::json;

TEST(ApiErrors, OneMappingFromErrorCodesToStatuses) {
  const struct {
    core::ErrorCode code;
    int status;
    const char* name;
  } cases[] = {{core::ErrorCode::kInvalidInput, 400, "InvalidParameterValue"},
               {core::ErrorCode::kNotFound, 404, "NotFound"},
               {core::ErrorCode::kCancelled, 503, "ServiceUnavailable"},
               {core::ErrorCode::kIo, 500, "ServerError"},
               {core::ErrorCode::kInternal, 500, "ServerError"}};
  for (const auto& c : cases) {
    const server::ApiResponse r = server::error_response(core::Error(c.code, "what went wrong"));
    EXPECT_EQ(r.status, c.status);
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_EQ(json::parse(r.body), (json{{"code", c.name}, {"description", "what went wrong"}}));
  }
}

TEST(ApiErrors, StacAnswersWithoutASocket) {
  test::TempDir dir;
  auto store = catalog::open_sqlite_store(dir.path());
  store->put_collection(catalog::new_collection("open", "", "", ""));
  json hidden = catalog::new_collection("hidden", "", "", "");
  hidden["sco:visibility"] = "private";
  store->put_collection(hidden);
  const server::StacApi api(*store);
  const auto call = [&](const std::string& path, std::map<std::string, std::string> query = {}) {
    server::ApiRequest r;
    r.path = path;
    r.query = std::move(query);
    r.base_url = "http://node";
    return api.handle(r);
  };
  EXPECT_EQ(call("/stac/collections/open").status, 200);
  const auto missing = call("/stac/collections/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(missing.body)["code"], "NotFound");
  EXPECT_EQ(call("/stac/collections/hidden").status, 401);  // anonymous
  const auto bad_date = call("/stac/search", {{"datetime", "2020-02-30"}});
  EXPECT_EQ(bad_date.status, 400);
  EXPECT_NE(json::parse(bad_date.body)["description"].get<std::string>().find("datetime"), std::string::npos);
  const auto bad_box = call("/stac/search", {{"bbox", "0,0,nan,1"}});
  EXPECT_EQ(bad_box.status, 400);
  EXPECT_EQ(json::parse(bad_box.body)["code"], "InvalidParameterValue");
}
