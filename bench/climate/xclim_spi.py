#!/usr/bin/env python3
"""The anchor of the SPI benchmark: xclim's standardized_precipitation_index (SPI-3, gamma, calibrated
on the whole series) on the first ROWS rows of the monthly cube, the SPI of the last month kept and
written to OUT (.npy). METHOD: ML (maximum likelihood with the location at 0, what sco computes; scipy's fit per pixel) or
APP (Thom's approximation; no optimisation). The rows are read by GDAL (xarray's netCDF engines are
not installed here) into an xarray DataArray, as a user with an in-memory array would do.
With ML, scipy refuses a 3-month sum of exactly 0 (FitDataError), so the pixels are the first
PIXELS of the rows (row-major) whose sums are all positive; their flat indices are saved beside.
Usage: xclim_spi.py NETCDF ROWS COLS METHOD OUT [PIXELS]"""
import sys
import warnings

import numpy as np
import xarray as xr
from osgeo import gdal

warnings.filterwarnings("ignore")
import xclim.indices as xi  # noqa: E402


def main():
    path, rows, cols, method, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
    ds = gdal.Open(f'NETCDF:"{path}":pr')
    a = ds.ReadAsArray(0, 0, cols, rows).astype(np.float32)
    ds = None
    time = xr.date_range("1991-01-01", periods=a.shape[0], freq="MS")
    flat = a.reshape(a.shape[0], -1)
    index = np.arange(flat.shape[1])
    if method == "ML":
        sums = flat[:-2] + flat[1:-1] + flat[2:]
        index = np.flatnonzero((sums > 0).all(axis=0))[:int(sys.argv[6])]
        np.save(out + ".pixels.npy", index)
    pr = xr.DataArray(flat[:, index], dims=("time", "pixel"), coords={"time": time}, attrs={"units": "mm/month"})
    kw = {"fitkwargs": {"floc": 0}}  # the two-parameter gamma (location 0), as the SPI defines it
    spi = xi.standardized_precipitation_index(pr, freq="MS", window=3, dist="gamma", method=method,
                                              cal_start="1991-01-01", cal_end="2020-12-31", **kw)
    np.save(out, spi.isel(time=-1).values.astype(np.float64))


if __name__ == "__main__":
    main()
