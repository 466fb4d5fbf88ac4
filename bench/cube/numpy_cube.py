#!/usr/bin/python3
"""The anchor for per-pixel time-series operations, written as a numpy user would: pixels without
any missing step (here every land pixel; the ocean is missing at every step) go through the
vectorised np.mean, np.percentile and a vectorised Sen's slope (all pairwise slopes of a chunk of
pixels, then np.median); numpy's nan-aware percentile and median fall back to a per-pixel Python
loop and are avoided. Reads the cube in chunks of rows; writes three Float32 GeoTIFFs.
Usage: numpy_cube.py CUBE.tif OUT_DIR"""
import itertools
import os
import sys

import numpy as np
from osgeo import gdal

gdal.UseExceptions()
cube, out = sys.argv[1:3]
ds = gdal.Open(cube)
n, w, h = ds.RasterCount, ds.RasterXSize, ds.RasterYSize
t = np.arange(n, dtype=np.float64) / 12.0  # monthly steps, in years
pairs = list(itertools.combinations(range(n), 2))
ii = np.array([p[0] for p in pairs])
jj = np.array([p[1] for p in pairs])
inv_dt = (1.0 / (t[jj] - t[ii])).astype(np.float32)[:, None]
outs = {}
drv = gdal.GetDriverByName("GTiff")
for name in ("mean", "p90", "sen_slope"):
    o = drv.Create(os.path.join(out, f"numpy_{name}.tif"), w, h, 1, gdal.GDT_Float32, ["TILED=YES"])
    o.SetGeoTransform(ds.GetGeoTransform())
    o.SetProjection(ds.GetProjection())
    outs[name] = o
rows = 8
for y in range(0, h, rows):
    r = min(rows, h - y)
    x = np.stack([ds.GetRasterBand(b + 1).ReadAsArray(0, y, w, r) for b in range(n)]).reshape(n, -1)
    full = ~np.isnan(x).any(axis=0)
    xv = x[:, full]
    mean = np.full(x.shape[1], np.nan, np.float32)
    p90 = np.full(x.shape[1], np.nan, np.float32)
    sen = np.full(x.shape[1], np.nan, np.float32)
    mean[full] = xv.mean(axis=0)
    p90[full] = np.percentile(xv, 90, axis=0)
    sen[full] = np.median((xv[jj] - xv[ii]) * inv_dt, axis=0)
    outs["mean"].GetRasterBand(1).WriteArray(mean.reshape(r, w).astype(np.float32), 0, y)
    outs["p90"].GetRasterBand(1).WriteArray(p90.reshape(r, w).astype(np.float32), 0, y)
    outs["sen_slope"].GetRasterBand(1).WriteArray(sen.reshape(r, w).astype(np.float32), 0, y)
outs = None
