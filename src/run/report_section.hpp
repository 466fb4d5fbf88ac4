#pragma once
// A table step's section of the run's report: the table, a map of the districts (over the step's
// raster when it has one), notes on districts poorly covered by valid pixels.
#include "indicators/report.hpp"
#include "run/context.hpp"

namespace sco::run {

indicators::ReportTable report_section(RunContext& ctx, const indicators::Step& step, const TableProduct& product, const std::string& palette);

// The report's header from the recipe.
indicators::ReportModel report_model(const indicators::Recipe& recipe, const std::string& area_of_interest);

}  // namespace sco::run
