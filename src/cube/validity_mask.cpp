#include "cube/validity_mask.hpp"

#include <algorithm>
#include <cmath>

namespace sco::cube {

namespace {

bool quality_ok(const core::BlockView& q, int x, int y, const std::vector<double>& valid, std::uint32_t clear_bits) {
  const double v = q.value_at(x, y);
  if (v != v || (q.nodata && v == *q.nodata)) return false;
  if (clear_bits) {
    if (!(v >= 0.0 && v <= 4294967295.0) || v != std::floor(v)) return false;
    if (static_cast<std::uint32_t>(v) & clear_bits) return false;
    return valid.empty() || std::find(valid.begin(), valid.end(), v) != valid.end();
  }
  if (valid.empty()) return v != 0.0;
  return std::find(valid.begin(), valid.end(), v) != valid.end();
}

bool static_ok(const core::BlockView& m, int x, int y) {
  const double v = m.value_at(x, y);
  return v == v && v != 0.0 && !(m.nodata && v == *m.nodata) && !(m.mask && m.mask[static_cast<std::ptrdiff_t>(y) * m.mask_pitch + x] == 0);
}

}  // namespace

void apply_validity(std::vector<core::BlockView>& steps, std::span<const core::BlockView> quality, const core::BlockView* static_mask,
                    const std::vector<double>& quality_valid, int w, int h, std::vector<std::uint8_t>& storage,
                    std::uint32_t clear_bits) {
  const std::size_t cells = static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
  storage.resize(steps.size() * cells);
  for (std::size_t k = 0; k < steps.size(); ++k) {
    std::uint8_t* m = storage.data() + k * cells;
    const core::BlockView& b = steps[k];
    const core::BlockView* q = quality.empty() ? nullptr : &quality[k];
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        bool ok = !b.mask || b.mask[static_cast<std::ptrdiff_t>(y) * b.mask_pitch + x] != 0;
        if (q) ok = ok && quality_ok(*q, x, y, quality_valid, clear_bits);
        if (static_mask) ok = ok && static_ok(*static_mask, x, y);
        m[static_cast<std::ptrdiff_t>(y) * w + x] = ok ? 1 : 0;
      }
    }
    steps[k].mask = m;
    steps[k].mask_pitch = w;
  }
}

}  // namespace sco::cube
