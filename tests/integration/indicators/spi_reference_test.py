#!/usr/bin/env python3
"""Checks sco's Standardized Precipitation Index against SciPy (the reference: scipy.stats.gamma.fit
with the location fixed at 0, i.e. the maximum-likelihood gamma, and scipy.stats.norm.ppf):

1. Thirty years of monthly precipitation built from the real 1999 months of
   data/sample/bcsd_obs_1999.nc (each year the real months scaled by a deterministic random factor;
   some months dry, so that the probability of zero matters; some pixels miss some months). For
   every pixel, `sco cube --op spi:K` (K = 1, 3, 12) must equal SciPy's SPI of the last month:
   the K-month sums ending in the same calendar month over the 30 years, p0 their share of zeros,
   gamma fitted to the others, SPI = Phi^-1(p0 + (1 - p0) G(x)), within +-3.09.
2. `sco run drought.spi` on that cube over the North Carolina counties: four SPI rasters equal to
   the per-pixel ones, and each county's class is the WMO class of its mean.
3. Bad input: a 12-month series (record too short, also for drought.spi), fewer months than the scale,
   spi:0 and spi:x: refused with exit 2 before any work, naming the problem.

Usage: spi_reference_test.py SCO_BINARY SAMPLE_DIR (run from the tests' virtual environment).
"""
import csv
import os
import subprocess
import sys
import tempfile

import numpy as np
from osgeo import gdal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from reference import Checks  # noqa: E402
from cf_cube import read_raster, read_sample_months, write_monthly_cube  # noqa: E402

SCO, SAMPLE = sys.argv[1], sys.argv[2]
check = Checks()
try:
    from scipy import stats
except ImportError as e:
    check.skip(f"SciPy is not installed ({e}): scripts/install-deps.sh puts it into .venv")
    check.finish()

YEARS = 30
WMO = [(-np.inf, "extremely dry"), (-2, "severely dry"), (-1.5, "moderately dry"), (-1, "near normal"),
       (1, "moderately wet"), (1.5, "very wet"), (2, "extremely wet")]


def reference_spi(series, k):
    """SciPy's SPI of the series' last month over k months (series: one value per month from January)."""
    sums = np.array([np.nan if i + 1 < k else series[i + 1 - k:i + 1].sum() for i in range(len(series))])
    month = (len(series) - 1) % 12
    sample = sums[month::12]
    sample = sample[~np.isnan(sample)]
    x = sums[-1]
    if np.isnan(x) or len(sample) < 10:
        return np.nan
    p0 = np.mean(sample <= 0)
    wet = sample[sample > 0]
    if len(wet) < 3 or wet.min() == wet.max():
        return np.nan
    a, _, scale = stats.gamma.fit(wet, floc=0)
    h = p0 + (1 - p0) * (stats.gamma.cdf(x, a, scale=scale) if x > 0 else 0.0)
    return float(np.clip(stats.norm.ppf(h), -3.09, 3.09))


def wmo_class(v):
    label = ""
    for bound, name in WMO:
        if v >= bound:
            label = name
    return label


def run(args, ok=True):
    r = subprocess.run([SCO] + args, capture_output=True, text=True)
    if ok and r.returncode != 0:
        raise SystemExit(f"sco {' '.join(args)} failed: {r.stderr}")
    return r


