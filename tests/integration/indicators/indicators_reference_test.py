#!/usr/bin/env python3
"""Built-in indicators on the real sample data against values computed independently here with
GDAL and numpy: per-pixel results exactly (or to float32 rounding), per-district figures against a
100-fold supersampled rasterisation of the districts (GDAL's rasterizer, a second tool). Also: the same
recipe on two areas of interest, byte-identical reruns, a recipe file with a risk step, and the bad
inputs the issue names, each failing before any output appears.

Images compared between dates are the real Landsat-7 scene and copies of it under the transformations
written below (test fixtures, not observations).

Usage: indicators_reference_test.py SCO SAMPLE_DIR
"""
import filecmp
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from osgeo import gdal, ogr

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from reference import Checks, supersampled_fractions  # noqa: E402

gdal.UseExceptions()
SCO, SAMPLE = sys.argv[1], sys.argv[2]
NC = os.path.join(SAMPLE, "bcsd_obs_1999.nc")
COUNTIES = os.path.join(SAMPLE, "nc.gpkg")
SCENE = os.path.join(SAMPLE, "L7_ETMs.tif")
TRACTS = os.path.join(SAMPLE, "olinda1.shp")
TMP = tempfile.mkdtemp(prefix="sco-ind-")
check = Checks()




def run(args, ok=True):
    r = subprocess.run([SCO] + args, capture_output=True, text=True)
    if ok and r.returncode != 0:
        raise SystemExit(f"sco {' '.join(args)} failed: {r.stderr}")
    return r


def sco_run(recipe, inputs, aoi, out, idf, params=()):
    args = ["--quiet", "--catalog", os.path.join(TMP, "catalog"), "run", recipe, "--aoi", aoi, "--id", idf, "--out", out]
    for i in inputs:
        args += ["--input", i]
    for p in params:
        args += ["--param", p]
    run(args)
    return out


def read(path):
    ds = gdal.Open(path)
    a = ds.GetRasterBand(1).ReadAsArray().astype(np.float64)
    return a, ds.GetGeoTransform()


def table(path, key):
    import csv
    with open(path) as f:
        return {row[key]: row for row in csv.DictReader(f)}


def cut(full, full_gt, gt, shape):
    """The window of `full` (leading axes kept) that the cropped output grid `gt` covers."""
    c = int(round((gt[0] - full_gt[0]) / full_gt[1]))
    r = int(round((gt[3] - full_gt[3]) / full_gt[5]))
    return full[..., r:r + shape[0], c:c + shape[1]]



def fractions(raster_path, zones_path, factor=20):
    return supersampled_fractions(raster_path, zones_path, factor)


def zone_ids(path, field):
    ds = ogr.Open(path)
    return [str(f.GetField(field)) if field != "ID" else "%.15g" % f.GetField(field) for f in ds.GetLayer()]


def district_means(values, frac):
    valid = ~np.isnan(values)
    v = np.where(valid, values, 0.0)
    w = frac * valid
    with np.errstate(invalid="ignore", divide="ignore"):
        return (w * v).sum(axis=(1, 2)) / w.sum(axis=(1, 2))


def close(a, b, tol):
    if a is None or a == "" or (isinstance(b, float) and math.isnan(b)):
        return (a is None or a == "") and (isinstance(b, float) and math.isnan(b))
    return abs(float(a) - b) <= tol * max(1.0, abs(b))


def climate(var):
    ds = gdal.Open(f'NETCDF:"{NC}":{var}')
    a = ds.ReadAsArray().astype(np.float64)
    a[a > 1e19] = np.nan
    return a, ds.GetGeoTransform()


tas, nc_gt = climate("tas")
pr, _ = climate("pr")
names = zone_ids(COUNTIES, "NAME")

