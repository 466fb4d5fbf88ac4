#include "run/report_section.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "io/map_picture.hpp"

namespace sco::run {

indicators::ReportModel report_model(const indicators::Recipe& recipe, const std::string& area_of_interest) {
  indicators::ReportModel report;
  report.title = recipe.title;
  report.recipe_id = recipe.id;
  report.recipe_version = recipe.version;
  report.description = recipe.description;
  report.category = recipe.category;
  report.references = recipe.references;
  report.area_of_interest = area_of_interest;
  return report;
}

indicators::ReportTable report_section(RunContext& ctx, const indicators::Step& st, const TableProduct& product, const std::string& palette) {
  const io::ResultTable& table = product.table;
  indicators::ReportTable rt;
  rt.step = st.id;
  rt.op = st.op;
  rt.title = st.title;
  rt.units = st.units;
  rt.description = st.description;
  rt.id_column = table.id_column;
  rt.ids = table.ids;
  rt.columns = table.columns;
  rt.rows = table.rows;
  rt.text_columns = table.text_columns;
  rt.text_rows = table.text_rows;
  rt.main_column = product.main_column;
  rt.map.palette = palette;
  std::vector<std::string> zone_warnings;  // already said by the zonal steps
  const auto& zone_geoms = ctx.zones.for_grid(ctx.grid, zone_warnings);
  const core::Grid& grid = ctx.grid;
  if (!product.picture_raster.empty()) {
    const io::MapPicture pic = io::render_map_picture(product.picture_raster, indicators::palette(palette), 640, 0.0, 0.0, product.picture_band);
    rt.map.png = pic.png;
    rt.map.width = pic.width;
    rt.map.height = pic.height;
    rt.map.low = pic.low;
    rt.map.high = pic.high;
  } else {
    const double f = 640.0 / std::max(grid.width, grid.height);
    rt.map.width = std::max(1, static_cast<int>(std::lround(grid.width * f)));
    rt.map.height = std::max(1, static_cast<int>(std::lround(grid.height * f)));
  }
  for (const auto& z : zone_geoms) {
    rt.map.zone_paths.push_back(indicators::zone_svg_path(z, grid.transform, grid.width, grid.height, rt.map.width, rt.map.height));
  }
  if (std::find(table.columns.begin(), table.columns.end(), "valid_fraction") != table.columns.end()) {
    int low = 0;
    for (double v : table_column(table, "valid_fraction")) low += (v == v && v < 0.5) ? 1 : 0;
    if (low) {
      rt.notes.push_back(fmt::format("{} district{} with less than half of the area covered by valid pixels: read their figures with care", low,
                                     low == 1 ? "" : "s"));
    }
  }
  return rt;
}

}  // namespace sco::run
