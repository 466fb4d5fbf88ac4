#include "render/colormap.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <mutex>

#include "core/error.hpp"

namespace sco::render {

namespace {

using Stop = std::array<int, 3>;

ColourTable build(const std::vector<Stop>& stops, bool reverse) {
  ColourTable t{};
  for (int i = 0; i < 256; ++i) {
    const double pos = (reverse ? 255 - i : i) / 255.0 * static_cast<double>(stops.size() - 1);
    const std::size_t k = std::min(static_cast<std::size_t>(pos), stops.size() - 2);
    const double f = pos - static_cast<double>(k);
    for (std::size_t c = 0; c < 3; ++c) {
      t[static_cast<std::size_t>(i)][c] = static_cast<std::uint8_t>(std::lround(stops[k][c] * (1 - f) + stops[k + 1][c] * f));
    }
  }
  return t;
}

const std::map<std::string, std::vector<Stop>>& stops() {
  static const std::map<std::string, std::vector<Stop>> s = {
      // matplotlib viridis / magma at 0, 1/8, ..., 1.
      {"viridis", {{68, 1, 84}, {71, 44, 122}, {59, 81, 139}, {44, 113, 142}, {33, 144, 141}, {39, 173, 129}, {92, 200, 99}, {170, 220, 50}, {253, 231, 37}}},
      {"magma", {{0, 0, 4}, {28, 16, 68}, {79, 18, 123}, {129, 37, 129}, {181, 54, 122}, {229, 80, 100}, {251, 135, 97}, {254, 194, 135}, {252, 253, 191}}},
      // ColorBrewer (Brewer, Pennsylvania State University), 11-class diverging / 9-class sequential.
      {"rdylgn", {{165, 0, 38}, {215, 48, 39}, {244, 109, 67}, {253, 174, 97}, {254, 224, 139}, {255, 255, 191}, {217, 239, 139}, {166, 217, 106}, {102, 189, 99}, {26, 152, 80}, {0, 104, 55}}},
      {"brbg", {{84, 48, 5}, {140, 81, 10}, {191, 129, 45}, {223, 194, 125}, {246, 232, 195}, {245, 245, 245}, {199, 234, 229}, {128, 205, 193}, {53, 151, 143}, {1, 102, 94}, {0, 60, 48}}},
      {"blues", {{247, 251, 255}, {222, 235, 247}, {198, 219, 239}, {158, 202, 225}, {107, 174, 214}, {66, 146, 198}, {33, 113, 181}, {8, 81, 156}, {8, 48, 107}}},
      {"greys", {{0, 0, 0}, {255, 255, 255}}},
  };
  return s;
}

}  // namespace

std::vector<std::string> colormap_names() {
  std::vector<std::string> names;
  for (const auto& [k, v] : stops()) names.push_back(k);
  return names;
}

const ColourTable& colormap(const std::string& requested) {
  static std::mutex mutex;
  static std::map<std::string, ColourTable> built;
  std::string name = requested;
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (name == "gray" || name == "grey") name = "greys";
  const bool reverse = name.size() > 2 && name.ends_with("_r");
  const std::string base = reverse ? name.substr(0, name.size() - 2) : name;
  const auto it = stops().find(base);
  if (it == stops().end()) {
    std::string known;
    for (const auto& n : colormap_names()) known += (known.empty() ? "" : ", ") + n;
    core::fail(core::ErrorCode::kInvalidInput, "colormap: unknown map '{}' (maps: {}; add _r to reverse)", requested, known);
  }
  std::lock_guard lock(mutex);
  auto [pos, inserted] = built.try_emplace(name);
  if (inserted) pos->second = build(it->second, reverse);
  return pos->second;
}

}  // namespace sco::render
