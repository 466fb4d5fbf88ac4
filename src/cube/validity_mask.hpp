#pragma once
// The validity of each time step's pixels in a cube step: its own mask (nodata), a quality block of
// the same step (a cloud / QA band: valid when its value is one of `quality_valid`, or non-zero when
// none are listed; with `clear_bits`, valid when none of those bits is set, as Landsat Collection 2's
// QA_PIXEL: fill 0, dilated cloud 1, cirrus 2, cloud 3, cloud shadow 4, snow 5), and a static mask
// (valid where non-zero and not nodata). No I/O.
#include <cstdint>
#include <span>
#include <vector>

#include "core/block.hpp"

namespace sco::cube {

// Points each of `steps` at its combined mask, kept in `storage` (steps.size() x width x height).
// `quality` is empty or holds one block per step; `static_mask` may be null.
void apply_validity(std::vector<core::BlockView>& steps, std::span<const core::BlockView> quality, const core::BlockView* static_mask,
                    const std::vector<double>& quality_valid, int width, int height, std::vector<std::uint8_t>& storage,
                    std::uint32_t clear_bits = 0);

}  // namespace sco::cube
