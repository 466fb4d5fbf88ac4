// Stored items served as text: links replaced, everything else copied; the full path when needed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/item_text.hpp"

using namespace sco;
using nlohmann::json;

namespace {
std::string links_of(std::string_view id, std::string_view coll) {
  return json::array({{{"rel", "self"}, {"href", "http://n/stac/collections/" + std::string(coll) + "/items/" + std::string(id)}}}).dump();
}
}  // namespace

TEST(ItemText, ReplacesLinksAndKeepsEverythingElse) {
  const json item = {{"type", "Feature"}, {"id", "g7"}, {"collection", "scenes"}, {"bbox", {1.5, 2, 3, 4}},
                     {"properties", {{"datetime", "2020-01-01T00:00:00Z"}, {"note", "a \"quoted\" } brace"}}},
                     {"links", {{{"rel", "self"}, {"href", "old"}}}},
                     {"assets", {{"data", {{"href", "https://partner.example/a.tif"}, {"type", "image/tiff"}}}}}};
  for (const std::string& doc : {item.dump(), item.dump(2)}) {  // compact, and indented as another writer may store it
    const auto text = server::served_item_text(doc, links_of);
    ASSERT_TRUE(text.has_value());
    json want = item;
    want["links"] = json::parse(links_of("g7", "scenes"));
    EXPECT_EQ(json::parse(*text), want);
  }
}

TEST(ItemText, FallsBackWhenMoreMustChange) {
  // A local asset path becomes an /assets URL: that takes the full path.
  json local = {{"id", "a"}, {"collection", "c"}, {"assets", {{"data", {{"href", "/data/a.tif"}}}}}};
  EXPECT_FALSE(server::served_item_text(local.dump(), links_of).has_value());
  // An id with an escape, and text that is not an object.
  EXPECT_FALSE(server::served_item_text(R"({"id":"a\"b","collection":"c"})", links_of).has_value());
  EXPECT_FALSE(server::served_item_text(R"({"id":"a","collection":)", links_of).has_value());
  EXPECT_FALSE(server::served_item_text("[1,2]", links_of).has_value());
  // No links and no assets: links are added.
  const auto text = server::served_item_text(R"({"id":"x","collection":"c"})", links_of);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(json::parse(*text)["links"][0]["href"], "http://n/stac/collections/c/items/x");
}
