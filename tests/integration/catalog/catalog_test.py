#!/usr/bin/env python3
"""sco ingest on the real sample data: items and collections validate against the STAC 1.0 JSON
schemas and the extension schemas (offline, from ../shared/schemas), their footprints agree with
GDAL's own WGS 84 extent, checksums with the data manifest; re-ingesting is a no-op, a changed file
is updated, a corrupt catalog gives one clear error.

Usage: catalog_test.py SCO SAMPLE_DIR SOURCE_DIR
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

from osgeo import gdal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from reference import Checks, supersampled_fractions  # noqa: E402
import stac_schemas  # noqa: E402
from stac_schemas import StacSchemas  # noqa: E402

gdal.UseExceptions()
SCO, SAMPLE, SOURCE = sys.argv[1], sys.argv[2], sys.argv[3]
TMP = tempfile.mkdtemp(prefix="sco-cat-")
check = Checks()




def sco(*args, ok=True):
    r = subprocess.run([SCO, "--catalog", os.path.join(TMP, "cat")] + list(args), capture_output=True, text=True)
    if ok and r.returncode != 0:
        raise SystemExit(f"sco {args} failed: {r.stderr}")
    return r


def docs(kind):
    db = sqlite3.connect(os.path.join(TMP, "cat", "catalog.sqlite"))
    rows = db.execute(f"SELECT doc FROM {kind}").fetchall()
    db.close()
    return [json.loads(r[0]) for r in rows]


# 1. Ingest the sample folder (the DEM and the scene carry no date: --datetime for them).
r = json.loads(sco("--json", "ingest", SAMPLE, "--collection", "sample", "--datetime", "2020-06-01").stdout)
check(r["inserted"] == 3 and sorted(r["items"]) == ["L7_ETMs", "bcsd_obs_1999", "elev"], f"three rasters ingested: {r}")
others = sum(len(files) for _, _, files in os.walk(SAMPLE)) - 3
check(len(r["skipped"]) == others, f"the {others} other files skipped: {len(r['skipped'])}")
items = {i["id"]: i for i in docs("items")}

manifest = {}
for line in open(os.path.join(SOURCE, "data", "manifest.tsv")):
    if line.startswith("#"):
        continue
    sha, _pkg, _path, name = line.rstrip("\n").split("\t")
    manifest[name] = sha
for name, item in items.items():
    asset = next(iter(item["assets"].values()))
    fname = os.path.basename(asset["href"])
    check(asset["file:checksum"] == "1220" + manifest[fname], f"{name}: multihash SHA-256 matches the manifest")
    check(asset["file:size"] == os.path.getsize(os.path.join(SAMPLE, fname)), f"{name}: file size")

# Footprint against GDAL's own WGS 84 extent (gdalinfo -json).
for name, fname in (("L7_ETMs", "L7_ETMs.tif"), ("elev", "elev.tif")):
    info = gdal.Info(os.path.join(SAMPLE, fname), format="json")
    ring = info["wgs84Extent"]["coordinates"][0]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    bbox = items[name]["bbox"]
    check(abs(bbox[0] - min(lons)) < 1e-3 and abs(bbox[2] - max(lons)) < 1e-3 and abs(bbox[1] - min(lats)) < 1e-3 and
          abs(bbox[3] - max(lats)) < 1e-3, f"{name}: bbox {bbox} vs GDAL {min(lons), min(lats), max(lons), max(lats)}")
l7 = items["L7_ETMs"]
check(l7["properties"]["proj:epsg"] == 31985, "L7: EPSG 31985 (SIRGAS 2000 / UTM 25S)")
check(l7["properties"]["proj:shape"] == [352, 349], "L7: shape")
check(len(l7["assets"]["data"]["raster:bands"]) == 6 and l7["assets"]["data"]["raster:bands"][0]["data_type"] == "uint8", "L7: 6 uint8 bands")
check(l7["properties"]["datetime"] == "2020-06-01T00:00:00Z", "L7: the given datetime")
nc = items["bcsd_obs_1999"]
check(nc["properties"]["datetime"] is None and nc["properties"]["start_datetime"] == "1999-01-31T00:00:00Z" and
      nc["properties"]["end_datetime"] == "1999-12-31T00:00:00Z", "NetCDF: interval from its CF time axis")
check(sorted(nc["assets"]) == ["pr", "tas"] and len(nc["assets"]["tas"]["raster:bands"]) == 12, "NetCDF: one asset per variable")
check(abs(nc["bbox"][0] + 85) < 1e-6 and abs(nc["bbox"][2] + 74.875) < 1e-6, f"NetCDF: bbox {nc['bbox']}")
coll = [c for c in docs("collections") if c["id"] == "sample"][0]
check(coll["extent"]["temporal"]["interval"][0] == ["1999-01-31T00:00:00Z", "2020-06-01T00:00:00Z"], "collection temporal extent")
check(abs(coll["extent"]["spatial"]["bbox"][0][0] + 85) < 1e-6, "collection spatial extent")

# An indicator run registers its rasters (processing extension, provenance assets).
sco("--quiet", "run", "heat.hot_months", "--input", f"tas={os.path.join(SAMPLE, 'bcsd_obs_1999.nc')}:tas",
    "--aoi", os.path.join(SAMPLE, "nc.gpkg"), "--id", "NAME", "--out", os.path.join(TMP, "hot"))
run_items = [i for i in docs("items") if i["collection"] == "heat.hot_months"]
check(len(run_items) == 1 and "https://stac-extensions.github.io/processing/v1.2.0/schema.json" in run_items[0]["stac_extensions"],
      "sco run registered its raster with the processing extension")
run_coll = [c for c in docs("collections") if c["id"] == "heat.hot_months"]
check(len(run_coll) == 1, "the indicator's collection")
validated = dict(items)
for i in run_items:
    validated["run:" + i["id"]] = i

# 2. STAC schemas, offline.
schemas = StacSchemas(SOURCE)
if not schemas.available:
    check.skip(f"STAC schema validation: {schemas.root} is absent")
for name, item in validated.items():
    errs = schemas.errors(item, stac_schemas.ITEM)
    check(not errs, f"{name} is a valid STAC item (with its extensions): {errs}")
for c in docs("collections"):
    errs = schemas.errors(c, stac_schemas.COLLECTION)
    check(not errs, f"collection {c['id']} is valid STAC: {errs}")

# 3. Re-ingest: unchanged; a changed copy: updated; a file without date: one clear error.
r = json.loads(sco("--json", "ingest", SAMPLE, "--collection", "sample", "--datetime", "2020-06-01").stdout)
check(r["inserted"] == 0 and r["unchanged"] == 3 and r["updated"] == 0, f"re-ingest is a no-op: {r}")
copy = os.path.join(TMP, "scene_2021-03-04.tif")
shutil.copy(os.path.join(SAMPLE, "L7_ETMs.tif"), copy)
r = json.loads(sco("--json", "ingest", copy, "--collection", "scenes").stdout)
check(r["inserted"] == 1, "a dated file name needs no --datetime")
ds = gdal.Open(copy, gdal.GA_Update)
ds.GetRasterBand(1).WriteArray(ds.GetRasterBand(1).ReadAsArray() // 2)
ds = None
r = json.loads(sco("--json", "ingest", copy, "--collection", "scenes").stdout)
check(r["updated"] == 1, f"a changed file is updated: {r}")
item = [i for i in docs("items") if i["collection"] == "scenes"][0]
check(item["properties"]["datetime"] == "2021-03-04T00:00:00Z", "date from the file name")
r = sco("ingest", os.path.join(SAMPLE, "elev.tif"), "--collection", "dem", ok=False)
check(r.returncode == 2 and "has no date" in r.stderr and r.stderr.count("\n") == 1, f"undated file: {r.stderr}")
check(not any(c["id"] == "dem" for c in docs("collections")), "a failed ingest leaves nothing (one transaction)")
# A date known only within bounds: STAC's datetime null with start_datetime and end_datetime.
r = json.loads(sco("--json", "ingest", os.path.join(SAMPLE, "elev.tif"), "--collection", "dem-bounded",
                   "--datetime", "2000-02-11/2000-02-22", "--description", "bounds of the survey").stdout)
check(r["inserted"] == 1, f"an interval registers an undated file: {r}")
item = [i for i in docs("items") if i["collection"] == "dem-bounded"][0]
p = item["properties"]
check(p["datetime"] is None and p["start_datetime"] == "2000-02-11T00:00:00Z" and p["end_datetime"] == "2000-02-22T00:00:00Z"
      and p["description"] == "bounds of the survey", f"interval and description kept: {p}")
if schemas.available:
    errs = schemas.errors(item, stac_schemas.ITEM)
    check(not errs, f"an item with an interval is valid STAC: {errs}")
for bad_interval in ("2000-02-22/2000-02-11", "2000-02-11/soon"):
    r = sco("ingest", os.path.join(SAMPLE, "elev.tif"), "--collection", "dem-bad", "--datetime", bad_interval, ok=False)
    check(r.returncode == 2 and "--datetime" in r.stderr and bad_interval in r.stderr and r.stderr.count("\n") == 1,
          f"a bad interval {bad_interval}: {r.stderr}")
# A sensor gives the bands their eo:bands: the six reflective Landsat 7 ETM+ bands of the scene,
# centre and width from the USGS band edges (B4 0.77-0.90 um: centre 0.835, width 0.13).
r = json.loads(sco("--json", "ingest", os.path.join(SAMPLE, "L7_ETMs.tif"), "--collection", "eo-scene",
                   "--datetime", "1999-04-15/2023-01-26", "--sensor", "landsat7").stdout)
check(r["inserted"] == 1, f"ingest with a sensor: {r}")
item = [i for i in docs("items") if i["collection"] == "eo-scene"][0]
eo = item["assets"]["data"]["eo:bands"]
check([b["name"] for b in eo] == ["B1", "B2", "B3", "B4", "B5", "B7"], f"eo band names: {eo}")
check([b["common_name"] for b in eo] == ["blue", "green", "red", "nir", "swir16", "swir22"], f"eo common names: {eo}")
check(abs(eo[3]["center_wavelength"] - 0.835) < 1e-9 and abs(eo[3]["full_width_half_max"] - 0.13) < 1e-9, f"B4: {eo[3]}")
check(any("eo/v1.1.0" in e for e in item["stac_extensions"]), f"eo extension declared: {item['stac_extensions']}")
if schemas.available:
    errs = schemas.errors(item, stac_schemas.ITEM)
    check(not errs, f"an item with eo:bands is valid STAC (eo schema included): {errs}")
r = sco("ingest", os.path.join(SAMPLE, "L7_ETMs.tif"), "--collection", "eo-bad", "--datetime", "2020-01-01", "--sensor", "landsat99", ok=False)
check(r.returncode == 2 and "--sensor 'landsat99'" in r.stderr and "landsat7" in r.stderr, f"unknown sensor: {r.stderr}")
r = sco("ingest", os.path.join(SAMPLE, "elev.tif"), "--collection", "eo-bad", "--datetime", "2020-01-01", "--sensor", "sentinel2", ok=False)
check(r.returncode == 2 and "has 1 bands" in r.stderr and "13" in r.stderr, f"band count that fits no layout: {r.stderr}")
r = sco("ingest", os.path.join(TMP, "nothing.tif"), "--collection", "x", ok=False)
check(r.returncode == 3 and "not found" in r.stderr, f"missing path: {r.stderr}")

# 4. A corrupt catalog file: one clear line at start-up.
bad = os.path.join(TMP, "bad")
os.makedirs(bad)
open(os.path.join(bad, "catalog.sqlite"), "w").write("this is not a database" * 100)
r = subprocess.run([SCO, "--catalog", bad, "ingest", copy, "--collection", "x"], capture_output=True, text=True)
check(r.returncode == 2 and "corrupt or not a SQLite database" in r.stderr and r.stderr.count("\n") == 1, f"corrupt catalog: {r.stderr}")

shutil.rmtree(TMP)
check.finish()
