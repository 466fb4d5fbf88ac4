#!/usr/bin/env python3
"""Checks sco's ETCCDI indices of extremes (cube.etccdi, the built-ins heat.etccdi and
precipitation.etccdi) against xclim (Bourgault et al. 2023, JOSS 8(85):5415), the reference:

Thirty years (1981-2010, the noleap calendar) of SYNTHETIC daily data on a 12 x 16 window of the
North Carolina sample grid, from stated distributions (no real 30-year daily series is in the
sample data):
  tasmax = 16 + 11 sin(2 pi (day - 110) / 365) + 0.04 (year - 1981) + 0.3 (col - row) + AR(1) noise
           (phi 0.7, innovations N(0, 3^2)) degC, stored in kelvin (the op converts);
  tasmin = tasmax - 7 - |N(0, 2^2)| degC, stored in kelvin;
  pr     = wet with probability 0.33 (0.45 from November to March), then Gamma(shape 0.75,
           scale 10 + 0.5 col) mm/day; dry days 0 (a few dry days 0.3 mm).
1. Every index of cube.etccdi, every year and pixel, against xclim.indices on the same values (the
   percentile ones with xclim's percentile_doy: 5-day window, definition 8, base 1981-2010; R95p and
   R99p with the wet-day percentile by numpy's definition 8 and xclim's fraction_over_precip_thresh).
2. The missing-day rule: a pixel missing 16 days of 1990 has no 1990 value; missing 15 of 1991 it has.
3. The built-ins per county: the tables hold each year's county mean ('2010_mean', ...) and the last
   year's under 'mean'.
4. Bad input: a monthly cube, a gap in the days, a base period with too few years, an unknown index:
   exit 2 with one line naming the problem, no output.

Usage: etccdi_reference_test.py SCO_BINARY SAMPLE_DIR (run from the tests' virtual environment).
"""
import csv
import json
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
from osgeo import gdal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from reference import Checks  # noqa: E402
from cf_cube import read_sample_months, write_daily_cube  # noqa: E402

SCO, SAMPLE = sys.argv[1], sys.argv[2]
check = Checks()
warnings.filterwarnings("ignore")
try:
    import xarray as xr
    import xclim.indices as xi
    from xclim.core.calendar import percentile_doy
    from xclim.indicators import atmos
except ImportError as e:
    check.skip(f"xclim is not installed ({e}): scripts/install-deps.sh puts it into .venv")
    check.finish()

FIRST, YEARS, DAYS = 1981, 30, 365
N = YEARS * DAYS
_, LAT, LON = read_sample_months(os.path.join(SAMPLE, "bcsd_obs_1999.nc"), "pr")
LAT, LON = LAT[12:24], LON[30:46]  # file order (ascending latitudes)
H, W = len(LAT), len(LON)


