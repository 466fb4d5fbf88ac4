// cube.change: the reduction after an event minus (or in percent of) the reduction before it.
#include "run/ops/cube_common.hpp"
#include "run/ops/ops.hpp"

namespace sco::run::ops {

const StepOp& cube_change_op() {
  static const DifferenceOp op({"cube.change", "the reduction over \"after\" minus the one over \"before\", or in percent of it (relative)",
                                "after", "before", true, "[START, END], required", "[START, END], required"});
  return op;
}

}  // namespace sco::run::ops
