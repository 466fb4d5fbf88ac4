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

// For a quality band of 8 or 16 bits: whether each possible value counts, once per call instead of a
// search per pixel.
bool quality_table(const core::BlockView& q, const std::vector<double>& valid, std::uint32_t clear_bits, std::vector<std::uint8_t>& table) {
  double lo = 0;
  std::size_t n = 0;
  switch (q.type) {
    case core::DataType::kByte: n = 256; break;
    case core::DataType::kUInt16: n = 65536; break;
    case core::DataType::kInt16: n = 65536; lo = -32768; break;
    default: return false;
  }
  table.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double v = lo + static_cast<double>(i);
    table[i] = !(q.nodata && v == *q.nodata) && (clear_bits ? (v >= 0 && !(static_cast<std::uint32_t>(v) & clear_bits) &&
                                                              (valid.empty() || std::find(valid.begin(), valid.end(), v) != valid.end()))
                                                           : valid.empty() ? v != 0.0 : std::find(valid.begin(), valid.end(), v) != valid.end());
  }
  return true;
}

// Row y of a quality band through its table.
void quality_row(const core::BlockView& q, int y, int w, const std::uint8_t* table, std::uint8_t* m) {
  const void* r = q.row(y);
  switch (q.type) {
    case core::DataType::kByte: {
      const auto* p = static_cast<const core::Unaligned<std::uint8_t>*>(r);
      for (int x = 0; x < w; ++x) m[x] &= table[p[x]];
      break;
    }
    case core::DataType::kUInt16: {
      const auto* p = static_cast<const core::Unaligned<std::uint16_t>*>(r);
      for (int x = 0; x < w; ++x) m[x] &= table[p[x]];
      break;
    }
    default: {
      const auto* p = static_cast<const core::Unaligned<std::int16_t>*>(r);
      for (int x = 0; x < w; ++x) m[x] &= table[static_cast<int>(p[x]) + 32768];
      break;
    }
  }
}

}  // namespace

void apply_validity(std::vector<core::BlockView>& steps, std::span<const core::BlockView> quality, const core::BlockView* static_mask,
                    const std::vector<double>& quality_valid, int w, int h, std::vector<std::uint8_t>& storage,
                    std::uint32_t clear_bits) {
  const std::size_t cells = static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
  storage.resize(steps.size() * cells);
  std::vector<std::uint8_t> table;
  for (std::size_t k = 0; k < steps.size(); ++k) {
    std::uint8_t* m = storage.data() + k * cells;
    const core::BlockView& b = steps[k];
    const core::BlockView* q = quality.empty() ? nullptr : &quality[k];
    if (q && !q->mask && quality_table(*q, quality_valid, clear_bits, table)) {
      // The fast path: the step's own mask, then the quality value's table entry, then the static mask.
      for (int y = 0; y < h; ++y) {
        std::uint8_t* row = m + static_cast<std::ptrdiff_t>(y) * w;
        for (int x = 0; x < w; ++x) row[x] = !b.mask || b.mask[static_cast<std::ptrdiff_t>(y) * b.mask_pitch + x] != 0;
        quality_row(*q, y, w, table.data(), row);
        if (static_mask) {
          for (int x = 0; x < w; ++x) row[x] = row[x] && static_ok(*static_mask, x, y);
        }
      }
      steps[k].mask = m;
      steps[k].mask_pitch = w;
      continue;
    }
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