with tempfile.TemporaryDirectory() as tmp:
    nc = os.path.join(SAMPLE, "bcsd_obs_1999.nc")
    months, lat, lon = read_sample_months(nc, "pr")
    rng = np.random.default_rng(1993)
    # A year's factor varies by bands of 10 columns (so that counties differ) and a little per pixel.
    cols = months.shape[2]
    years = [months * np.repeat(rng.lognormal(0.0, 0.5, size=(cols + 9) // 10), 10)[:cols][None, None, :]
             * rng.lognormal(0.0, 0.1, size=(1,) + months.shape[1:]) for _ in range(YEARS)]
    cube = np.concatenate(years)
    cube[rng.random(cube.shape) < 0.04] = 0.0          # dry months
    cube[(rng.random(cube.shape) < 0.002) & ~np.isnan(cube)] = np.nan  # a few missing months
    cube = np.round(cube, 1)
    path = os.path.join(tmp, "pr_1981_2010.nc")
    write_monthly_cube(path, "pr", "mm", cube, lat, lon, 1981)
    stored = np.round(cube.astype(np.float32).astype(np.float64), 6)  # as sco reads the float32 file

    # 1. per pixel
    per_pixel = {}
    for k in (1, 3, 12):
        out = os.path.join(tmp, f"spi{k}.tif")
        run(["-q", "cube", "--input", f"{path}:pr", "--op", f"spi:{k}", "-o", out])
        got = read_raster(out)
        per_pixel[k] = got
        worst, compared, missing = 0.0, 0, 0
        for r in range(cube.shape[1]):
            for c in range(cube.shape[2]):
                want = reference_spi(cube[:, r, c].astype(np.float32).astype(np.float64), k)
                if np.isnan(want):
                    missing += not np.isnan(got[r, c])
                    continue
                worst = max(worst, abs(got[r, c] - want))
                compared += 1
        print(f"1. spi:{k}: {compared} pixels, worst |sco - SciPy| {worst:.1e}; {missing} pixels with a value SciPy has not")
        check(compared > 2000 and worst < 2e-5 and missing == 0, f"spi:{k} per pixel: worst {worst}, {compared} compared, {missing} extra")

    # 2. the built-in per county
    out = os.path.join(tmp, "spi")
    run(["-q", "run", "drought.spi", "--input", f"pr={path}:pr", "--aoi", os.path.join(SAMPLE, "nc.gpkg"), "--id", "NAME", "--out", out])
    cube_gt = gdal.Open(os.path.join(tmp, "spi1.tif")).GetGeoTransform()
    for k in (1, 3, 12):
        ds = gdal.Open(os.path.join(out, f"spi_{k}.tif"))
        gt = ds.GetGeoTransform()
        ds = None
        got = read_raster(os.path.join(out, f"spi_{k}.tif"))  # the run's grid: the counties' window of the cube's
        c0, r0 = round((gt[0] - cube_gt[0]) / cube_gt[1]), round((gt[3] - cube_gt[3]) / cube_gt[5])
        window = per_pixel[k][r0:r0 + got.shape[0], c0:c0 + got.shape[1]]
        same = window.shape == got.shape and np.allclose(got, window, equal_nan=True, atol=1e-6)
        check(same and np.isfinite(got).sum() > 1000, f"drought.spi's spi_{k} raster equals sco cube --op spi:{k} on its window")
    with open(os.path.join(out, "spi_3_by_district.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    classes = [(r["class"], wmo_class(float(r["mean"]))) for r in rows if r["mean"] not in ("", "nan")]
    check(len(classes) == 100 and all(a == b for a, b in classes), f"WMO classes of the county means: {classes[:5]}")
    check(len(set(a for a, _ in classes)) >= 3, f"the counties fall in several classes: {sorted(set(a for a, _ in classes))}")
    print(f"2. drought.spi: 100 counties, classes {sorted(set(a for a, _ in classes))}")

    # 3. bad input: a record too short for a fit, a series shorter than the scale, bad scales
    short = os.path.join(SAMPLE, "bcsd_obs_1999.nc")
    r = run(["cube", "--input", f"{short}:pr", "--op", "spi:3", "-o", os.path.join(tmp, "bad.tif")], ok=False)
    check(r.returncode == 2 and "record too short (1 year < 10)" in r.stderr and not os.path.exists(os.path.join(tmp, "bad.tif")), f"12 months: {r.stderr.strip()}")
    r = run(["run", "drought.spi", "--input", f"pr={short}:pr", "--aoi", os.path.join(SAMPLE, "nc.gpkg"), "--out", os.path.join(tmp, "bad")], ok=False)
    check(r.returncode == 2 and "record too short (1 year < 10)" in r.stderr and not os.path.exists(os.path.join(tmp, "bad")), f"drought.spi on 12 months: {r.stderr.strip()}")
    r = run(["cube", "--input", f"{short}:pr", "--op", "spi:24", "--min-years", "1", "-o", os.path.join(tmp, "bad.tif")], ok=False)
    check(r.returncode == 2 and "fewer than spi:24's scale of 24 months" in r.stderr, f"12 months for spi:24: {r.stderr.strip()}")
    for bad in ("spi:0", "spi:x", "spi:2.5"):
        r = run(["cube", "--input", f"{path}:pr", "--op", bad, "-o", os.path.join(tmp, "bad.tif")], ok=False)
        check(r.returncode == 2 and bad in r.stderr and not os.path.exists(os.path.join(tmp, "bad.tif")), f"{bad}: {r.stderr.strip()}")
check.finish()
