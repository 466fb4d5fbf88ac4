#!/usr/bin/env python3
"""Compares `sco zonal` with exactextract (PyPI, the field's reference engine, pinned in
tests/requirements.txt) on the real samples, statistic by statistic and zone by zone:

1. Luxembourg's 12 cantons over elev.tif (Int16, geographic CRS).
2. Olinda's 470 census tracts, reprojected by GDAL to the Landsat scene's UTM 25S (exactextract does
   not reproject; both engines get the same file), over the near-infrared band (Byte).
3. The same tracts over the scene's NDVI (Float32, written here with numpy and GDAL).

Both engines weight cells by their exact coverage fraction. The interpolated quantiles (median,
quantile_Q: sco's default since issue 21, docs/zonal.md) must agree to 1e-6 of the data's range;
count, sum, mean, min, max, stddev and variety to a relative 1e-7 (exactextract's coverage is within
1e-8 of GEOS's areas, sco's within 1e-12); majority up to ties (each picks another value). The
inverted-CDF median (median_icdf, sco's former median) must differ from exactextract's on real-valued
rasters. exactextract returns quantiles in the raster's type (truncated on integer rasters, float32 on
Float32 ones): sco's doubles are compared after the same cast, and as they are on Float64 copies.

Usage: exactextract_test.py SCO_BINARY SAMPLE_DIR (run from the tests' virtual environment).
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
from osgeo import gdal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from reference import Checks  # noqa: E402

gdal.UseExceptions()
SCO, SAMPLE = sys.argv[1], sys.argv[2]
check = Checks()
try:
    from exactextract import exact_extract
except ImportError as e:
    check.skip(f"exactextract is not installed ({e}): scripts/install-deps.sh puts it into .venv")
    check.finish()

# sco's name -> exactextract's operation
PAIRS = [("count", "count"), ("sum", "sum"), ("mean", "mean"), ("min", "min"), ("max", "max"),
         ("stddev", "stdev"), ("variety", "variety"), ("median", "median"),
         ("quantile_10", "quantile(q=0.10)"), ("quantile_25", "quantile(q=0.25)"),
         ("quantile_90", "quantile(q=0.90)"), ("quantile_99", "quantile(q=0.99)")]
QUANTILES = [name for name, _ in PAIRS if name.startswith(("median", "quantile"))]


def sco_zonal(raster, zones, stats):
    r = subprocess.run([SCO, "--json", "zonal", "--raster", raster, "--zones", zones, "--stats", ",".join(stats)],
                       capture_output=True, text=True, check=True)
    return [{k: (math.nan if v is None else float(v)) for k, v in z.items() if k != "fid"}
            for z in json.loads(r.stdout)["zones"]]


def same_quantile(ours, theirs, kind, value_range):
    """exactextract returns a quantile in the raster's type: an integer raster's interpolated quantile
    truncated (471.40 -> 471), a Float32 raster's rounded to float32. sco keeps the double: it must
    give exactextract's after the same cast, and equal it on Float64 rasters."""
    eps = 1e-6 * value_range
    if kind == "int":
        return theirs - eps <= ours < theirs + 1 + eps
    if kind == "float32":
        return abs(float(np.float32(ours)) - theirs) <= eps
    return abs(ours - theirs) <= eps


