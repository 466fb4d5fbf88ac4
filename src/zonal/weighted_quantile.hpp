#pragma once
// Coverage-weighted quantiles of a zone's histogram (distinct values, ascending, each with the
// covered area that has it). Pure arithmetic: no I/O, no allocation.
#include <cstddef>
#include <utility>

namespace sco::zonal {

// The interpolated weighted quantile, the definition of exactextract (and of GDAL's `gdal raster
// zonal-stats`), the "weighted percentile method" of the literature: with x_1 < ... < x_n the distinct
// values, w_k their covered areas and W their sum,
//   S_1 = 0,  S_k = (k - 1) w_k + (n - 1) (w_1 + ... + w_{k-1}),  so that S_n = (n - 1) W;
// for h = q (n - 1) W, k the largest index with S_k <= h:
//   Q(q) = x_n if k = n, else x_k + (h - S_k) (x_{k+1} - x_k) / (S_{k+1} - S_k).
// With equal weights this is the usual linear interpolation between order statistics (R's type 7,
// numpy's default). `h` holds (value, weight) pairs sorted by value, values distinct; entries of
// weight <= 0 are ignored. NaN when no entry has a positive weight.
double interpolated_quantile(const std::pair<double, double>* h, std::size_t size, double q);

}  // namespace sco::zonal