# 1. heat.hot_months: steps above 25 C ---------------------------------------------------------------
out = sco_run("heat.hot_months", [f"tas={NC}:tas"], COUNTIES, os.path.join(TMP, "hot"), "NAME")
got, gt = read(os.path.join(out, "hot_steps.tif"))
expected = np.where(np.isnan(tas).all(axis=0), np.nan, (tas > 25).sum(axis=0))
exp = cut(expected, nc_gt, gt, got.shape)
check(np.array_equal(np.isnan(got), np.isnan(exp)), "hot_steps nodata pattern")
check(np.nanmax(np.abs(got - exp)) == 0, f"hot_steps values differ by {np.nanmax(np.abs(got - exp))}")
check(np.nanmax(got) == 3, f"hot_steps max {np.nanmax(got)} (1999: at most 3 months above 25 C)")
frac_nc = fractions(os.path.join(out, "hot_steps.tif"), COUNTIES)
means = district_means(got, frac_nc)
rows = table(os.path.join(out, "hot_steps_by_district.csv"), "NAME")
for k, name in enumerate(names):
    r = rows[name]
    check(close(r["mean"], means[k], 0.02), f"hot months {name}: {r['mean']} vs {means[k]}")
    m = float(r["mean"])
    check(r["class"] == ("low" if m < 1 else "high" if m >= 3 else "medium"), f"class of {name}")
gj = json.load(open(os.path.join(out, "hot_steps_by_district.geojson")))
gp = ogr.Open(os.path.join(out, "hot_steps_by_district.gpkg"))
check(gp.GetLayer().GetFeatureCount() == 100, "GeoPackage table")
gp = None
check(len(gj["features"]) == 100 and gj["features"][0]["properties"]["class"] in ("low", "medium", "high"), "GeoJSON table")
prov = json.load(open(os.path.join(out, "provenance.json")))
check(prov["inputs"][0]["sources"][0]["files"][0]["sha256"] == "4457324cd44816c3674e8d7a1a243a4af84f77175962730dc716c705e2e44b2c",
      "provenance: SHA-256 of the NetCDF input")
md = gdal.Open(os.path.join(out, "hot_steps.tif")).GetMetadata()
check(md.get("SCO_RECIPE_SHA256") == prov["recipe"]["sha256"] and "sha256:4457324c" in md.get("SCO_INPUTS", ""), "GeoTIFF provenance tags")
check(gdal.Open(os.path.join(out, "hot_steps.tif")).GetMetadata("IMAGE_STRUCTURE").get("LAYOUT") == "COG", "output raster is a COG")
html = open(os.path.join(out, "report.html")).read()
check("data:image/png;base64," in html and "<svg" in html and "Provenance" in html and "Ashe" in html, "report content")

# The rasters joined the node's catalog, with their provenance.
import sqlite3
db = sqlite3.connect(os.path.join(TMP, "catalog", "catalog.sqlite"))
row = db.execute("SELECT doc FROM items WHERE collection = 'heat.hot_months' AND id = 'hot-hot_steps'").fetchone()
db.close()
check(row is not None, "sco run registered hot_steps in the catalog")
if row:
    reg = json.loads(row[0])
    check(reg["properties"]["start_datetime"] == "1999-01-31T00:00:00Z" and reg["properties"]["end_datetime"] == "1999-12-31T00:00:00Z",
          "registered item: the data's time interval")
    check(reg["properties"]["processing:lineage"].startswith("recipe heat.hot_months 1.0.0 (sha256 " + prov["recipe"]["sha256"]),
          "registered item: lineage with the recipe hash")
    check(reg["assets"]["provenance"]["href"].endswith("/hot/provenance.json"), "registered item: provenance asset")

# Byte-identical rerun, and the same recipe on another area of interest (the "transpose").
again = sco_run("heat.hot_months", [f"tas={NC}:tas"], COUNTIES, os.path.join(TMP, "hot2"), "NAME")
for f in ("hot_steps.tif", "hot_steps_by_district.csv", "hot_steps_by_district.geojson"):
    check(filecmp.cmp(os.path.join(out, f), os.path.join(again, f), shallow=False), f"rerun gives identical {f}")
