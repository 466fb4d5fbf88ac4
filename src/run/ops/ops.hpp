#pragma once
// The step ops, one file each; run/bind.cpp lists them in the registry.
#include "algebra/expression.hpp"
#include "run/step_op.hpp"

namespace sco::run::ops {

// The step's "expression" field, kept in s.expression and parsed; a syntax error fails the field.
algebra::Expr bind_expression(const indicators::StepReader& rd, indicators::Step& s);

const StepOp& index_op();
const StepOp& raster_calc_op();
const StepOp& cube_reduce_op();
const StepOp& cube_trend_op();
const StepOp& cube_spi_op();
const StepOp& cube_etccdi_op();
const StepOp& cube_anomaly_op();
const StepOp& cube_change_op();
const StepOp& zonal_stats_op();
const StepOp& zonal_trend_op();
const StepOp& risk_op();

}  // namespace sco::run::ops
