#!/usr/bin/env python3
"""Cloud-masked Sentinel-2 composites on the real L2A series the project carries (data/, from ../shared/data) (Bolzano, June 2022),
read from the node's own catalog (`--input NAME=collection:ID:BAND`), against numpy on the files:

1. vegetation.ndvi_composite: per pixel the number of clear dates (SCL 2, 4, 5, 6, 7, 11) and the
   median NDVI of the clear dates with valid digital numbers (1..32767; 0 is no data, larger values
   are negative reflectances stored unsigned: see the data's README); per district (two halves of
   the window, on cell edges, so every cell counts whole) the mean of each.
2. water.frequency: 100 x (clear dates with NDWI > 0) / (clear dates), per pixel and per district.
3. Catalog filters: `?datetime=START/END` keeps the dates inside; a bbox elsewhere, an unknown band
   and an unknown filter are errors naming them.
4. Bad recipes: an expression over a raster input, cubes on other dates.

Usage: sentinel2_composite_test.py SCO_BINARY SOURCE_DIR. SKIP when the series is neither in data/ nor in ../shared/data.
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from osgeo import gdal, ogr, osr

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from reference import Checks  # noqa: E402
from s2_sample import series_folder  # noqa: E402
from cf_cube import read_raster  # noqa: E402

gdal.UseExceptions()
SCO, SOURCE = sys.argv[1], sys.argv[2]
DATA = series_folder(SOURCE)
check = Checks()
if not DATA:
    check.skip("the Sentinel-2 series is neither in data/ nor in ../shared/data")
    check.finish()
CLEAR = [2, 4, 5, 6, 7, 11]
DATES = sorted(d for d in os.listdir(DATA) if d.isdigit())


def band(date, name):
    ds = gdal.Open(os.path.join(DATA, date, name + ".tif"))
    a = ds.ReadAsArray().astype(np.float64)
    ds = None
    return a


def stack(name):
    return np.array([band(d, name) for d in DATES])


def sco(args, ok=True):
    r = subprocess.run([SCO] + args, capture_output=True, text=True)
    if ok and r.returncode != 0:
        raise SystemExit(f"sco {' '.join(args)} failed: {r.stderr}")
    return r


def districts(path):
    """West and east halves of the window (49 cells each), on cell edges: every cell counts whole."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    layer = ds.CreateLayer("districts", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("name", ogr.OFTString))
    for name, x0, x1 in (("west", 679710, 680200), ("east", 680200, 680690)):
        f = ogr.Feature(layer.GetLayerDefn())
        f.SetField("name", name)
        f.SetGeometry(ogr.CreateGeometryFromWkt(f"POLYGON(({x0} 5151070,{x1} 5151070,{x1} 5151930,{x0} 5151930,{x0} 5151070))"))
        layer.CreateFeature(f)
    ds = None


def rows(path):
    with open(path, newline="") as f:
        return {r["name"]: r for r in csv.DictReader(f)}


red, green, nir, scl = stack("B04"), stack("B03"), stack("B08"), stack("SCL")
clear = np.isin(scl, CLEAR)
valid = lambda *bs: np.logical_and.reduce([(b >= 1) & (b <= 32767) for b in bs])  # noqa: E731