subset = os.path.join(TMP, "coast.geojson")
gdal.VectorTranslate(subset, COUNTIES, format="GeoJSON", where="NAME IN ('Dare','Hyde','Carteret','Pamlico','Beaufort')")
other = sco_run("heat.hot_months", [f"tas={NC}:tas"], subset, os.path.join(TMP, "hot_coast"), "NAME")
rows2 = table(os.path.join(other, "hot_steps_by_district.csv"), "NAME")
check(sorted(rows2) == sorted(["Dare", "Hyde", "Carteret", "Pamlico", "Beaufort"]), "second area: its 5 districts")
for name, r in rows2.items():
    check(close(r["mean"], float(rows[name]["mean"]), 1e-9), f"second area: {name} {r['mean']} vs {rows[name]['mean']}")
g2, _ = read(os.path.join(other, "hot_steps.tif"))
check(g2.size < got.size, "second area: a smaller working grid")

# 2. heat.anomaly: June-August mean minus the 1999 mean ----------------------------------------------
out = sco_run("heat.anomaly", [f"tas={NC}:tas"], COUNTIES, os.path.join(TMP, "anom"), "NAME",
              ["period_start=1999-06", "period_end=1999-08", "baseline_start=1999", "baseline_end=1999"])
got, gt = read(os.path.join(out, "anomaly.tif"))
with np.errstate(invalid="ignore"):
    import warnings
    warnings.simplefilter("ignore")
    exp = cut(np.nanmean(tas[5:8], axis=0) - np.nanmean(tas, axis=0), nc_gt, gt, got.shape)
check(np.nanmax(np.abs(got - exp)) < 1e-4, f"anomaly differs by {np.nanmax(np.abs(got - exp))}")
check(np.nanmin(got) > 5, "summer is warmer than the year's mean everywhere")

# 3. heat.trend on the 12 months of 1999: one year holds no trend (the seasonal cycle is not one);
# the monthly district means it would test are still computed and kept (the web map's charts).
# The Seasonal Kendall test itself: tests/integration/indicators/trend_reference_test.py.
out = sco_run("heat.trend", [f"tas={NC}:tas"], COUNTIES, os.path.join(TMP, "trend"), "NAME")
slope, gt = read(os.path.join(out, "slope.tif"))
pval, _ = read(os.path.join(out, "p_value.tif"))
check(np.isnan(slope).all() and np.isnan(pval).all(), "no slope and no p-value from one year of months")
win = cut(tas, nc_gt, gt, slope.shape)
frac_t = fractions(os.path.join(out, "slope.tif"), COUNTIES)
series = np.array([district_means(win[k], frac_t) for k in range(12)])  # [step, district]
rows = table(os.path.join(out, "trend_by_district.csv"), "NAME")
with open(os.path.join(out, "trend_by_district_series.json")) as f:
    kept = json.load(f)["series"]
for k, name in enumerate(names[:25]):
    x = series[:, k]
    got = np.array([np.nan if v is None else v for v in kept[name]])
    check(np.nanmax(np.abs(got - x) / np.maximum(1, np.abs(x))) < 2e-3, f"monthly mean series of {name}")
    r = rows[name]
    check(r["slope"] in ("", "nan") and r["significant"] == "" and r["method"] == "record too short (1 year < 10)",
          f"no trend for {name}: slope {r['slope']!r}, method {r['method']!r}")

# 4. precipitation: total, maximum, wet extremes above the pixel's p90, dry spells below 100 mm --------
out = sco_run("precipitation.total", [f"pr={NC}:pr"], COUNTIES, os.path.join(TMP, "prt"), "NAME")
got, gt = read(os.path.join(out, "total.tif"))
check(np.nanmax(np.abs(got - cut(np.nansum(pr, axis=0), nc_gt, gt, got.shape))) < 0.01, "precipitation total")
got, gt = read(os.path.join(out, "wettest_step.tif"))
check(np.nanmax(np.abs(got - cut(np.nanmax(pr, axis=0), nc_gt, gt, got.shape))) < 1e-3, "precipitation maximum")
out = sco_run("precipitation.wet_extremes", [f"pr={NC}:pr"], COUNTIES, os.path.join(TMP, "prx"), "NAME")
got, gt = read(os.path.join(out, "wet_extremes.tif"))
p90 = np.nanpercentile(pr, 90, axis=0)
exp = np.where(np.isnan(p90), np.nan, (pr > p90).sum(axis=0))
check(np.nanmax(np.abs(got - cut(exp, nc_gt, gt, got.shape))) == 0, "wet extremes above each pixel's p90")
out = sco_run("precipitation.dry_spells", [f"pr={NC}:pr"], COUNTIES, os.path.join(TMP, "prd"), "NAME")
got, gt = read(os.path.join(out, "dry_spell.tif"))