def compare(label, raster, zones, kind):
    ds = gdal.Open(raster)  # the dataset must outlive its band in GDAL's bindings
    a = ds.GetRasterBand(1).ReadAsArray().astype(float)
    nodata = ds.GetRasterBand(1).GetNoDataValue()
    ds = None
    a = a[np.isfinite(a) & (a != nodata)] if nodata is not None else a[np.isfinite(a)]
    value_range = float(a.max() - a.min())
    ours = sco_zonal(raster, zones, [s for s, _ in PAIRS] + ["median_icdf"] + (["majority", "frac"] if kind != "float32" else []))
    ops = [op for _, op in PAIRS] + (["unique", "frac"] if kind != "float32" else [])
    theirs = exact_extract(raster, zones, ops, output="pandas")
    check(len(ours) == len(theirs), f"{label}: {len(ours)} rows from sco, {len(theirs)} from exactextract")
    worst, bad, icdf_differs, zones_compared = {}, 0, 0, 0
    for k, (row, (_, ref)) in enumerate(zip(ours, theirs.iterrows())):
        if not row["count"] > 0:
            continue
        zones_compared += 1
        for name, op in PAIRS:
            got, want = row[name], float(ref[theirs.columns[ops.index(op)]])
            if name in QUANTILES:
                ok = same_quantile(got, want, kind, value_range)
                err = abs(got - want) / value_range
            else:
                # exactextract's coverage fractions are within ~1e-8 of exact areas (GEOS's), sco's
                # within 1e-12 (zonal_reference): the moments agree to that.
                err = abs(got - want) / max(1.0, abs(want))
                ok = err <= 1e-7
            worst[name] = max(worst.get(name, 0.0), err)
            if not ok:
                bad += 1
                if bad <= 10:
                    check(False, f"{label}, zone {k + 1}: {name} {got!r} vs exactextract {want!r}")
        if kind != "float32":
            # Majority: ties are broken differently (sco: the smaller value); its area must be the largest.
            share = dict(zip((float(u) for u in ref["unique"]), (float(f) for f in ref["frac"])))
            if not abs(share.get(row["majority"], -1) - max(share.values())) <= 1e-7:
                bad += 1
                check(False, f"{label}, zone {k + 1}: majority {row['majority']} is not a value of the largest area")
        icdf_differs += not same_quantile(row["median_icdf"], float(ref[theirs.columns[ops.index("median")]]), kind,
                                          value_range)
    check(bad == 0, f"{label}: {bad} differences")
    print(f"{label}: {zones_compared} zones, worst relative differences (quantiles: of the data's range): " +
          ", ".join(f"{n} {e:.1e}" for n, e in worst.items()) +
          f"; the inverted-CDF median (median_icdf) differs from exactextract's in {icdf_differs} zones")
    if kind != "int":  # (on integers, truncation hides the difference as often as not)
        check(icdf_differs > 0, f"{label}: median_icdf is another definition (it differs somewhere)")


def as_float(src_path, dst_path, gdal_type, array=None):
    src = gdal.Open(src_path)
    out = gdal.GetDriverByName("GTiff").Create(dst_path, src.RasterXSize, src.RasterYSize, 1, gdal_type)
    out.SetGeoTransform(src.GetGeoTransform())
    out.SetProjection(src.GetProjection())
    band = src.GetRasterBand(1)
    values = band.ReadAsArray().astype(np.float64) if array is None else array
    if array is None and band.GetNoDataValue() is not None:
        values[values == band.GetNoDataValue()] = np.nan
    out.GetRasterBand(1).SetNoDataValue(float("nan"))
    out.GetRasterBand(1).WriteArray(values)
    out = None
    return dst_path


with tempfile.TemporaryDirectory() as tmp:
    # 1. Luxembourg, as stored (Int16) and as Float64 (where exactextract's result is not cast)
    elev, lux = os.path.join(SAMPLE, "elev.tif"), os.path.join(SAMPLE, "lux.shp")
    compare("Luxembourg cantons x elev.tif (Int16)", elev, lux, "int")
    compare("Luxembourg cantons x elev.tif as Float64", as_float(elev, os.path.join(tmp, "elev64.tif"), gdal.GDT_Float64),
            lux, "float64")
    # 2./3. Olinda: the tracts reprojected to the scene's CRS; near infrared and NDVI
    landsat = os.path.join(SAMPLE, "L7_ETMs.tif")
    src = gdal.Open(landsat)
    tracts = os.path.join(tmp, "olinda_utm.gpkg")
    gdal.VectorTranslate(tracts, os.path.join(SAMPLE, "olinda1.shp"), dstSRS=src.GetProjection(), format="GPKG")
    nir = os.path.join(tmp, "nir.tif")
    gdal.Translate(nir, src, bandList=[4])
    compare("Olinda tracts x Landsat NIR (Byte)", nir, tracts, "int")
    red, nir_a = (src.GetRasterBand(b).ReadAsArray().astype(np.float64) for b in (3, 4))
    with np.errstate(invalid="ignore", divide="ignore"):
        ndvi = (nir_a - red) / (nir_a + red)
    compare("Olinda tracts x Landsat NDVI (Float32)",
            as_float(nir, os.path.join(tmp, "ndvi32.tif"), gdal.GDT_Float32, ndvi.astype(np.float32)), tracts, "float32")
    compare("Olinda tracts x Landsat NDVI (Float64)",
            as_float(nir, os.path.join(tmp, "ndvi64.tif"), gdal.GDT_Float64, ndvi), tracts, "float64")
check.finish()
