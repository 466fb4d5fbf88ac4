#include "run/context.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/error.hpp"
#include "cube/cf_time.hpp"
#include "zonal/statistic.hpp"

namespace sco::run {

using core::ErrorCode;

void RunContext::warn(const std::string& w) {
  if (std::find(warnings.begin(), warnings.end(), w) == warnings.end()) warnings.push_back(w);
}

io::OutputSpec RunContext::raster_spec(const indicators::Step& st) const {
  io::OutputSpec spec;
  spec.path = ((st.output ? staging : work) / (st.id + ".tif")).string();
  spec.type = core::DataType::kFloat32;
  spec.nodata = std::nan("");
  spec.format = st.output ? io::OutputFormat::kCog : io::OutputFormat::kGTiff;
  spec.metadata = tags;
  spec.metadata.emplace_back("SCO_STEP", st.id + " (" + st.op + ")");
  if (!st.units.empty()) spec.metadata.emplace_back("SCO_UNITS", st.units);
  spec.band_description = st.title;
  return spec;
}

std::vector<std::size_t> RunContext::select(const indicators::Step& step, const indicators::Period& period, const char* field) const {
  const ResolvedInput& in = inputs.at(step.input);
  std::vector<std::size_t> idx;
  if (!period.given) {
    for (std::size_t i = 0; i < in.steps.size(); ++i) idx.push_back(i);
    return idx;
  }
  if (in.dates.empty()) {
    core::fail(ErrorCode::kInvalidInput,
               "recipe '{}': step '{}': field '{}': input '{}' has no dates (give a NetCDF time axis, NAME=FILE@YYYY-MM-DD or a "
               "date in each file name)",
               recipe.source, step.id, field, step.input);
  }
  for (std::size_t i = 0; i < in.dates.size(); ++i) {
    if (period.contains(in.dates[i])) idx.push_back(i);
  }
  if (idx.empty()) {
    core::fail(ErrorCode::kInvalidInput, "recipe '{}': step '{}': field '{}': {} is outside the data of input '{}' ({})", recipe.source, step.id,
               field, period.describe(), step.input, in.dates_text());
  }
  return idx;
}

std::vector<double> RunContext::years(const ResolvedInput& in, const std::vector<std::size_t>& idx, double per) const {
  return cube::decimal_years(in.dates, in.calendar, idx, per);
}

io::ResultTable RunContext::zonal_table(const std::vector<ZonalBand>& bands, std::vector<zonal::StatSpec> stats, const std::string& weights) {
  ZonalTableRequest req;
  req.bands = bands;
  req.stats = std::move(stats);
  if (!weights.empty()) req.weights = zonal_band("weights", weights, 1);
  req.id_column = zones.vector().id_field;
  ExecOptions quiet = exec;
  quiet.terminal_progress = false;
  ZonalTable t = compute_zonal_table(zones, req, quiet);
  for (const auto& w : t.warnings) warn(w);
  return std::move(t.table);
}

std::vector<double> RunContext::column(const std::string& step, const std::string& name) const {
  return table_column(tables.at(step).table, name);
}

std::vector<double> table_column(const io::ResultTable& t, const std::string& name) {
  const auto it = std::find(t.columns.begin(), t.columns.end(), name);
  if (it == t.columns.end()) core::fail(ErrorCode::kInternal, "no column '{}'", name);
  std::vector<double> v;
  for (const auto& row : t.rows) v.push_back(row[static_cast<std::size_t>(it - t.columns.begin())]);
  return v;
}

void add_column(io::ResultTable& t, const std::string& name, const std::vector<double>& v) {
  t.columns.push_back(name);
  for (std::size_t i = 0; i < t.rows.size(); ++i) t.rows[i].push_back(v[i]);
}

void add_text_column(io::ResultTable& t, const std::string& name, const std::vector<std::string>& v) {
  t.text_columns.push_back(name);
  t.text_rows.resize(t.rows.size());
  for (std::size_t i = 0; i < t.rows.size(); ++i) t.text_rows[i].push_back(v[i]);
}

}  // namespace sco::run