def synthetic():
    rng = np.random.default_rng(2011)
    day = np.arange(N)
    doy, year = day % DAYS, day // DAYS
    rows, cols = np.mgrid[0:H, 0:W]
    base = 16 + 11 * np.sin(2 * np.pi * (doy - 110) / DAYS) + 0.04 * year
    noise = np.empty((N, H, W))
    noise[0] = rng.normal(0, 3, (H, W))
    innov = rng.normal(0, 3, (N, H, W))
    for t in range(1, N):
        noise[t] = 0.7 * noise[t - 1] + innov[t]
    tx = base[:, None, None] + 0.3 * (cols - rows)[None] + noise
    tn = tx - 7 - np.abs(rng.normal(0, 2, (N, H, W)))
    month = np.array([int(m) for m in (doy * 12) // DAYS])  # rough months for the wet season
    p_wet = np.where((month >= 10) | (month <= 2), 0.45, 0.33)[:, None, None]
    wet = rng.random((N, H, W)) < p_wet
    amount = rng.gamma(0.75, 1.0, (N, H, W)) * (10 + 0.5 * cols)[None]
    pr = np.where(wet, amount, 0.0)
    pr[(~wet) & (rng.random((N, H, W)) < 0.05)] = 0.3
    pr[np.isclose(pr, 1.0, atol=1e-4)] += 0.01  # keep "wet" (>= 1) and xclim's "> 1" the same days
    return (tx + 273.15).astype(np.float32), (tn + 273.15).astype(np.float32), pr.astype(np.float32)


def as_read(k):
    """A kelvin float32 file value as sco reads it: float32, then - 273.15 in double."""
    return k.astype(np.float64) - 273.15


def run(args, ok=True):
    r = subprocess.run([SCO] + args, capture_output=True, text=True)
    if ok and r.returncode != 0:
        raise SystemExit(f"sco {' '.join(args)} failed: {r.stderr}")
    return r


def band_stack(path):
    ds = gdal.Open(path)
    a = ds.ReadAsArray().astype(np.float64)
    names = [ds.GetRasterBand(b + 1).GetDescription() for b in range(ds.RasterCount)]
    ds = None
    return a.reshape((-1,) + a.shape[-2:]), names


def reference(tx, tn, pr):
    """xclim's indices, [year, row, col] north-up."""
    time = xr.date_range(f"{FIRST}-01-01", periods=N, freq="D", calendar="noleap", use_cftime=True)

    def da(v, units):
        return xr.DataArray(v, dims=("time", "y", "x"), coords={"time": time}, attrs={"units": units})

    TX, TN, PR = da(tx, "degC"), da(tn, "degC"), da(pr, "mm/d")
    y = "YS"
    days = xr.DataArray(np.full(YEARS, float(DAYS)), dims="time")
    tx90 = percentile_doy(TX, window=5, per=90).sel(percentiles=90)
    tn90 = percentile_doy(TN, window=5, per=90).sel(percentiles=90)
    tx10 = percentile_doy(TX, window=5, per=10).sel(percentiles=10)
    tn10 = percentile_doy(TN, window=5, per=10).sel(percentiles=10)
    wet = np.where(pr >= 1, pr, np.nan)
    ref = {
        "TXx": xi.tx_max(TX, freq=y), "TXn": xi.tx_min(TX, freq=y), "TNx": xi.tn_max(TN, freq=y), "TNn": xi.tn_min(TN, freq=y),
        "SU": xi.tx_days_above(TX, thresh="25 degC", freq=y), "ID": xi.ice_days(TX, thresh="0 degC", freq=y),
        "TR": xi.tn_days_above(TN, thresh="20 degC", freq=y), "FD": xi.frost_days(TN, thresh="0 degC", freq=y),
        "TX90p": xi.tx90p(TX, tx90, freq=y) / days.values[:, None, None] * 100,
        "TN90p": xi.tn90p(TN, tn90, freq=y) / days.values[:, None, None] * 100,
        "TX10p": xi.tx10p(TX, tx10, freq=y) / days.values[:, None, None] * 100,
        "TN10p": xi.tn10p(TN, tn10, freq=y) / days.values[:, None, None] * 100,
        "WSDI": xi.warm_spell_duration_index(TX, tx90, window=6, freq=y),
        "CSDI": xi.cold_spell_duration_index(TN, tn10, window=6, freq=y),
        "Rx1day": xi.max_1day_precipitation_amount(PR, freq=y), "Rx5day": xi.max_n_day_precipitation_amount(PR, window=5, freq=y),
        "R10mm": xi.wetdays(PR, thresh="10 mm/d", freq=y), "R20mm": xi.wetdays(PR, thresh="20 mm/d", freq=y),
        "CDD": xi.maximum_consecutive_dry_days(PR, thresh="1 mm/d", freq=y),
        "CWD": xi.maximum_consecutive_wet_days(PR, thresh="1 mm/d", freq=y),
        "PRCPTOT": atmos.wet_precip_accumulation(pr=PR, thresh="1 mm/d", freq=y),
        "SDII": xi.daily_pr_intensity(PR, thresh="1 mm/d", freq=y),
    }
    for name, q in (("R95p", 0.95), ("R99p", 0.99)):
        per = xr.DataArray(np.nanquantile(wet, q, axis=0, method="median_unbiased"), dims=("y", "x"), attrs={"units": "mm/d"})
        frac = xi.fraction_over_precip_thresh(PR, per, thresh="1 mm/d", freq=y)
        ref[name] = frac * ref["PRCPTOT"]
    return {k: np.asarray(v.values if hasattr(v, "values") else v, dtype=np.float64) for k, v in ref.items()}


def compare_all(where, ref, skip_pixel):
    for name, want in ref.items():
        got, bands = band_stack(os.path.join(where[name], name.lower() + ".tif"))
        mask = np.ones(want.shape, bool)
        mask[:, skip_pixel[0], skip_pixel[1]] = False
        diff = np.abs(got - want)[mask]
        scale = max(1.0, np.nanmax(np.abs(want)))
        worst = np.nanmax(diff) / scale
        same_nan = np.array_equal(np.isnan(got[mask]), np.isnan(want[mask]))
        print(f"1. {name:8s} {want.shape[0]} years x {H * W} pixels: worst |sco - xclim| / max {worst:.1e}")
        check(got.shape == want.shape and bands == [str(FIRST + i) for i in range(YEARS)], f"{name}: bands {bands[:2]}.. shape {got.shape}")
        check(same_nan and worst < 2e-6, f"{name}: worst relative difference {worst}, same nodata {same_nan}")


TX_INDICES = ("TXx", "TXn", "SU", "ID", "TX90p", "TX10p", "WSDI")
TN_INDICES = ("TNx", "TNn", "TR", "FD", "TN90p", "TN10p", "CSDI")
HEAT = ["TXx", "TNn", "SU", "TR", "FD", "TX90p", "TN90p", "WSDI"]
RAIN = ["Rx1day", "Rx5day", "R10mm", "R95p", "CDD", "CWD", "PRCPTOT", "SDII"]
ALL = ["TXx", "TXn", "TNx", "TNn", "SU", "ID", "TR", "FD", "TX90p", "TN90p", "TX10p", "TN10p", "WSDI", "CSDI",
       "Rx1day", "Rx5day", "R10mm", "R20mm", "R95p", "R99p", "CDD", "CWD", "PRCPTOT", "SDII"]


def all_indices_recipe(path, names):
    steps = []
    for name in names:
        var = "tasmax" if name in TX_INDICES else "tasmin" if name in TN_INDICES else "pr"
        st = {"id": name.lower(), "op": "cube.etccdi", "input": var, "index": name, "output": True}
        if var != "pr":
            st["input_units"] = "K"
        steps.append(st)
    recipe = {"sco_recipe": 1, "id": "test.etccdi", "version": "1.0.0", "title": "all ETCCDI indices", "category": "test",
              "description": "every index of cube.etccdi", "inputs": {v: {"kind": "cube", "title": v} for v in ("tasmax", "tasmin", "pr")},
              "steps": steps}
    with open(path, "w") as f:
        json.dump(recipe, f)


with tempfile.TemporaryDirectory() as tmp:
    tx_k, tn_k, pr = synthetic()
    missing = (3, 5)
    tx_file, tn_file, pr_file = tx_k.copy(), tn_k.copy(), pr.copy()
    for arr in (tx_file, tn_file, pr_file):
        arr[9 * DAYS + 100:9 * DAYS + 116, missing[0], missing[1]] = np.nan   # 16 days of 1990
        arr[10 * DAYS + 200:10 * DAYS + 215, missing[0], missing[1]] = np.nan  # 15 days of 1991
    files = {}
    for name, values, units in (("tasmax", tx_file, "K"), ("tasmin", tn_file, "K"), ("pr", pr_file, "mm/day")):
        files[name] = os.path.join(tmp, f"{name}.nc")
        write_daily_cube(files[name], name, units, values, LAT, LON, FIRST, "noleap")
    ref = reference(as_read(tx_k), as_read(tn_k), pr.astype(np.float64))
    aoi = os.path.join(SAMPLE, "nc.gpkg")
    inputs = [a for v in ("tasmax", "tasmin", "pr") for a in ("--input", f"{v}={files[v]}:{v}")]

    # 1. every index against xclim: the built-ins' sixteen, and the other eight through a recipe of cube.etccdi steps
    heat = os.path.join(tmp, "heat")
    run(["-q", "run", "heat.etccdi", "--input", f"tasmax={files['tasmax']}:tasmax", "--input", f"tasmin={files['tasmin']}:tasmin",
         "--param", "temperature_units=K", "--aoi", aoi, "--id", "NAME", "--out", heat, "--no-register"])
    rain = os.path.join(tmp, "rain")
    run(["-q", "run", "precipitation.etccdi", "--input", f"pr={files['pr']}:pr", "--aoi", aoi, "--id", "NAME", "--out", rain, "--no-register"])
    recipe = os.path.join(tmp, "others.json")
    all_indices_recipe(recipe, [n for n in ALL if n not in HEAT + RAIN])
    out = os.path.join(tmp, "others")
    run(["-q", "run", recipe, *inputs, "--aoi", aoi, "--id", "NAME", "--out", out, "--no-register"])
    where = {**{n: heat for n in HEAT}, **{n: rain for n in RAIN}, **{n: out for n in ALL if n not in HEAT + RAIN}}
    compare_all(where, ref, missing)

    # 2. the missing-day rule on the pixel with gaps
    txx, _ = band_stack(os.path.join(heat, "txx.tif"))
    r95, _ = band_stack(os.path.join(rain, "r95p.tif"))
    r, c = missing
    check(np.isnan(txx[9, r, c]) and np.isnan(r95[9, r, c]), "16 missing days of 1990: no TXx, no R95p that year")
    check(abs(txx[10, r, c] - np.nanmax(as_read(tx_file[10 * DAYS:11 * DAYS, r, c]))) < 1e-5, "15 missing days of 1991: TXx of the other days")
    print("2. a year missing 16 days has no value; missing 15 it has")

    # 3. the built-ins' tables per county
    for folder, names in ((heat, HEAT), (rain, RAIN)):
        for name in names:
            got, _ = band_stack(os.path.join(folder, name.lower() + ".tif"))
            with open(os.path.join(folder, name.lower() + "_by_district.csv"), newline="") as f:
                rows = list(csv.DictReader(f))
            full = [row for row in rows if row["mean"] not in ("", "nan")]
            ok = len(full) >= 5 and all(row["mean"] == row["2010_mean"] and "1981_mean" in row for row in full)
            check(ok, f"{name} per county: {len(full)} counties with values, last year under 'mean'")
    print("3. heat.etccdi and precipitation.etccdi: per-county tables with every year, the last under 'mean'")

    # 4. bad input: one line, exit 2, no output
    def refused(args, words, what):
        folder = os.path.join(tmp, "bad")
        r = run(["run", *args, "--aoi", aoi, "--out", folder, "--no-register"], ok=False)
        line = r.stderr.strip()
        good = r.returncode == 2 and all(w in line for w in words) and not os.path.exists(folder)
        check(good, f"{what}: exit {r.returncode}: {line}")
        print(f"4. {what}: {line[:150]}")

    monthly = os.path.join(SAMPLE, "bcsd_obs_1999.nc")
    refused(["precipitation.etccdi", "--input", f"pr={monthly}:pr"], ["monthly steps", "'pr'"], "a monthly cube")
    gap = os.path.join(tmp, "gap.nc")
    keep = np.delete(np.arange(N), 400)
    ds_vals = pr[keep]
    from cf_cube import write_cube  # noqa: E402
    write_cube(gap, "pr", "mm/day", ds_vals, LAT, LON, keep.astype(np.float64), f"days since {FIRST}-01-01 00:00:00", "noleap")
    refused(["precipitation.etccdi", "--input", f"pr={gap}:pr"], ["step 401", "is not the day after"], "a missing day")
    refused(["precipitation.etccdi", "--input", f"pr={files['pr']}:pr", "--param", "base_start=2008"], ["base period", "3 year(s)", "min_base_years"],
            "a base of 3 years")
    bad = os.path.join(tmp, "bad.json")
    with open(recipe) as f:
        r = json.load(f)
    r["inputs"] = {"tasmax": r["inputs"]["tasmax"]}
    r["steps"] = [dict(r["steps"][0], index="TXX")]
    with open(bad, "w") as f:
        json.dump(r, f)
    refused([bad, "--input", f"tasmax={files['tasmax']}:tasmax"],
            ["field 'index'", "TXX", "TXx"], "an unknown index")
check.finish()
