#!/usr/bin/env python3
"""The anchor of the composite benchmark: xarray + dask, as an analyst writes it. Each date's band
and SCL files are dask arrays read by GDAL in 1024 x 1024 chunks (what rioxarray's open_rasterio
with chunks does), stacked on a time axis; pixels whose SCL class is not clear (vegetation, bare,
water, unclassified, dark area, snow: 4 5 6 7 2 11) are masked with `where`, and the composite is
`median(dim="time", skipna=True)` per band, in float32, written as tiled GeoTIFFs by dask's `store`
(2 threads).
Usage: dask_composite.py FOLDER OUT_FOLDER DATE [DATE ...]"""
import os
import sys
import threading

import dask
import dask.array as da
import numpy as np
import xarray as xr
from osgeo import gdal

gdal.UseExceptions()
CHUNK = 1024
CLEAR = [2, 4, 5, 6, 7, 11]
BANDS = ("B02", "B03", "B04", "B08")


def read_window(path, y, x, h, w):
    ds = gdal.Open(path)
    a = ds.GetRasterBand(1).ReadAsArray(x, y, w, h)
    ds = None
    return a


def lazy(path):
    ds = gdal.Open(path)
    H, W = ds.RasterYSize, ds.RasterXSize
    dtype = np.uint16 if ds.GetRasterBand(1).DataType == gdal.GDT_UInt16 else np.uint8
    ds = None
    rows = []
    for y in range(0, H, CHUNK):
        row = []
        for x in range(0, W, CHUNK):
            h, w = min(CHUNK, H - y), min(CHUNK, W - x)
            row.append(da.from_delayed(dask.delayed(read_window)(path, y, x, h, w), shape=(h, w), dtype=dtype))
        rows.append(row)
    return da.block(rows)


class GdalTarget:
    """A dask store target writing windows into a GeoTIFF."""

    def __init__(self, path, like):
        src = gdal.Open(like)
        self.ds = gdal.GetDriverByName("GTiff").Create(path, src.RasterXSize, src.RasterYSize, 1, gdal.GDT_Float32,
                                                       ["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512", "BIGTIFF=YES"])
        self.ds.SetGeoTransform(src.GetGeoTransform())
        self.ds.SetProjection(src.GetProjection())
        self.ds.GetRasterBand(1).SetNoDataValue(float("nan"))
        self.lock = threading.Lock()

    def __setitem__(self, key, value):
        ys, xs = key
        with self.lock:
            self.ds.GetRasterBand(1).WriteArray(np.asarray(value), xs.start, ys.start)


def main():
    folder, out, dates = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(out, exist_ok=True)
    time = np.array([np.datetime64(f"{d[:4]}-{d[4:6]}-{d[6:]}") for d in dates])
    scl = xr.DataArray(da.stack([lazy(os.path.join(folder, f"{d}_SCL.tif")) for d in dates]), dims=("time", "y", "x"),
                       coords={"time": time})
    clear = scl.isin(CLEAR)
    sources, targets = [], []
    for band in BANDS:
        cube = xr.DataArray(da.stack([lazy(os.path.join(folder, f"{d}_{band}.tif")) for d in dates]), dims=("time", "y", "x"),
                            coords={"time": time})
        composite = cube.astype(np.float32).where(clear).median(dim="time", skipna=True)
        sources.append(composite.data)
        targets.append(GdalTarget(os.path.join(out, f"dask_{band}.tif"), os.path.join(folder, f"{dates[0]}_{band}.tif")))
    with dask.config.set(scheduler="threads", num_workers=2):
        da.store(sources, targets, lock=False)
    for t in targets:
        t.ds = None


if __name__ == "__main__":
    main()
