#!/usr/bin/python3
"""Builds a Sentinel-2-sized (10980 x 10980) two-band UInt16 raster (band 1 red, band 2 NIR) from the
real Landsat-7 sample by mirror tiling: the scene and its mirror images repeat so that edges match,
values are DN * 40 plus small deterministic noise (so tiles do not compress identically). Written
tiled 512 x 512, once uncompressed and once DEFLATE with predictor 2.

This is generated data for timing only; it is never presented as an observation.
Usage: make_inputs.py SAMPLE_DIR OUT_DIR
"""
import os
import sys

import numpy as np
from osgeo import gdal

gdal.UseExceptions()
SIZE = 10980


def mirror_index(n, period):
    i = np.arange(n) % (2 * period)
    return np.where(i < period, i, 2 * period - 1 - i)


def main():
    sample, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    plain = os.path.join(out, "s2size_red_nir.tif")
    deflate = os.path.join(out, "s2size_red_nir_deflate.tif")
    if os.path.exists(plain) and os.path.exists(deflate):
        print("inputs exist:", plain, deflate)
        return
    src = gdal.Open(os.path.join(sample, "L7_ETMs.tif"))
    red = src.GetRasterBand(3).ReadAsArray().astype(np.uint16)
    nir = src.GetRasterBand(4).ReadAsArray().astype(np.uint16)
    rows = mirror_index(SIZE, red.shape[0])
    cols = mirror_index(SIZE, red.shape[1])
    tmp = plain + ".part"
    drv = gdal.GetDriverByName("GTiff")
    ds = drv.Create(tmp, SIZE, SIZE, 2, gdal.GDT_UInt16,
                    ["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512", "BIGTIFF=IF_SAFER"])
    # A UTM-like grid at 10 m, like a Sentinel-2 tile (the sample's CRS).
    ds.SetGeoTransform([288776.25, 10, 0, 9120760.75, 0, -10])
    ds.SetProjection(src.GetProjection())
    rng = np.random.default_rng(20261123)
    for y0 in range(0, SIZE, 512):
        h = min(512, SIZE - y0)
        r = rows[y0:y0 + h]
        for band, data in ((1, red), (2, nir)):
            block = data[np.ix_(r, cols)].astype(np.uint32) * 40
            block += rng.integers(0, 40, size=block.shape, dtype=np.uint32)
            ds.GetRasterBand(band).WriteArray(block.astype(np.uint16), 0, y0)
    ds = None
    os.rename(tmp, plain)
    gdal.Translate(deflate + ".part", plain, format="GTiff", creationOptions=[
        "TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512", "COMPRESS=DEFLATE", "PREDICTOR=2", "NUM_THREADS=ALL_CPUS"])
    os.rename(deflate + ".part", deflate)
    print("wrote", plain, deflate)


if __name__ == "__main__":
    main()
