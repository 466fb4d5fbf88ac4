#pragma once
// The step ops, one file each; run/bind.cpp lists them in the registry.
#include "run/step_op.hpp"

namespace sco::run::ops {

const StepOp& index_op();
const StepOp& raster_calc_op();
const StepOp& cube_reduce_op();
const StepOp& cube_trend_op();
const StepOp& cube_spi_op();
const StepOp& cube_anomaly_op();
const StepOp& cube_change_op();
const StepOp& zonal_stats_op();
const StepOp& zonal_trend_op();
const StepOp& risk_op();

}  // namespace sco::run::ops
