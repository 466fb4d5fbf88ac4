#!/usr/bin/python3
"""Inputs of bench/climate, deterministic, into OUT:

- composite/: DATES dates of a Sentinel-2 L2A tile at SIZE x SIZE (B02 B03 B04 B08 UInt16 and SCL
  Byte, tiled 512 x 512, uncompressed): the real Bolzano series of data/sentinel2-l2a-bolzano-2022-06
  (12 dates) mirror-tiled to the tile's size, date k from real date k mod 12, with a small
  deterministic offset per date and 64-pixel block so that the dates are not copies.
- spi/pr_monthly.nc: 30 years of monthly precipitation on a SPI_SIZE x SPI_SIZE grid (CF-1.8
  netCDF-4, float32): Gamma(shape 2, scale 30 + 20 sin(month)) mm with 5 % dry months, stated in
  the benchmark's README; SYNTHETIC.
Files already there with the right size are kept.
Usage: make_inputs.py DATA_DIR OUT [--size N] [--dates N] [--spi-size N]"""
import argparse
import os
import sys

import numpy as np
from osgeo import gdal

gdal.UseExceptions()
BANDS = ("B02", "B03", "B04", "B08")


def mirror_tile(a, size):
    """a mirrored in both directions and repeated to size x size."""
    m = np.concatenate([a, a[:, ::-1]], axis=1)
    m = np.concatenate([m, m[::-1, :]], axis=0)
    reps = (size // m.shape[0] + 1, size // m.shape[1] + 1)
    return np.tile(m, reps)[:size, :size]


def write(path, array, gdal_type):
    if os.path.exists(path):
        ds = gdal.Open(path)
        if ds.RasterXSize == array.shape[1] and ds.RasterYSize == array.shape[0]:
            return
        ds = None
    tmp = path + ".tmp.tif"
    ds = gdal.GetDriverByName("GTiff").Create(tmp, array.shape[1], array.shape[0], 1, gdal_type,
                                              ["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512", "BIGTIFF=YES"])
    ds.SetGeoTransform([600000, 10, 0, 5200020, 0, -10])
    ds.SetProjection("EPSG:32632")
    ds.GetRasterBand(1).WriteArray(array)
    if gdal_type == gdal.GDT_Byte:
        ds.GetRasterBand(1).SetNoDataValue(0)
    ds = None
    os.replace(tmp, path)


def composite_inputs(data, out, size, dates):
    folder = os.path.join(out, "composite")
    os.makedirs(folder, exist_ok=True)
    real = sorted(d for d in os.listdir(data) if d.isdigit())
    rng = np.random.default_rng(36)
    blocks = (size + 63) // 64
    made = []
    for k in range(dates):
        src = os.path.join(data, real[k % len(real)])
        day = f"2022{6 + k // 12:02d}{int(real[k % len(real)][6:]):02d}"
        shift = np.kron(rng.integers(-40, 40, (blocks, blocks)), np.ones((64, 64), dtype=np.int64))[:size, :size]
        for band in BANDS:
            a = gdal.Open(os.path.join(src, f"{band}.tif")).ReadAsArray().astype(np.int64)
            v = np.clip(mirror_tile(a, size) + shift, 1, 65535).astype(np.uint16)
            write(os.path.join(folder, f"{day}_{band}.tif"), v, gdal.GDT_UInt16)
        scl = gdal.Open(os.path.join(src, "SCL.tif")).ReadAsArray()
        write(os.path.join(folder, f"{day}_SCL.tif"), mirror_tile(scl, size).astype(np.uint8), gdal.GDT_Byte)
        made.append(day)
        print(f"composite inputs: date {k + 1}/{dates}", file=sys.stderr, flush=True)
    return made


def spi_input(out, size, here):
    folder = os.path.join(out, "spi")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"pr_monthly_{size}.nc")
    if os.path.exists(path):
        return path
    sys.path.insert(0, os.path.join(here, "..", "..", "tests", "support"))
    from cf_cube import write_monthly_cube
    rng = np.random.default_rng(1993)
    months = 360
    scale = 30 + 20 * np.sin(2 * np.pi * np.arange(months) / 12)
    pr = rng.gamma(2.0, 1.0, (months, size, size)).astype(np.float32) * scale[:, None, None].astype(np.float32)
    pr[rng.random(pr.shape, dtype=np.float32) < 0.05] = 0
    lat = 40 + 0.01 * np.arange(size)
    lon = 5 + 0.01 * np.arange(size)
    write_monthly_cube(path + ".tmp.nc", "pr", "mm", pr, lat, lon, 1991)
    os.replace(path + ".tmp.nc", path)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=10980)
    ap.add_argument("--dates", type=int, default=36)
    ap.add_argument("--spi-size", type=int, default=1000)
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    days = composite_inputs(args.data, args.out, args.size, args.dates)
    spi = spi_input(args.out, args.spi_size, here)
    print(" ".join(days))
    print(spi)


if __name__ == "__main__":
    main()
