#pragma once
// The self-contained HTML report of a recipe run, for decision-makers: per indicator a map picture
// (the raster with the districts' outlines, and the districts coloured by their figure), a bar chart,
// the table with classes, the trend and its significance when the recipe computes one, data-quality
// notes (valid-pixel share) and the provenance. One file, no external resource (pictures are inlined
// as data: URIs), printable.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "zonal/coverage.hpp"

namespace sco::indicators {

using Palette = std::array<std::array<std::uint8_t, 3>, 256>;
// Palettes by name: "heat" (yellow to red), "water" (white to blue), "vegetation" (brown to green),
// "burn" (green to dark red), "urban" (light to dark grey-violet), "diverging" (blue, white, red),
// anything else "sequential" (a perceptually ordered blue-green-yellow).
const Palette& palette(const std::string& name);
std::string palette_for_category(const std::string& category);

struct ReportMap {
  std::string png;  // the raster's picture, may be empty (then only the district colours)
  int width = 0, height = 0;
  double low = 0, high = 0;
  std::string palette;
  std::vector<std::string> zone_paths;  // SVG path data per district, in picture pixels
};

// SVG path data of `zone` (in the CRS of a grid with geotransform `t`, `grid_w` x `grid_h` cells)
// drawn in a picture of `pic_w` x `pic_h` pixels covering that grid.
std::string zone_svg_path(const zonal::Zone& zone, const std::array<double, 6>& t, int grid_w, int grid_h, int pic_w, int pic_h);

struct ReportTable {
  std::string step, op, title, units, description;
  std::string id_column;
  std::vector<std::string> ids;
  std::vector<std::string> columns;
  std::vector<std::vector<double>> rows;
  std::vector<std::string> text_columns;
  std::vector<std::vector<std::string>> text_rows;
  std::string main_column;  // the figure mapped and charted
  ReportMap map;
  std::vector<std::string> notes;
};

struct ReportModel {
  std::string title, recipe_id, recipe_version, description, category;
  std::vector<std::string> references;
  std::string area_of_interest;
  std::vector<ReportTable> tables;
  std::vector<std::pair<std::string, std::string>> rasters;  // title, file name
  std::vector<std::string> warnings;
  nlohmann::json provenance;
};

std::string render_report(const ReportModel& model);

}  // namespace sco::indicators
