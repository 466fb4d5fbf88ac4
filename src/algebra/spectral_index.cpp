#include "algebra/spectral_index.hpp"

#include <fmt/format.h>

#include "algebra/expression.hpp"
#include "core/error.hpp"

namespace sco::algebra {

const char* role_name(BandRole role) {
  switch (role) {
    case BandRole::kBlue: return "blue";
    case BandRole::kGreen: return "green";
    case BandRole::kRed: return "red";
    case BandRole::kNir: return "nir";
    case BandRole::kSwir1: return "swir1";
    case BandRole::kSwir2: return "swir2";
  }
  return "?";
}

std::optional<BandRole> parse_role(std::string_view name) {
  for (BandRole r : {BandRole::kBlue, BandRole::kGreen, BandRole::kRed, BandRole::kNir, BandRole::kSwir1,
                     BandRole::kSwir2}) {
    if (name == role_name(r)) return r;
  }
  return std::nullopt;
}

const std::vector<SpectralIndex>& spectral_indices() {
  using R = BandRole;
  static const std::vector<SpectralIndex> table = {
      {"ndvi", "Normalized Difference Vegetation Index", "(nir - red) / (nir + red)", {R::kNir, R::kRed}, {},
       "-1 to 1; dense green vegetation above 0.6, bare soil near 0.1, water below 0",
       "Rouse, J.W., Haas, R.H., Schell, J.A., Deering, D.W. (1974). Monitoring vegetation systems in the "
       "Great Plains with ERTS. NASA SP-351, 309-317.",
       false},
      {"evi", "Enhanced Vegetation Index", "G * (nir - red) / (nir + C1 * red - C2 * blue + L)",
       {R::kNir, R::kRed, R::kBlue},
       {{"G", 2.5, "gain"},
        {"C1", 6.0, "red aerosol-resistance coefficient"},
        {"C2", 7.5, "blue aerosol-resistance coefficient"},
        {"L", 1.0, "canopy background adjustment"}},
       "-1 to 1 for vegetation (about 0.2 to 0.8)",
       "Huete, A., Didan, K., Miura, T., Rodriguez, E.P., Gao, X., Ferreira, L.G. (2002). Overview of the "
       "radiometric and biophysical performance of the MODIS vegetation indices. Remote Sensing of "
       "Environment 83, 195-213.",
       true},
      {"savi", "Soil-Adjusted Vegetation Index", "(1 + L) * (nir - red) / (nir + red + L)", {R::kNir, R::kRed},
       {{"L", 0.5, "soil brightness correction (0 = NDVI, 1 = sparse vegetation)"}},
       "-1 to 1",
       "Huete, A.R. (1988). A soil-adjusted vegetation index (SAVI). Remote Sensing of Environment 25, "
       "295-309.",
       true},
      {"ndwi", "Normalized Difference Water Index (McFeeters)", "(green - nir) / (green + nir)",
       {R::kGreen, R::kNir}, {}, "-1 to 1; open water above 0",
       "McFeeters, S.K. (1996). The use of the Normalized Difference Water Index (NDWI) in the delineation "
       "of open water features. International Journal of Remote Sensing 17(7), 1425-1432.",
       false},
      {"mndwi", "Modified Normalized Difference Water Index (Xu)", "(green - swir1) / (green + swir1)",
       {R::kGreen, R::kSwir1}, {}, "-1 to 1; open water above 0, built-up land suppressed",
       "Xu, H. (2006). Modification of normalised difference water index (NDWI) to enhance open water "
       "features in remotely sensed imagery. International Journal of Remote Sensing 27(14), 3025-3033.",
       false},
      {"ndbi", "Normalized Difference Built-up Index", "(swir1 - nir) / (swir1 + nir)", {R::kSwir1, R::kNir}, {},
       "-1 to 1; built-up and bare land above 0",
       "Zha, Y., Gao, J., Ni, S. (2003). Use of normalized difference built-up index in automatically "
       "mapping urban areas from TM imagery. International Journal of Remote Sensing 24(3), 583-594.",
       false},
      {"nbr", "Normalized Burn Ratio", "(nir - swir2) / (nir + swir2)", {R::kNir, R::kSwir2}, {},
       "-1 to 1; healthy vegetation high, recent burns low; dNBR = NBR(pre) - NBR(post)",
       "Key, C.H., Benson, N.C. (2006). Landscape assessment: ground measure of severity, the Composite "
       "Burn Index; and remote sensing of severity, the Normalized Burn Ratio. USDA Forest Service "
       "RMRS-GTR-164-CD, LA 1-51.",
       false},
      {"ndmi", "Normalized Difference Moisture Index", "(nir - swir1) / (nir + swir1)", {R::kNir, R::kSwir1}, {},
       "-1 to 1; canopy water content, higher is wetter",
       "Gao, B.-C. (1996). NDWI - A normalized difference water index for remote sensing of vegetation "
       "liquid water from space. Remote Sensing of Environment 58, 257-266; Wilson, E.H., Sader, S.A. "
       "(2002). Remote Sensing of Environment 80, 385-396.",
       false},
  };
  return table;
}

const SpectralIndex* find_index(std::string_view id) {
  for (const auto& i : spectral_indices()) {
    if (id == i.id) return &i;
  }
  return nullptr;
}

std::string index_expression(const SpectralIndex& index, const std::vector<std::pair<std::string, double>>& parameter_overrides) {
  return to_string(index_tree(index, parameter_overrides));
}

Expr index_tree(const SpectralIndex& index, const std::vector<std::pair<std::string, double>>& parameter_overrides) {
  // Substitute parameters by rewriting the parsed tree, not the text, so that names such as "L" can
  // never clash with parts of other names.
  for (const auto& [name, value] : parameter_overrides) {
    bool known = false;
    for (const auto& p : index.parameters) known = known || name == p.name;
    if (!known) {
      std::string names;
      for (const auto& p : index.parameters) names += (names.empty() ? "" : ", ") + std::string(p.name);
      core::fail(core::ErrorCode::kInvalidInput, "index '{}' has no parameter '{}' (parameters: {})", index.id,
                 name, names.empty() ? "none" : names);
    }
  }
  Expr expr = parse_expression(index.formula);
  auto value_of = [&](const std::string& name) -> std::optional<double> {
    for (const auto& [n, v] : parameter_overrides) {
      if (n == name) return v;
    }
    for (const auto& p : index.parameters) {
      if (name == p.name) return p.default_value;
    }
    return std::nullopt;
  };
  auto rewrite = [&](auto& self, Expr& e) -> void {
    if (e.kind == Expr::Kind::kInput) {
      if (auto v = value_of(e.name)) {
        e.kind = Expr::Kind::kNumber;
        e.number = *v;
      }
    }
    for (auto& a : e.args) self(self, a);
  };
  rewrite(rewrite, expr);
  return expr;
}

const std::vector<Sensor>& sensors() {
  using R = BandRole;
  static const std::vector<Sensor> table = {
      {"landsat7",
       {"landsat5", "landsat4", "tm", "etm"},
       "Landsat 4-5 TM / Landsat 7 ETM+",
       {{6, {{R::kBlue, 1}, {R::kGreen, 2}, {R::kRed, 3}, {R::kNir, 4}, {R::kSwir1, 5}, {R::kSwir2, 6}},
         "the six reflective bands B1 B2 B3 B4 B5 B7 (thermal B6 left out)",
         {"B1", "B2", "B3", "B4", "B5", "B7"}},
        {7, {{R::kBlue, 1}, {R::kGreen, 2}, {R::kRed, 3}, {R::kNir, 4}, {R::kSwir1, 5}, {R::kSwir2, 7}},
         "bands B1 to B7 in order (B6 thermal)",
         {"B1", "B2", "B3", "B4", "B5", "B6", "B7"}},
        {8, {{R::kBlue, 1}, {R::kGreen, 2}, {R::kRed, 3}, {R::kNir, 4}, {R::kSwir1, 5}, {R::kSwir2, 7}},
         "bands B1 to B8 in order (B6 thermal, B8 panchromatic resampled)",
         {"B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8"}}},
       // Landsat 7 ETM+ band edges (USGS Landsat 7 Data Users Handbook); TM differs by 0.01 um on B4.
       {{"B1", "blue", 0.45, 0.52},
        {"B2", "green", 0.52, 0.60},
        {"B3", "red", 0.63, 0.69},
        {"B4", "nir", 0.77, 0.90},
        {"B5", "swir16", 1.55, 1.75},
        {"B6", "lwir", 10.40, 12.50},
        {"B7", "swir22", 2.08, 2.35},
        {"B8", "pan", 0.52, 0.90}}},
      {"landsat8",
       {"landsat9", "oli"},
       "Landsat 8-9 OLI",
       {{7, {{R::kBlue, 2}, {R::kGreen, 3}, {R::kRed, 4}, {R::kNir, 5}, {R::kSwir1, 6}, {R::kSwir2, 7}},
         "bands B1 (coastal) to B7 in order",
         {"B1", "B2", "B3", "B4", "B5", "B6", "B7"}},
        {8, {{R::kBlue, 2}, {R::kGreen, 3}, {R::kRed, 4}, {R::kNir, 5}, {R::kSwir1, 6}, {R::kSwir2, 7}},
         "bands B1 to B7 plus one more (B8 or QA) at the end",
         {"B1", "B2", "B3", "B4", "B5", "B6", "B7", ""}},
        {11, {{R::kBlue, 2}, {R::kGreen, 3}, {R::kRed, 4}, {R::kNir, 5}, {R::kSwir1, 6}, {R::kSwir2, 7}},
         "bands B1 to B11 in order",
         {"B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10", "B11"}}},
       // Landsat 8-9 OLI and TIRS band edges (USGS Landsat 8 Data Users Handbook).
       {{"B1", "coastal", 0.43, 0.45},
        {"B2", "blue", 0.45, 0.51},
        {"B3", "green", 0.53, 0.59},
        {"B4", "red", 0.64, 0.67},
        {"B5", "nir08", 0.85, 0.88},
        {"B6", "swir16", 1.57, 1.65},
        {"B7", "swir22", 2.11, 2.29},
        {"B8", "pan", 0.50, 0.68},
        {"B9", "cirrus", 1.36, 1.38},
        {"B10", "lwir11", 10.60, 11.19},
        {"B11", "lwir12", 11.50, 12.51}}},
      {"sentinel2",
       {"s2", "msi"},
       "Sentinel-2 MSI",
       {{13, {{R::kBlue, 2}, {R::kGreen, 3}, {R::kRed, 4}, {R::kNir, 8}, {R::kSwir1, 12}, {R::kSwir2, 13}},
         "L1C order B1 B2 B3 B4 B5 B6 B7 B8 B8A B9 B10 B11 B12",
         {"B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B10", "B11", "B12"}},
        {12, {{R::kBlue, 2}, {R::kGreen, 3}, {R::kRed, 4}, {R::kNir, 8}, {R::kSwir1, 11}, {R::kSwir2, 12}},
         "L2A order B1 B2 B3 B4 B5 B6 B7 B8 B8A B9 B11 B12 (no B10)",
         {"B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B11", "B12"}},
        {10, {{R::kBlue, 1}, {R::kGreen, 2}, {R::kRed, 3}, {R::kNir, 7}, {R::kSwir1, 9}, {R::kSwir2, 10}},
         "the 10 m and 20 m bands B2 B3 B4 B5 B6 B7 B8 B8A B11 B12",
         {"B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B11", "B12"}},
        {4, {{R::kBlue, 1}, {R::kGreen, 2}, {R::kRed, 3}, {R::kNir, 4}},
         "the 10 m bands B2 B3 B4 B8",
         {"B2", "B3", "B4", "B8"}}},
       // Sentinel-2A MSI: central wavelength -/+ half the bandwidth (ESA, Sentinel-2 User Handbook).
       {{"B1", "coastal", 0.4427 - 0.0105, 0.4427 + 0.0105},
        {"B2", "blue", 0.4924 - 0.033, 0.4924 + 0.033},
        {"B3", "green", 0.5598 - 0.018, 0.5598 + 0.018},
        {"B4", "red", 0.6646 - 0.0155, 0.6646 + 0.0155},
        {"B5", "rededge", 0.7041 - 0.0075, 0.7041 + 0.0075},
        {"B6", "rededge", 0.7405 - 0.0075, 0.7405 + 0.0075},
        {"B7", "rededge", 0.7828 - 0.010, 0.7828 + 0.010},
        {"B8", "nir", 0.8328 - 0.053, 0.8328 + 0.053},
        {"B8A", "nir08", 0.8647 - 0.0105, 0.8647 + 0.0105},
        {"B9", "nir09", 0.9451 - 0.010, 0.9451 + 0.010},
        {"B10", "cirrus", 1.3735 - 0.0155, 1.3735 + 0.0155},
        {"B11", "swir16", 1.6137 - 0.0455, 1.6137 + 0.0455},
        {"B12", "swir22", 2.2024 - 0.0875, 2.2024 + 0.0875}}},
  };
  return table;
}

const Sensor* find_sensor(std::string_view id) {
  for (const auto& s : sensors()) {
    if (id == s.id) return &s;
    for (const auto& a : s.aliases) {
      if (id == a) return &s;
    }
  }
  return nullptr;
}

std::vector<const SpectralBand*> layout_bands(const Sensor& sensor, const SensorLayout& layout) {
  std::vector<const SpectralBand*> out;
  for (const char* name : layout.names) {
    const SpectralBand* found = nullptr;
    for (const auto& b : sensor.spectral) {
      if (std::string_view(b.name) == name) found = &b;
    }
    out.push_back(found);
  }
  return out;
}

const SensorLayout* find_layout(const Sensor& sensor, int band_count) {
  for (const auto& l : sensor.layouts) {
    if (l.band_count == band_count) return &l;
  }
  return nullptr;
}

std::string indices_markdown() {
  std::string md =
      "# Spectral indices\n\n"
      "Generated from sco's index registry (`sco index --list --markdown`); a test keeps this page in\n"
      "sync with the code. Each index is a band-math expression over band roles; `sco index NAME` resolves\n"
      "the roles from `--sensor` or from `--band ROLE=FILE:BAND`, and `--param NAME=VALUE` overrides a\n"
      "parameter. Pixels where any band is nodata, or where the denominator is zero, are nodata.\n\n";
  for (const auto& i : spectral_indices()) {
    md += fmt::format("## `{}` — {}\n\n", i.id, i.title);
    md += fmt::format("- Formula: `{}`\n", i.formula);
    std::string roles;
    for (auto r : i.roles) roles += (roles.empty() ? "" : ", ") + std::string(role_name(r));
    md += fmt::format("- Bands: {}\n", roles);
    for (const auto& p : i.parameters) {
      md += fmt::format("- Parameter `{}` = {} ({})\n", p.name, p.default_value, p.meaning);
    }
    md += fmt::format("- Range: {}\n", i.range);
    if (i.needs_reflectance) {
      md += "- Needs surface reflectance in 0..1: scale digital numbers with `--scale` and `--offset`\n"
            "  (or band scale/offset metadata), else the constants are meaningless.\n";
    }
    md += fmt::format("- Reference: {}\n\n", i.reference);
  }
  md += "# Sensors\n\nBand positions by the number of bands in the file (1-based).\n\n";
  md += "| sensor | aliases | bands in file | blue | green | red | nir | swir1 | swir2 | layout |\n";
  md += "|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& s : sensors()) {
    std::string aliases;
    for (const auto& a : s.aliases) aliases += (aliases.empty() ? "" : ", ") + a;
    for (const auto& l : s.layouts) {
      std::string cells;
      for (BandRole r : {BandRole::kBlue, BandRole::kGreen, BandRole::kRed, BandRole::kNir, BandRole::kSwir1,
                         BandRole::kSwir2}) {
        std::string v = "-";
        for (const auto& [role, band] : l.bands) {
          if (role == r) v = std::to_string(band);
        }
        cells += " " + v + " |";
      }
      md += fmt::format("| {} | {} | {} |{} {} |\n", s.id, aliases, l.band_count, cells, l.description);
    }
  }
  return md;
}

}  // namespace sco::algebra
