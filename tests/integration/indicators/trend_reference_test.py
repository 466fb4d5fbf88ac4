#!/usr/bin/env python3
"""Checks sco's trends against pyMannKendall (PyPI; Hussain & Mahmud 2019), the reference Python
implementation of the Seasonal Kendall test and the seasonal Sen slope (Hirsch, Slack & Smith 1982):

1. A monthly cube of 12 years built from the real 1999 temperatures (data/sample/bcsd_obs_1999.nc:
   each year the same 12 real months, plus a known warming of 0.04 degC a year and deterministic
   noise; some pixels lose some months). `sco cube --op sen_slope | mk_z | mk_p` per pixel must equal
   pyMannKendall's seasonal_sens_slope and seasonal_test (period 12) to float32 precision.
2. `sco run heat.trend` on that cube over the North Carolina counties: each county's slope (per
   decade), Z and p must equal pyMannKendall's on the county's own monthly series (the run's
   trend_by_district_series.json), and `method` must say seasonal Kendall.
3. `sco run heat.trend` on the real 12 months of 1999: no trend from one year ("record too short"),
   no slope, no class, rasters all nodata, a warning, and a report that says so.

Usage: trend_reference_test.py SCO_BINARY SAMPLE_DIR (run from the tests' virtual environment).
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from osgeo import gdal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from reference import Checks  # noqa: E402
from cf_cube import read_raster, read_sample_months, write_monthly_cube  # noqa: E402

gdal.UseExceptions()
SCO, SAMPLE = sys.argv[1], sys.argv[2]
check = Checks()
try:
    import pymannkendall as mk
except ImportError as e:
    check.skip(f"pymannkendall is not installed ({e}): scripts/install-deps.sh puts it into .venv")
    check.finish()

YEARS = 12
SLOPE = 0.04  # degC a year


def run(args):
    r = subprocess.run([SCO] + args, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"sco {' '.join(args)} failed: {r.stderr}")
    return r


with tempfile.TemporaryDirectory() as tmp:
    # The real months, north-up as sco sees them; twelve years of them with a warming and noise.
    nc = os.path.join(SAMPLE, "bcsd_obs_1999.nc")
    months, lat, lon = read_sample_months(nc, "tas")
    rng = np.random.default_rng(1999)
    cube = np.concatenate([months + SLOPE * k + rng.normal(0.0, 0.25, months.shape) for k in range(YEARS)])
    cube[rng.random(cube.shape) < 0.03] = np.nan  # some pixels miss some months
    cube = np.round(cube, 2)  # ties, as measured temperatures have
    path = os.path.join(tmp, "tas_1990_2001.nc")
    write_monthly_cube(path, "tas", "degC", cube, lat, lon, 1990)

    # 1. per pixel
    outs = {}
    for op in ("sen_slope", "mk_z", "mk_p"):
        out = os.path.join(tmp, f"{op}.tif")
        run(["-q", "cube", "--input", f"{path}:tas", "--op", op, "-o", out])
        outs[op] = read_raster(out)
    worst = {"slope": 0.0, "z": 0.0, "p": 0.0}
    compared = 0
    for r in range(cube.shape[1]):
        for c in range(cube.shape[2]):
            series = cube[:, r, c]
            if np.isnan(series).all():
                check(np.isnan(outs["sen_slope"][r, c]), f"pixel {r},{c}: no data, no slope")
                continue
            ref = mk.seasonal_test(series, period=12)
            slope = mk.seasonal_sens_slope(series, period=12).slope
            got = outs["sen_slope"][r, c], outs["mk_z"][r, c], outs["mk_p"][r, c]
            for name, a, b in (("slope", got[0], slope), ("z", got[1], ref.z), ("p", got[2], ref.p)):
                worst[name] = max(worst[name], abs(a - b))
            compared += 1
    print(f"1. {compared} pixels: worst |sco - pyMannKendall| slope {worst['slope']:.1e} degC/year, "
          f"Z {worst['z']:.1e}, p {worst['p']:.1e}")
    check(compared > 2000, f"pixels compared: {compared}")
    check(worst["slope"] < 1e-5, f"seasonal Sen slope per pixel: worst difference {worst['slope']}")
    check(worst["z"] < 1e-4, f"seasonal Kendall Z per pixel: worst difference {worst['z']}")
    check(worst["p"] < 1e-5, f"seasonal Kendall p per pixel: worst difference {worst['p']}")
    sl = outs["sen_slope"][np.isfinite(outs["sen_slope"])]
    check(abs(np.median(sl) - SLOPE) < 0.01, f"the built-in warming is found: median slope {np.median(sl):.4f} vs {SLOPE}")

    # 2. per county
    counties = os.path.join(SAMPLE, "nc.gpkg")
    out = os.path.join(tmp, "trend")
    run(["-q", "run", "heat.trend", "--input", f"tas={path}:tas", "--aoi", counties, "--id", "NAME", "--out", out])
    with open(os.path.join(out, "trend_by_district.csv"), newline="") as f:
        rows = {row["NAME"]: row for row in csv.DictReader(f)}
    with open(os.path.join(out, "trend_by_district_series.json")) as f:
        series = json.load(f)
    check(len(series["dates"]) == YEARS * 12, f"{len(series['dates'])} monthly steps in the series")
    worst = {"slope": 0.0, "z": 0.0, "p": 0.0}
    methods = set()
    for name, values in series["series"].items():
        x = np.array([np.nan if v is None else v for v in values])
        ref = mk.seasonal_test(x, period=12)
        slope = 10.0 * mk.seasonal_sens_slope(x, period=12).slope  # per decade
        row = rows[name]
        methods.add(row["method"])
        for key, a, b in (("slope", float(row["slope"]), slope), ("z", float(row["mk_z"]), ref.z), ("p", float(row["p_value"]), ref.p)):
            worst[key] = max(worst[key], abs(a - b))
    print(f"2. {len(rows)} counties: worst |sco - pyMannKendall| slope {worst['slope']:.1e} degC/decade, Z {worst['z']:.1e}, "
          f"p {worst['p']:.1e}; methods {sorted(methods)}")
    check(len(rows) == 100, f"{len(rows)} counties")
    check(worst["slope"] < 1e-6 and worst["z"] < 1e-6 and worst["p"] < 1e-6, f"county trends: {worst}")
    check(methods == {"seasonal Kendall (12 seasons)"}, f"method column: {methods}")

    # 3. the real 12 months of 1999: too short a record for any trend
    out = os.path.join(tmp, "short")
    r = run(["run", "heat.trend", "--input", f"tas={nc}:tas", "--aoi", counties, "--id", "NAME", "--out", out])
    check("record too short (1 year < 10)" in r.stderr + r.stdout, "a warning says the record is too short")
    with open(os.path.join(out, "trend_by_district.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    check(all(row["slope"] in ("", "nan") for row in rows), "no county has a slope")
    check(all(row.get("class", "") == "" for row in rows), "no county has a class")
    check(all(row["method"] == "record too short (1 year < 10)" for row in rows), "every county says why")
    slope = read_raster(os.path.join(out, "slope.tif"))
    check(np.isnan(slope).all(), "the slope raster is all nodata")
    md = gdal.Info(os.path.join(out, "slope.tif"), format="json")["metadata"][""]
    check(md.get("SCO_TREND_METHOD") == "record too short (1 year < 10)", f"raster metadata: {md.get('SCO_TREND_METHOD')}")
    with open(os.path.join(out, "report.html")) as f:
        html = f.read()
    check("No trend is reported" in html and "record too short" in html, "the report says no trend is reported")
check.finish()