def longest_run(x):
    best = run_ = 0
    for v in x:
        run_ = run_ + 1 if (not math.isnan(v) and v < 100) else 0
        best = max(best, run_)
    return best


exp = np.full(pr.shape[1:], np.nan)
for r in range(pr.shape[1]):
    for c in range(pr.shape[2]):
        if not np.isnan(pr[:, r, c]).all():
            exp[r, c] = longest_run(pr[:, r, c])
check(np.nanmax(np.abs(got - cut(exp, nc_gt, gt, got.shape))) == 0, "dry spells: longest run below 100 mm")

# 5. Images: the real scene and transformed copies (test fixtures) ------------------------------------
scene_ds = gdal.Open(SCENE)
bands = scene_ds.ReadAsArray().astype(np.float64)  # 6 x rows x cols, Landsat-7 layout B1 B2 B3 B4 B5 B7
scene_gt = scene_ds.GetGeoTransform()


def write_scene(path, arr):
    ds = gdal.GetDriverByName("GTiff").Create(path, arr.shape[2], arr.shape[1], arr.shape[0], gdal.GDT_Byte)
    ds.SetGeoTransform(scene_gt)
    ds.SetProjection(scene_ds.GetProjection())
    for i in range(arr.shape[0]):
        ds.GetRasterBand(i + 1).WriteArray(arr[i].astype(np.uint8))
    ds = None


def nd(a, b):
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a - b) / (a + b)
    r[~np.isfinite(r)] = np.nan
    return r


tract_ids = zone_ids(TRACTS, "ID")
tracts_ds = ogr.Open(TRACTS)  # the bindings crash if a layer outlives its datasource
pop = [f.GetField("V014") for f in tracts_ds.GetLayer()]

# urban.ndbi on the real scene.
out = sco_run("urban.ndbi", [f"scene={SCENE}"], TRACTS, os.path.join(TMP, "ndbi"), "ID", ["sensor=landsat7", "population_field=V014"])
got, gt = read(os.path.join(out, "ndbi.tif"))
exp_ndbi = cut(nd(bands[4], bands[3]), scene_gt, gt, got.shape)
check(np.nanmax(np.abs(got - exp_ndbi)) < 1e-6, f"NDBI differs by {np.nanmax(np.abs(got - exp_ndbi))}")
frac_o = fractions(os.path.join(out, "ndbi.tif"), TRACTS)
share = district_means(np.where(np.isnan(exp_ndbi), np.nan, (exp_ndbi > 0).astype(float)), frac_o)
rows = table(os.path.join(out, "built_up_by_district.csv"), "ID")
for k, tid in enumerate(tract_ids):
    r = rows[tid]
    check(close(r["exposed_fraction"], share[k], 0.03), f"built-up share tract {tid}: {r['exposed_fraction']} vs {share[k]}")
    check(abs(float(r["exposed_residents"]) - float(r["exposed_fraction"]) * pop[k]) < 1e-6 * max(1, pop[k]), f"residents tract {tid}")

# water.flood: "flood" = SWIR1 (band 5) set to 0 in rows 150..199, columns 100..199 of the scene.
flood_scene = os.path.join(TMP, "flood_fixture.tif")
fl = bands.copy()
fl[4, 150:200, 100:200] = 0
write_scene(flood_scene, fl)
out = sco_run("water.flood", [f"scene={flood_scene}", f"baseline_scene={SCENE}"], TRACTS, os.path.join(TMP, "flood"), "ID",
              ["sensor=landsat7", "population_field=V014"])