with tempfile.TemporaryDirectory() as tmp:
    cat = os.path.join(tmp, "catalog")
    shutil.copytree(DATA, os.path.join(tmp, "s2"))
    sco(["-q", "--catalog", cat, "ingest", os.path.join(tmp, "s2"), "--collection", "s2", "--sensor", "sentinel2"])
    aoi = os.path.join(tmp, "districts.gpkg")
    districts(aoi)
    run = ["-q", "--catalog", cat, "run"]
    halves = {"west": np.s_[:, :49], "east": np.s_[:, 49:]}

    # 1.
    out = os.path.join(tmp, "ndvi")
    sco(run + ["vegetation.ndvi_composite", "--input", "red=collection:s2:red", "--input", "nir=collection:s2:B08",
               "--input", "scl=collection:s2:SCL", "--aoi", aoi, "--id", "name", "--out", out])
    want_count = clear.sum(axis=0).astype(float)
    got_count = read_raster(os.path.join(out, "clear_count.tif"))
    check(got_count.shape == want_count.shape and np.array_equal(got_count, want_count),
          f"clear dates per pixel: {np.unique(got_count)} vs {np.unique(want_count)}")
    with np.errstate(invalid="ignore", divide="ignore"):
        ndvi = np.where(clear & valid(red, nir), (nir - red) / (nir + red), np.nan)
        want = np.nanmedian(ndvi, axis=0)
    got = read_raster(os.path.join(out, "ndvi_median.tif"))
    check(np.nanmax(np.abs(got - want)) < 1e-6 and np.array_equal(np.isnan(got), np.isnan(want)),
          f"median NDVI of the clear dates: worst {np.nanmax(np.abs(got - want)):.1e}")
    check(((nir > 32767) | (red > 32767)).any(), "the series has wrapped negative reflectances (the case the masks handle)")
    doy = np.array([(np.datetime64(f"{d[:4]}-{d[4:6]}-{d[6:]}") - np.datetime64(f"{d[:4]}-01-01")).astype(int) + 1 for d in DATES], float)
    some = ~np.all(np.isnan(ndvi), axis=0)
    want_day = np.where(some, doy[np.argmax(np.where(np.isnan(ndvi), -np.inf, ndvi), axis=0)], np.nan)  # argmax: the first on ties
    got_day = read_raster(os.path.join(out, "ndvi_peak_day.tif"))
    check(np.array_equal(got_day, want_day, equal_nan=True) and np.isfinite(got_day).sum() > 1000,
          f"day of the highest clear NDVI: {np.unique(got_day[np.isfinite(got_day)])} vs {np.unique(want_day[np.isfinite(want_day)])}")
    table = rows(os.path.join(out, "ndvi_by_district.csv"))
    counts = rows(os.path.join(out, "clear_by_district.csv"))
    for name, sl in halves.items():
        check(abs(float(table[name]["mean"]) - np.nanmean(want[sl])) < 1e-6, f"{name}: mean NDVI {table[name]['mean']} vs {np.nanmean(want[sl])}")
        check(abs(float(counts[name]["mean"]) - want_count[sl].mean()) < 1e-9, f"{name}: mean clear dates")
    print(f"1. {len(DATES)} dates; clear dates per pixel {int(want_count.min())}-{int(want_count.max())}; "
          f"median NDVI per district west {float(table['west']['mean']):.3f}, east {float(table['east']['mean']):.3f}")

    # 2.
    out = os.path.join(tmp, "water")
    sco(run + ["water.frequency", "--input", "green=collection:s2:green", "--input", "nir=collection:s2:nir",
               "--input", "scl=collection:s2:SCL", "--aoi", aoi, "--id", "name", "--out", out])
    ok = clear & valid(green, nir)
    with np.errstate(invalid="ignore", divide="ignore"):
        wet = (ok & ((green - nir) / (green + nir) > 0)).sum(axis=0)
        want = 100.0 * wet / ok.sum(axis=0)
    got = read_raster(os.path.join(out, "frequency.tif"))
    check(np.nanmax(np.abs(got - want)) < 1e-4, f"water frequency: worst {np.nanmax(np.abs(got - want)):.1e}")
    table = rows(os.path.join(out, "frequency_by_district.csv"))
    for name, sl in halves.items():
        check(abs(float(table[name]["mean"]) - np.nanmean(want[sl])) < 1e-4, f"{name}: mean water frequency")
    print(f"2. water frequency per district: west {float(table['west']['mean']):.1f}%, east {float(table['east']['mean']):.1f}%")

    # 3.
    out = os.path.join(tmp, "june10_20")
    sco(run + ["vegetation.ndvi_composite", "--input", "red=collection:s2:red?datetime=2022-06-10/2022-06-20", "--input",
               "nir=collection:s2:nir?datetime=2022-06-10/2022-06-20", "--input", "scl=collection:s2:SCL?datetime=2022-06-10/2022-06-20",
               "--aoi", aoi, "--id", "name", "--out", out])
    inside = [i for i, d in enumerate(DATES) if "20220610" <= d <= "20220620"]
    check(np.array_equal(read_raster(os.path.join(out, "clear_count.tif")), clear[inside].sum(axis=0).astype(float)),
          f"datetime filter: the {len(inside)} dates of 10-20 June")
    with open(os.path.join(out, "provenance.json")) as f:
        prov = json.dumps(json.load(f))
    check("collection:s2:red?datetime=2022-06-10/2022-06-20" in prov, "the provenance records the catalog query")
    for spec, words in (("red=collection:s2:red?bbox=0,0,1,1", "no item of 's2' meets bbox=0,0,1,1"),
                        ("red=collection:s2:B99", "has no asset or band 'B99' (assets: B02, B03, B04, B08, SCL)"),
                        ("red=collection:s2:red?cloud=5", "unknown filter 'cloud' (bbox, datetime)"),
                        ("red=collection:nope:red", "the catalog has no collection 'nope'")):
        r = sco(run + ["vegetation.ndvi_composite", "--input", spec, "--input", "nir=collection:s2:nir", "--input", "scl=collection:s2:SCL",
                       "--aoi", aoi, "--id", "name", "--out", os.path.join(tmp, "bad")], ok=False)
        check(r.returncode in (2, 3) and words in r.stderr and not os.path.exists(os.path.join(tmp, "bad")), f"{spec}: {r.stderr.strip()}")

    # 4.
    recipe = {"sco_recipe": 1, "id": "t", "version": "1", "title": "t", "category": "vegetation", "description": "t", "references": [],
              "inputs": {"red": {"kind": "cube"}, "nir": {"kind": "cube"}, "dem": {"kind": "raster"}}, "parameters": {},
              "steps": [{"id": "x", "op": "cube.reduce", "input": "nir", "expression": "nir - dem", "output": True}]}
    path = os.path.join(tmp, "bad.json")
    with open(path, "w") as f:
        json.dump(recipe, f)
    r = sco(run + [path, "--input", "nir=collection:s2:nir", "--input", "red=collection:s2:red", "--input", f"dem={os.path.join(DATA, '20220602', 'B04.tif')}",
                   "--aoi", aoi, "--id", "name", "--out", os.path.join(tmp, "bad")], ok=False)
    check(r.returncode == 2 and "field 'expression': input 'dem' is a raster" in r.stderr, f"expression over a raster: {r.stderr.strip()}")
    recipe["steps"][0]["expression"] = "nir - red"
    with open(path, "w") as f:
        json.dump(recipe, f)
    r = sco(run + [path, "--input", "nir=collection:s2:nir", "--input", "red=collection:s2:red?datetime=2022-06-10/2022-06-30",
                   "--input", f"dem={os.path.join(DATA, '20220602', 'B04.tif')}", "--aoi", aoi, "--id", "name", "--out", os.path.join(tmp, "bad")], ok=False)
    check(r.returncode == 2 and "cube 'red' (" in r.stderr and "is not on the steps of 'nir'" in r.stderr, f"cubes on other dates: {r.stderr.strip()}")
check.finish()
