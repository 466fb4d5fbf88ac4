#!/usr/bin/python3
"""Issue 22's benchmark, in one run, with peak memory:
1. a cloud-masked median composite of DATES Sentinel-2 dates x 4 bands at SIZE x SIZE: `sco run` of
   composite.json (four cube.reduce medians masked by SCL, written as COGs with overviews) against
   xarray + dask (dask_composite.py: where(clear).median(skipna), 2 threads, plain tiled GeoTIFFs);
2. SPI-3 of the last month on a 30-year monthly SPI_SIZE x SPI_SIZE grid: `sco cube --op spi:3`
   (maximum-likelihood gamma) on the whole grid against xclim's standardized_precipitation_index on
   a strip of rows (ML, and Thom's approximation APP), their time per pixel scaled to the grid
   (xclim at 0.2 s per pixel would take days on 10^6 pixels); peak memory as measured on the strip.
Then the outputs are compared (composite: every pixel of a window; SPI: the strip's pixels).
Usage: bench/climate/run.py [--size N] [--dates N] [--spi-size N] [--strip ROWS] [--ml-pixels N] [--markdown FILE]"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np
from osgeo import gdal

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from bench_common import emit_table, timed, warm  # noqa: E402
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "bench", "out", "climate")
VENV = os.path.join(ROOT, "bench", ".venv", "bin", "python")
gdal.UseExceptions()


def read(path, size=None):
    """Band 1 as float64 (NaN for nodata), the top-left size x size window when given."""
    ds = gdal.Open(path)
    w = ds.RasterXSize if size is None else min(size, ds.RasterXSize)
    h = ds.RasterYSize if size is None else min(size, ds.RasterYSize)
    band = ds.GetRasterBand(1)
    a = band.ReadAsArray(0, 0, w, h).astype(np.float64)
    nd = band.GetNoDataValue()
    band = None
    ds = None
    if nd is not None and not np.isnan(nd):
        a[a == nd] = np.nan
    return a


def tile_aoi(path, like):
    ds = gdal.Open(like)
    gt, w, h = ds.GetGeoTransform(), ds.RasterXSize, ds.RasterYSize
    x0, y0, x1, y1 = gt[0], gt[3] + h * gt[5], gt[0] + w * gt[1], gt[3]
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    fc = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32632"}},
          "features": [{"type": "Feature", "properties": {"name": "tile"}, "geometry": {"type": "Polygon", "coordinates": [ring]}}]}
    with open(path, "w") as f:
        json.dump(fc, f)


def composite(sco, days, lines, skip_dask=False):
    folder = os.path.join(OUT, "composite")
    aoi = os.path.join(OUT, "tile.geojson")
    tile_aoi(aoi, os.path.join(folder, f"{days[0]}_B02.tif"))
    args = []
    for d in days:
        for band in ("B02", "B03", "B04", "B08", "SCL"):
            args += ["--input", f"{band.lower()}={os.path.join(folder, f'{d}_{band}.tif')}@{d[:4]}-{d[4:6]}-{d[6:]}"]
    out = os.path.join(OUT, "sco_composite")
    shutil.rmtree(out, ignore_errors=True)
    files = [os.path.join(folder, f) for f in os.listdir(folder)]
    for f in files:
        warm(f)
    # sco hashes every input for the run's provenance: the first run reads the 39 GB twice (hash, then
    # compute); a rerun on unchanged files takes the digests from its cache (core/digest_cache). Both
    # are timed, the first with an empty cache.
    hash_cache = os.path.join(OUT, "sha256-cache.tsv")
    if os.path.exists(hash_cache):
        os.remove(hash_cache)
    cmd = [sco, "-q", "run", os.path.join(HERE, "composite.json"), *args, "--aoi", aoi, "--out", out, "--no-register"]
    w_sco, m_sco = timed(cmd, {"SCO_HASH_CACHE": hash_cache})
    print(("sco composite, first run", w_sco, m_sco), flush=True)
    shutil.rmtree(out, ignore_errors=True)
    for f in files:
        warm(f)
    w_re, m_re = timed(cmd, {"SCO_HASH_CACHE": hash_cache})
    print(("sco composite, rerun", w_re, m_re), flush=True)
    if skip_dask:
        lines += [f"| cloud-masked median composite, {len(days)} dates x 4 bands | sco run, first run (inputs hashed) | {w_sco:.1f} s | {m_sco:.0f} MiB | 1 |",
                  f"| | sco run, rerun (digests from the cache) | {w_re:.1f} s | {m_re:.0f} MiB | {w_sco / w_re:.2f}x faster |"]
        return
    for f in files:
        warm(f)
    dask_out = os.path.join(OUT, "dask_composite")
    w_dask, m_dask = timed([VENV, os.path.join(HERE, "dask_composite.py"), folder, dask_out, *days])
    print(("dask composite", w_dask, m_dask), flush=True)
    worst = 0.0
    for band in ("B02", "B03", "B04", "B08"):
        a = read(os.path.join(out, f"{band.lower()}_median.tif"), 2048)
        b = read(os.path.join(dask_out, f"dask_{band}.tif"), 2048)
        same_nan = np.array_equal(np.isnan(a), np.isnan(b))
        worst = max(worst, float(np.nanmax(np.abs(a - b))) if same_nan else float("inf"))
    lines += [f"| cloud-masked median composite, {len(days)} dates x 4 bands | sco run, first run (inputs hashed; COGs with overviews) | {w_sco:.1f} s | {m_sco:.0f} MiB | 1 |",
              f"| | sco run, rerun (digests from the cache) | {w_re:.1f} s | {m_re:.0f} MiB | {w_sco / w_re:.2f}x faster |",
              f"| | xarray + dask, 2 threads (tiled GeoTIFFs) | {w_dask:.1f} s | {m_dask:.0f} MiB | {w_dask / w_sco:.1f}x / {w_dask / w_re:.1f}x slower |",
              f"| | largest difference on a 2048 x 2048 window of every band | {worst:.2g} | | |"]


def spi(sco, nc, size, strip, ml_pixels, lines):
    out = os.path.join(OUT, "spi")
    warm(nc)
    w_sco, m_sco = timed([sco, "-q", "cube", "--input", f"{nc}:pr", "--op", "spi:3", "--format", "GTiff", "-o", os.path.join(out, "sco_spi3.tif")])
    print(("sco spi", w_sco, m_sco), flush=True)
    w_app, m_app = timed([VENV, os.path.join(HERE, "xclim_spi.py"), nc, str(strip), str(size), "APP", os.path.join(out, "app.npy")])
    print(("xclim APP strip", w_app, m_app), flush=True)
    w_ml, m_ml = timed([VENV, os.path.join(HERE, "xclim_spi.py"), nc, str(strip), str(size), "ML", os.path.join(out, "ml.npy"), str(ml_pixels)])
    print(("xclim ML block", w_ml, m_ml), flush=True)
    got = read(os.path.join(out, "sco_spi3.tif"))
    # both read through GDAL's north-up view of the netCDF
    ml = np.load(os.path.join(out, "ml.npy"))
    app = np.load(os.path.join(out, "app.npy"))
    net = got
    pixels = np.load(os.path.join(out, "ml.npy.pixels.npy"))
    d_ml = float(np.nanmax(np.abs(net[:strip, :].reshape(-1)[pixels] - ml)))
    d_app = float(np.nanmax(np.abs(net[:strip, :].reshape(-1) - app)))
    scale_app, scale_ml = size * size / (strip * size), size * size / len(pixels)
    lines += [f"| SPI-3, 30 years x {size} x {size} monthly | sco cube --op spi:3 (ML) | {w_sco:.1f} s | {m_sco:.0f} MiB | 1 |",
              f"| | xclim SPI, ML: {len(pixels)} pixels in {w_ml:.1f} s, x {scale_ml:.0f} | {w_ml * scale_ml:.0f} s | {m_ml:.0f} MiB (strip read) | {w_ml * scale_ml / w_sco:.0f}x slower |",
              f"| | xclim SPI, APP (Thom): {strip} rows in {w_app:.1f} s, x {scale_app:.0f} | {w_app * scale_app:.0f} s | {m_app:.0f} MiB (strip) | {w_app * scale_app / w_sco:.0f}x slower |",
              f"| | largest difference: vs ML {d_ml:.2g}, vs APP {d_app:.2g} (another estimator) | | | |"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=10980)
    ap.add_argument("--dates", type=int, default=36)
    ap.add_argument("--spi-size", type=int, default=1000)
    ap.add_argument("--strip", type=int, default=20)
    ap.add_argument("--ml-pixels", type=int, default=2000)
    ap.add_argument("--sco", default=os.path.join(ROOT, "build", "apps", "sco", "sco"))
    ap.add_argument("--markdown", default=None)
    ap.add_argument("--skip-composite", action="store_true")
    ap.add_argument("--skip-dask", action="store_true", help="time sco only (first run and rerun)")
    ap.add_argument("--skip-spi", action="store_true")
    args = ap.parse_args()
    os.makedirs(os.path.join(OUT, "spi"), exist_ok=True)
    made = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "make_inputs.py"), os.path.join(ROOT, "data", "sentinel2-l2a-bolzano-2022-06"),
                           OUT, "--size", str(args.size), "--dates", str(args.dates), "--spi-size", str(args.spi_size)],
                          check=True, capture_output=True, text=True).stdout.split("\n")
    days, nc = made[0].split(), made[1]
    lines = [f"Same run, peak RSS; {os.cpu_count()} cores", "", "| task | tool | wall | peak memory | vs sco |", "|---|---|---|---|---|"]
    if not args.skip_composite:
        composite(args.sco, days, lines, args.skip_dask)
    if not args.skip_spi:
        spi(args.sco, nc, args.spi_size, args.strip, args.ml_pixels, lines)
    emit_table(lines, args.markdown)


if __name__ == "__main__":
    main()