got, gt = read(os.path.join(out, "flooded.tif"))
m_new, m_old = nd(fl[1], fl[4]), nd(bands[1], bands[4])
exp = np.where(np.isnan(m_new) | np.isnan(m_old), np.nan, ((m_new > 0) & ~(m_old > 0)).astype(float))
exp = cut(exp, scene_gt, gt, got.shape)
check(np.array_equal(np.nan_to_num(got, nan=-1), np.nan_to_num(exp, nan=-1)), "flooded pixels")
check(np.nansum(got) > 100, f"the fixture floods pixels ({np.nansum(got)})")
frac_f = fractions(os.path.join(out, "flooded.tif"), TRACTS)
fshare = district_means(exp, frac_f)
rows = table(os.path.join(out, "flood_by_district.csv"), "ID")
for k, tid in enumerate(tract_ids):
    check(close(rows[tid]["exposed_fraction"], fshare[k], 0.03), f"flooded share tract {tid}: {rows[tid]['exposed_fraction']} vs {fshare[k]}")

# The same with the baseline scene on another grid (the scene warped to WGS 84, a fixture): it is
# brought back onto the current scene's grid by GDAL with the stated resampling.
warped_baseline = os.path.join(TMP, "baseline_wgs84.tif")
gdal.Warp(warped_baseline, SCENE, dstSRS="EPSG:4326", resampleAlg="near")
out_w = os.path.join(TMP, "flood_warped")
run(["--quiet", "--catalog", os.path.join(TMP, "catalog"), "run", "water.flood", "--input", f"scene={flood_scene}", "--input", f"baseline_scene={warped_baseline}", "--aoi", TRACTS,
     "--id", "ID", "--param", "sensor=landsat7", "--resampling", "near", "--out", out_w])
prov = json.load(open(os.path.join(out_w, "provenance.json")))
check(prov["resampling"] == "near" and len(prov["warped_inputs"]) == 1 and "baseline_wgs84.tif" in prov["warped_inputs"][0],
      f"warped input recorded: {prov['warped_inputs']}")
gw, gtw = read(os.path.join(out_w, "flooded.tif"))
check(gtw == gt and gw.shape == got.shape, "the working grid is the current scene's")
check(abs(np.nansum(gw) - np.nansum(got)) < 0.1 * np.nansum(got), f"flooded pixels after warping {np.nansum(gw)} vs {np.nansum(got)}")

# fire.dnbr: "burn" = NIR (band 4) halved in rows 50..119, columns 60..159.
post = os.path.join(TMP, "burn_fixture.tif")
bu = bands.copy()
bu[3, 50:120, 60:160] = np.floor(bu[3, 50:120, 60:160] / 2)
write_scene(post, bu)
out = sco_run("fire.dnbr", [f"pre={SCENE}", f"post={post}"], TRACTS, os.path.join(TMP, "fire"), "ID", ["sensor=landsat7"])
got, gt = read(os.path.join(out, "dnbr.tif"))
exp = cut(nd(bands[3], bands[5]) - nd(bu[3], bu[5]), scene_gt, gt, got.shape)
check(np.nanmax(np.abs(got - exp)) < 1e-6, "dNBR")
sev, _ = read(os.path.join(out, "severity.tif"))
edges = [-0.25, -0.1, 0.1, 0.27, 0.44, 0.66]
exp_sev = np.where(np.isnan(got), np.nan, sum((got >= e).astype(float) for e in edges))
check(np.array_equal(np.nan_to_num(sev, nan=-1), np.nan_to_num(exp_sev, nan=-1)), "USGS severity classes")
check(np.nanmax(sev) >= 4 and np.nanmin(sev) <= 2, "the fixture burns with several severities")

# vegetation.vci: history = NDVI - 0.1, 0.5 NDVI + 0.2, NDVI + 0.3 (three fixtures with dates).
ndvi = nd(bands[3], bands[2])
hist = []
for k, (a, b) in enumerate([(1, -0.1), (0.5, 0.2), (1, 0.3)]):
    p = os.path.join(TMP, f"ndvi_{2016 + k}-07-01.tif")
    ds = gdal.GetDriverByName("GTiff").Create(p, ndvi.shape[1], ndvi.shape[0], 1, gdal.GDT_Float32)
    ds.SetGeoTransform(scene_gt)
    ds.SetProjection(scene_ds.GetProjection())
    ds.GetRasterBand(1).SetNoDataValue(float("nan"))
    ds.GetRasterBand(1).WriteArray(a * ndvi + b)
    ds = None
    hist.append(a * ndvi + b)
