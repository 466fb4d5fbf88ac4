#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <string>
#include <vector>
#include <sstream>

#include "algebra/expression.hpp"
#include "algebra/spectral_index.hpp"

using namespace sco::algebra;

TEST(SpectralIndex, RegistryHasTheEightIndices) {
  for (const char* id : {"ndvi", "evi", "savi", "ndwi", "mndwi", "ndbi", "nbr", "ndmi"}) {
    const SpectralIndex* i = find_index(id);
    ASSERT_NE(i, nullptr) << id;
    // Every formula parses and uses exactly its declared roles (parameters substituted).
    const auto names = referenced_inputs(parse_expression(index_expression(*i, {})));
    EXPECT_EQ(names.size(), i->roles.size()) << id;
  }
  EXPECT_EQ(find_index("ndsi"), nullptr);
}

TEST(SpectralIndex, ParametersSubstituteAndOverride) {
  EXPECT_EQ(index_expression(*find_index("savi"), {}), "(((1 + 0.5) * (nir - red)) / ((nir + red) + 0.5))");
  EXPECT_EQ(index_expression(*find_index("savi"), {{"L", 0.25}}), "(((1 + 0.25) * (nir - red)) / ((nir + red) + 0.25))");
  EXPECT_THROW(index_expression(*find_index("ndvi"), {{"L", 1}}), sco::core::Error);
}

TEST(SpectralIndex, SensorLayoutsByBandCount) {
  const Sensor* l7 = find_sensor("landsat7");
  ASSERT_NE(l7, nullptr);
  EXPECT_EQ(find_sensor("landsat5"), l7);
  // The sample scene's 6-band stack: SWIR2 (B7) is the 6th band.
  const SensorLayout* six = find_layout(*l7, 6);
  ASSERT_NE(six, nullptr);
  for (const auto& [role, band] : six->bands) {
    if (role == BandRole::kSwir2) {
      EXPECT_EQ(band, 6);
    }
  }
  const SensorLayout* s2 = find_layout(*find_sensor("sentinel2"), 12);
  ASSERT_NE(s2, nullptr);
  for (const auto& [role, band] : s2->bands) {
    if (role == BandRole::kNir) {
      EXPECT_EQ(band, 8);
    }
    if (role == BandRole::kSwir1) {
      EXPECT_EQ(band, 11);
    }
  }
  EXPECT_EQ(find_layout(*l7, 3), nullptr);
}

TEST(SpectralIndex, DocsPageIsInSyncWithRegistry) {
  std::ifstream f(std::string(SCO_SOURCE_DIR) + "/docs/indices.md");
  ASSERT_TRUE(f) << "docs/indices.md is missing";
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(ss.str(), indices_markdown()) << "regenerate with: sco index --list --markdown > docs/indices.md";
}

// The band names of every layout agree with its roles: the band a role points at has that role's
// STAC common name (nir08 counts as nir: Landsat 8's NIR band), and lies in that role's part of the
// spectrum. A layout names one band per position.
TEST(SpectralIndex, LayoutBandNamesAgreeWithRolesAndWavelengths) {
  const std::map<BandRole, std::vector<std::string>> common{
      {BandRole::kBlue, {"blue"}}, {BandRole::kGreen, {"green"}}, {BandRole::kRed, {"red"}},
      {BandRole::kNir, {"nir", "nir08"}}, {BandRole::kSwir1, {"swir16"}}, {BandRole::kSwir2, {"swir22"}}};
  // Approximate limits (micrometres) of each role's region of the spectrum.
  const std::map<BandRole, std::pair<double, double>> region{
      {BandRole::kBlue, {0.43, 0.53}}, {BandRole::kGreen, {0.52, 0.60}}, {BandRole::kRed, {0.62, 0.70}},
      {BandRole::kNir, {0.76, 0.91}},  {BandRole::kSwir1, {1.5, 1.8}},   {BandRole::kSwir2, {2.0, 2.4}}};
  for (const auto& sensor : sensors()) {
    for (const auto& layout : sensor.layouts) {
      ASSERT_EQ(static_cast<int>(layout.names.size()), layout.band_count) << sensor.id << " " << layout.band_count;
      const auto bands = layout_bands(sensor, layout);
      for (std::size_t k = 0; k < bands.size(); ++k) {
        if (std::string(layout.names[k]).empty()) continue;
        ASSERT_NE(bands[k], nullptr) << sensor.id << " names " << layout.names[k] << ", which it does not define";
        EXPECT_LT(bands[k]->lo_um, bands[k]->hi_um) << sensor.id << " " << bands[k]->name;
      }
      for (const auto& [role, position] : layout.bands) {
        const SpectralBand* b = bands.at(static_cast<std::size_t>(position - 1));
        ASSERT_NE(b, nullptr) << sensor.id << " " << layout.band_count << " bands, role " << role_name(role);
        const auto& names = common.at(role);
        EXPECT_NE(std::find(names.begin(), names.end(), b->common_name), names.end())
            << sensor.id << " " << layout.band_count << " bands: " << role_name(role) << " -> " << b->name << " (" << b->common_name << ")";
        const double centre = (b->lo_um + b->hi_um) / 2;
        EXPECT_GT(centre, region.at(role).first) << sensor.id << " " << b->name;
        EXPECT_LT(centre, region.at(role).second) << sensor.id << " " << b->name;
      }
    }
  }
  // The sample scene's layout: B1 B2 B3 B4 B5 B7, B4 from 0.77 to 0.90 um (USGS).
  const Sensor* l7 = find_sensor("landsat7");
  const auto six = layout_bands(*l7, *find_layout(*l7, 6));
  ASSERT_EQ(six.size(), 6u);
  EXPECT_STREQ(six[3]->name, "B4");
  EXPECT_DOUBLE_EQ(six[3]->lo_um, 0.77);
  EXPECT_DOUBLE_EQ(six[3]->hi_um, 0.90);
  EXPECT_STREQ(six[5]->name, "B7");
}
