#pragma once
// Named colour maps for tiles: 256 RGB entries each, interpolated linearly between published
// control points (matplotlib's viridis and magma, ColorBrewer's RdYlGn, BrBG and Blues, and a grey
// ramp). The control points are facts of those definitions; the tables are built here.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace sco::render {

using ColourTable = std::array<std::array<std::uint8_t, 3>, 256>;

// Throws core::Error(kInvalidInput) naming the unknown map and listing the known ones. A trailing
// "_r" reverses a map (e.g. "rdylgn_r"). Names are case-insensitive.
const ColourTable& colormap(const std::string& name);
std::vector<std::string> colormap_names();

}  // namespace sco::render