out = sco_run("vegetation.vci", [f"scene={SCENE}"] + [f"ndvi_history={os.path.join(TMP, f'ndvi_{2016 + k}-07-01.tif')}" for k in range(3)],
              TRACTS, os.path.join(TMP, "vci"), "ID", ["sensor=landsat7"])
got, gt = read(os.path.join(out, "vci.tif"))
h = np.array(hist).astype(np.float32).astype(np.float64)
with np.errstate(invalid="ignore", divide="ignore"):
    exp = np.clip(100 * (ndvi - h.min(0)) / (h.max(0) - h.min(0)), 0, 100)
exp[~np.isfinite(exp)] = np.nan
exp = cut(exp, scene_gt, gt, got.shape)
check(np.nanmax(np.abs(got - exp)) < 1e-3, f"VCI differs by {np.nanmax(np.abs(got - exp))}")
rows = table(os.path.join(out, "vci_by_district.csv"), "ID")
labels = {r["class"] for r in rows.values()}
check(labels <= {"drought", "fair", "good", ""}, f"VCI classes {labels}")

# 6. A recipe file with a risk step: hazard = built-up share, exposure = residents -------------------
recipe = {
    "sco_recipe": 1, "id": "test.heat_risk", "version": "0.1", "title": "Built-up heat risk",
    "references": ["test"],
    "inputs": {"scene": {"kind": "image"}},
    "steps": [
        {"id": "ndbi", "op": "index.ndbi", "input": "scene", "sensor": "landsat7"},
        {"id": "built", "op": "raster.calc", "expression": "ndbi > 0.1"},
        {"id": "share", "op": "zonal.stats", "raster": "ndbi", "stats": ["mean"],
         "exposure": {"mask": "built", "population_field": "V014"}, "output": True},
        {"id": "risk", "op": "risk", "hazard": {"step": "share", "column": "exposed_fraction"},
         "exposure": {"step": "share", "column": "residents"}, "classes": {"column": "risk", "thresholds": [0.2, 0.5]}, "output": True},
    ],
}
rpath = os.path.join(TMP, "risk.json")
json.dump(recipe, open(rpath, "w"))
out = sco_run(rpath, [f"scene={SCENE}"], TRACTS, os.path.join(TMP, "risk"), "ID")
rows = table(os.path.join(out, "risk.csv"), "ID")
hz = np.array([float(rows[t]["hazard"]) for t in tract_ids])
ex = np.array([float(rows[t]["exposure"]) for t in tract_ids])
expected_risk = (hz - hz.min()) / (hz.max() - hz.min()) * (ex - ex.min()) / (ex.max() - ex.min())
got_risk = np.array([float(rows[t]["risk"]) for t in tract_ids])
check(np.max(np.abs(got_risk - expected_risk)) < 1e-9, "risk = normalised hazard x normalised exposure")

# 6b. Masks: a quality cube (a fixture: July flagged 0, every other month 1) and a static mask (a
# fixture: the western half of the grid 0) on the hot-month count.
qa_path, land_path = os.path.join(TMP, "qa.tif"), os.path.join(TMP, "land.tif")
ds = gdal.GetDriverByName("GTiff").Create(qa_path, tas.shape[2], tas.shape[1], 12, gdal.GDT_Byte)
ds.SetGeoTransform(nc_gt)
ds.SetProjection("EPSG:4326")  # sco takes CF latitude/longitude grids as WGS 84
for k in range(12):
    ds.GetRasterBand(k + 1).WriteArray(np.full(tas.shape[1:], 0 if k == 6 else 1, np.uint8))
