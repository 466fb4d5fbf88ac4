#pragma once
// Evaluates a compiled Program over whole blocks in tight per-operation loops: each instruction runs
// over a chunk of up to kChunk pixels that stays in the first-level cache, so the compiler can
// vectorise every loop and no virtual call is made per pixel.
//
// Validity: an input pixel equal to its nodata, NaN, or masked out is invalid; invalidity spreads
// through every operation, except that where(c, a, b) needs only c and the branch it takes, and
// isnodata(x) is always valid. Division by zero and results outside a function's domain (sqrt of a
// negative, log of zero) are invalid. Invalid pixels are written as the output's nodata; integer
// outputs are rounded to nearest (ties to even) and saturated to the type's range.
#include <cstdint>
#include <span>
#include <vector>

#include "algebra/program.hpp"
#include "core/block.hpp"

namespace sco::algebra {

enum class Precision { kFloat32, kFloat64 };

// Per-thread state for evaluating one Program; construct one per worker.
class BlockEvaluator {
 public:
  static constexpr int kChunk = 1024;

  BlockEvaluator(const Program& program, Precision precision);
  // inputs[i] is the block of input slot i; slots the program does not use may be empty views.
  // Every used input and `out` must have the same width and height.
  void evaluate(std::span<const core::BlockView> inputs, const core::MutableBlockView& out);

 private:
  template <typename T>
  void evaluate_typed(std::span<const core::BlockView> inputs, const core::MutableBlockView& out);

  const Program& program_;
  Precision precision_;
  std::vector<float> values32_;
  std::vector<double> values64_;
  std::vector<std::uint8_t> valid_;       // register_count * kChunk validity bytes
  std::vector<std::uint8_t> all_valid_;   // per register: the whole chunk is valid
};

}  // namespace sco::algebra
