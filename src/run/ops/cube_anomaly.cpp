// cube.anomaly: a period's reduction minus (or in percent of) the same reduction over a baseline.
#include "run/ops/cube_common.hpp"
#include "run/ops/ops.hpp"

namespace sco::run::ops {

const StepOp& cube_anomaly_op() {
  static const DifferenceOp op({"cube.anomaly", "a period's reduction minus the baseline's, or in percent of it (relative)", "period", "baseline",
                                false, "[START, END] (default: all steps)", "[START, END], required"});
  return op;
}

}  // namespace sco::run::ops
