#include <gtest/gtest.h>

#include <fstream>
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
