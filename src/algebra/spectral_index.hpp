#pragma once
// The built-in spectral indices and the band layouts of the sensors sco knows. One registry feeds
// `sco index`, its --help and --list, and docs/indices.md (checked by a test to stay in sync).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "algebra/expression.hpp"

namespace sco::algebra {

// Band roles an index may need, named after the spectral region.
enum class BandRole { kBlue, kGreen, kRed, kNir, kSwir1, kSwir2 };
const char* role_name(BandRole role);
std::optional<BandRole> parse_role(std::string_view name);

struct IndexParameter {
  const char* name;
  double default_value;
  const char* meaning;
};

struct SpectralIndex {
  const char* id;          // "ndvi"
  const char* title;       // "Normalized Difference Vegetation Index"
  const char* formula;     // a band-math expression over role names and parameters
  std::vector<BandRole> roles;
  std::vector<IndexParameter> parameters;
  const char* range;       // expected range of values, for the docs
  const char* reference;   // the paper that defines it
  // True when the formula has constants that assume surface reflectance in 0..1 (EVI, SAVI):
  // digital numbers must be scaled first.
  bool needs_reflectance;
};

const std::vector<SpectralIndex>& spectral_indices();
const SpectralIndex* find_index(std::string_view id);

// The formula with parameters substituted, e.g. SAVI with L=0.5.
std::string index_expression(const SpectralIndex& index,
                             const std::vector<std::pair<std::string, double>>& parameter_overrides);
// The same as a tree, for evaluation without printing and parsing it again.
Expr index_tree(const SpectralIndex& index, const std::vector<std::pair<std::string, double>>& parameter_overrides);

// Where each role lies in a multi-band file of one sensor. Layouts are chosen by the file's band
// count, because stacks differ: a Landsat 7 stack of its six reflective bands puts SWIR2 (B7) at
// position 6, a full 8-band stack at 7; a Sentinel-2 L1C stack has 13 bands, L2A products 12 (no
// B10).
struct SensorLayout {
  int band_count;
  std::vector<std::pair<BandRole, int>> bands;  // role -> 1-based band number
  const char* description;
  std::vector<const char*> names;  // the sensor's band in each file position ("" where it varies)
};

// One band of a sensor: its name, its STAC eo common name, and its spectral range in micrometres
// (the band edges the instrument's documentation gives).
struct SpectralBand {
  const char* name;         // "B4"
  const char* common_name;  // "nir" (STAC eo extension v1.1)
  double lo_um, hi_um;
};

struct Sensor {
  const char* id;  // "landsat7"
  std::vector<std::string> aliases;
  const char* title;
  std::vector<SensorLayout> layouts;
  std::vector<SpectralBand> spectral;
};

// The sensor's band at each position of a file laid out as `layout` (nullptr where unknown).
std::vector<const SpectralBand*> layout_bands(const Sensor& sensor, const SensorLayout& layout);

const std::vector<Sensor>& sensors();
const Sensor* find_sensor(std::string_view id);
// The layout for a file with `band_count` bands, or nullptr when no layout matches.
const SensorLayout* find_layout(const Sensor& sensor, int band_count);

// A markdown page documenting every index and sensor (docs/indices.md).
std::string indices_markdown();

}  // namespace sco::algebra
