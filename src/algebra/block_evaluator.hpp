#pragma once
// Evaluates a compiled Program over whole blocks in tight per-operation loops: each instruction runs
// over a chunk of up to kChunk pixels that stays in the first-level cache, so the compiler can
// vectorise every loop and no virtual call is made per pixel.
//
// Nodata travels as NaN inside the evaluation, so every lane is a plain float and every loop
// vectorises: an input pixel equal to its nodata value, NaN, or masked out is loaded as NaN; NaN
// propagates through arithmetic, and comparisons, logic, min/max and clamp give NaN when an operand
// is NaN. where(c, a, b) needs only c and the branch it takes; isnodata(x) is 1 or 0, never NaN.
// Division by zero and results outside a function's domain (sqrt of a negative, log of zero,
// overflow) become NaN. At the end, NaN and infinities are written as the output's nodata; integer
// outputs are rounded to nearest (ties to even) and saturated to the type's range.
#include <cstdint>
#include <span>
#include <vector>

#include "algebra/program.hpp"
#include "core/block.hpp"
#include "core/block_stats.hpp"

namespace sco::algebra {

enum class Precision { kFloat32, kFloat64 };

// Per-thread state for evaluating one Program; construct one per worker.
class BlockEvaluator {
 public:
  static constexpr int kChunk = 1024;

  BlockEvaluator(const Program& program, Precision precision);
  // inputs[i] is the block of input slot i; slots the program does not use may be empty views.
  // Every used input and `out` must have the same width and height. When `stats` is given, the
  // valid values written are accumulated into it (in the same pass, while they are in cache).
  void evaluate(std::span<const core::BlockView> inputs, const core::MutableBlockView& out,
                core::RunningStats* stats = nullptr);

 private:
  template <typename T>
  void evaluate_typed(std::span<const core::BlockView> inputs, const core::MutableBlockView& out,
                      core::RunningStats* stats);

  const Program& program_;
  Precision precision_;
  std::vector<float> values32_;
  std::vector<double> values64_;
};

}  // namespace sco::algebra
