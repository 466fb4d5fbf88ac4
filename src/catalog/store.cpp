#include "catalog/store.hpp"

namespace sco::catalog {

using nlohmann::json;

std::pair<std::string, std::string> item_interval(const json& item) {
  const json& p = item.at("properties");
  if (p.contains("datetime") && p["datetime"].is_string()) return {p["datetime"], p["datetime"]};
  return {p.value("start_datetime", std::string()), p.value("end_datetime", std::string())};
}

void set_extent(json& collection, const std::array<double, 4>& box, const std::string& start, const std::string& end) {
  const json bbox = json::array({box[0], box[1], box[2], box[3]});
  collection["extent"] = {{"spatial", {{"bbox", json::array({bbox})}}}, {"temporal", {{"interval", json::array({json::array({start, end})})}}}};
}

}  // namespace sco::catalog
