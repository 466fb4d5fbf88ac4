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

// The validity of `n` steps from their quality blocks and the static mask alone (not the steps' own
// masks), n x width x height bytes of 0 / 1 in `storage`. `quality` is empty or holds n blocks;
// `static_mask` may be null.
void shared_validity(std::span<const core::BlockView> quality, const core::BlockView* static_mask, std::size_t n,
                     const std::vector<double>& quality_valid, int width, int height, std::vector<std::uint8_t>& storage,
                     std::uint32_t clear_bits = 0);
// Points each of `steps` at its mask: step k's plane of `shared` when it has no mask of its own, else
// both combined in `storage`. Several cubes read on the same steps share one `shared`.
void attach_validity(std::vector<core::BlockView>& steps, const std::uint8_t* shared, int width, int height, std::vector<std::uint8_t>& storage);

// Both: points each of `steps` at its combined mask, kept in `storage` (steps.size() x width x height).
void apply_validity(std::vector<core::BlockView>& steps, std::span<const core::BlockView> quality, const core::BlockView* static_mask,
                    const std::vector<double>& quality_valid, int width, int height, std::vector<std::uint8_t>& storage,
                    std::uint32_t clear_bits = 0);

}  // namespace sco::cube