ds = None
ds = gdal.GetDriverByName("GTiff").Create(land_path, tas.shape[2], tas.shape[1], 1, gdal.GDT_Byte)
ds.SetGeoTransform(nc_gt)
ds.SetProjection("EPSG:4326")
land = np.ones(tas.shape[1:], np.uint8)
land[:, : tas.shape[2] // 2] = 0
ds.GetRasterBand(1).WriteArray(land)
ds = None
masked = {
    "sco_recipe": 1, "id": "test.masked_hot", "version": "0.1", "title": "masked", "references": ["test"],
    "inputs": {"tas": {"kind": "cube"}, "qa": {"kind": "cube"}, "land": {"kind": "raster"}},
    "steps": [{"id": "hot", "op": "cube.reduce", "input": "tas", "reducer": "count_above", "threshold": 25,
               "quality": "qa", "quality_valid": [1], "mask": "land", "output": True},
              {"id": "t", "op": "zonal.stats", "raster": "hot", "stats": ["mean"], "output": True}],
}
mpath = os.path.join(TMP, "masked.json")
json.dump(masked, open(mpath, "w"))
out = sco_run(mpath, [f"tas={NC}:tas", f"qa={qa_path}", f"land={land_path}"], COUNTIES, os.path.join(TMP, "masked"), "NAME")
got, gt = read(os.path.join(out, "hot.tif"))
keep = np.array([k != 6 for k in range(12)])
exp = np.where(np.isnan(tas[keep]).all(axis=0) | (land == 0), np.nan, (tas[keep] > 25).sum(axis=0))
exp = cut(exp, nc_gt, gt, got.shape)
check(np.array_equal(np.nan_to_num(got, nan=-1), np.nan_to_num(exp, nan=-1)), "quality cube and static mask")
check(np.nansum(got) < np.nansum(cut(np.where(land == 0, np.nan, (tas > 25).sum(axis=0)), nc_gt, gt, got.shape)), "July's hot months left out")

# 7. Bad input: one clear line, exit 2, no output folder and nothing staged left -----------------------
def bad(args, needle, code=2):
    outdir = os.path.join(TMP, "bad_out")
    r = run(["--catalog", os.path.join(TMP, "catalog"), "run"] + args + ["--out", outdir], ok=False)
    check(r.returncode == code, f"exit {r.returncode} for {args[:2]} ({r.stderr.strip()})")
    check(needle in r.stderr, f"message for {args[:2]}: {r.stderr.strip()!r} lacks {needle!r}")
    check(r.stderr.count("\n") == 1, f"one line for {args[:2]}")
    check(not os.path.exists(outdir) and not [f for f in os.listdir(TMP) if "sco-partial" in f], f"nothing left for {args[:2]}")


broken = os.path.join(TMP, "broken.json")
open(broken, "w").write('{\n  "sco_recipe": 1,\n  "id": "x"\n  "version": "1"\n}\n')
bad([broken, "--input", f"tas={NC}:tas", "--aoi", COUNTIES], "not valid JSON at line 4, column")
unknown = dict(recipe, steps=[dict(recipe["steps"][0], op="index.nvdi", output=True)])
json.dump(unknown, open(os.path.join(TMP, "unknown.json"), "w"))
bad([os.path.join(TMP, "unknown.json"), "--input", f"scene={SCENE}", "--aoi", TRACTS], "step 'ndbi': field 'op': unknown index 'nvdi'")
bad(["heat.hot_months", "--input", f"tas={NC}:tas", "--aoi", COUNTIES, "--param", "treshold=30"], "has no parameter 'treshold'")
bad(["water.flood", "--input", f"scene={SCENE}", "--aoi", TRACTS], "missing input 'baseline_scene'")
bad(["heat.anomaly", "--input", f"tas={NC}:tas", "--aoi", COUNTIES, "--param", "baseline_start=1961", "--param", "baseline_end=1990"],
    "field 'baseline': 1961..1990 is outside the data of input 'tas' (1999-01-31..1999-12-31)")
bad(["heat.hot_months", "--input", f"tas={NC}:tas", "--aoi", os.path.join(SAMPLE, "lux.shp")], "does not overlap")
bad(["heat.hot_months", "--input", f"tas={NC}:tsa", "--aoi", COUNTIES], "has no variable 'tsa' (variables: pr, tas)", code=3)
bad(["heat.hot_months", "--input", f"tas={NC}:tas", "--aoi", COUNTIES, "--id", "NOM"], "has no field 'NOM'", code=3)

shutil.rmtree(TMP)
check.finish()
