#!/usr/bin/python3
"""A 36-step 5000 x 5000 Float32 cube for timing, generated from the real monthly temperature grid
(bcsd_obs_1999.nc, tas): the 12 months upsampled bilinearly to 5000 x 5000 and repeated over three
"years", year k shifted by +0.3 k degrees plus small deterministic noise so that trends and
percentiles have work to do. Generated data for timing only, never an observation.
Band-interleaved, tiled 512, uncompressed.
Usage: make_inputs.py SAMPLE_DIR OUT_DIR"""
import os
import sys

import numpy as np
from osgeo import gdal

gdal.UseExceptions()
sample, out = sys.argv[1:3]
os.makedirs(out, exist_ok=True)
path = os.path.join(out, "tas_36steps_5000.tif")
if os.path.exists(path):
    print("input exists:", path)
    sys.exit(0)
src = gdal.Open(f'NETCDF:"{os.path.join(sample, "bcsd_obs_1999.nc")}":tas')
N = 5000
drv = gdal.GetDriverByName("GTiff")
ds = drv.Create(path + ".part", N, N, 36, gdal.GDT_Float32,
                ["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512", "INTERLEAVE=BAND", "BIGTIFF=YES"])
gt = src.GetGeoTransform()
ds.SetGeoTransform([gt[0], gt[1] * src.RasterXSize / N, 0, gt[3], 0, gt[5] * src.RasterYSize / N])
ds.SetProjection(src.GetProjection())
rng = np.random.default_rng(36)
for month in range(12):
    up = gdal.Translate("", src, format="MEM", bandList=[month + 1], width=N, height=N, resampleAlg="bilinear")
    a = up.GetRasterBand(1).ReadAsArray().astype(np.float32)
    a[a > 1e19] = np.nan
    for year in range(3):
        b = ds.GetRasterBand(year * 12 + month + 1)
        b.SetNoDataValue(float("nan"))
        b.WriteArray(a + 0.3 * year + rng.normal(0, 0.2, a.shape).astype(np.float32))
ds = None
os.rename(path + ".part", path)
print("wrote", path)
