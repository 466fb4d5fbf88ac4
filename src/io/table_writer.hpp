#pragma once
// Writes per-zone results: CSV (numbers only), GeoJSON (RFC 7946, WGS 84) or GeoPackage (the zones'
// CRS), the last two with each zone's geometry. Written under a temporary name and renamed when
// complete. NaN values are written as empty cells / nulls.
#include <string>
#include <vector>

namespace sco::io {

struct VectorZones;

struct ResultTable {
  std::string id_column = "id";
  std::vector<std::string> columns;
  std::vector<std::string> ids;
  std::vector<std::vector<double>> rows;  // rows[i][j]: zone i, column j
  // Text columns (e.g. a class label), written after the numeric ones.
  std::vector<std::string> text_columns;
  std::vector<std::vector<std::string>> text_rows;  // text_rows[i][j]: zone i, text column j
};

// The format follows the extension: .csv, .geojson / .json, .gpkg; anything else is an error.
void check_table_path(const std::string& path);
void write_table(const ResultTable& table, const std::string& path, const VectorZones& zones);

}  // namespace sco::io
