#!/usr/bin/env python3
"""`sco ingest DIR --sensor sentinel2` on the real Sentinel-2 L2A series the project carries (data/, from ../shared/data) (12 dates
over Bolzano, one folder per date, one file per band, as ESA's products are delivered band by band):

1. one STAC item per acquisition (12), named and dated by its folder, with one asset per band file
   (B02, B03, B04, B08, SCL), each band with its eo:bands entry (name, common name, centre
   wavelength and width from ESA's Sentinel-2 User Handbook), the SCL with its classes; the item
   valid against the STAC 1.0 item schema and the eo, raster, projection and file extensions
   (offline, ../shared/schemas); footprint and grid equal to GDAL's view of the files;
2. a rerun changes nothing; changing one band's file updates only its acquisition;
3. ESA's SAFE granule names (T32TPS_20220602T101559_B02_10m.jp2 ...): one item per granule, the
   finest resolution of a band given twice, the date from the name.

Usage: sentinel2_ingest_test.py SCO_BINARY SOURCE_DIR. SKIP when the series is neither in data/ nor in ../shared/data.
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
from reference import Checks  # noqa: E402
from s2_sample import series_folder  # noqa: E402
import stac_schemas  # noqa: E402
from stac_schemas import StacSchemas  # noqa: E402

gdal.UseExceptions()
SCO, SOURCE = sys.argv[1], sys.argv[2]
DATA = series_folder(SOURCE)
check = Checks()
if not DATA:
    check.skip("the Sentinel-2 series is neither in data/ nor in ../shared/data")
    check.finish()
schemas = StacSchemas(SOURCE)
COMMON = {"B02": ("B2", "blue", 0.4924), "B03": ("B3", "green", 0.5598), "B04": ("B4", "red", 0.6646), "B08": ("B8", "nir", 0.8328)}


def ingest(cat, path, collection):
    r = subprocess.run([SCO, "--json", "--catalog", cat, "ingest", path, "--collection", collection, "--sensor", "sentinel2"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"sco ingest failed: {r.stderr}")
    return json.loads(r.stdout)


def items(cat, collection):
    db = sqlite3.connect(os.path.join(cat, "catalog.sqlite"))
    out = {i: json.loads(d) for i, d in db.execute("SELECT id, doc FROM items WHERE collection = ?", (collection,))}
    db.close()
    return out


with tempfile.TemporaryDirectory() as tmp:
    data = os.path.join(tmp, "bolzano")
    shutil.copytree(DATA, data)
    cat = os.path.join(tmp, "catalog")
    # 1.
    rep = ingest(cat, data, "s2")
    got = items(cat, "s2")
    dates = sorted(d for d in os.listdir(data) if d.isdigit())
    check(rep["inserted"] == 12 and sorted(got) == dates, f"one item per date folder: {rep['inserted']} new, ids {sorted(got)[:3]}...")
    for date, item in got.items():
        assets = item["assets"]
        check(sorted(assets) == ["B02", "B03", "B04", "B08", "SCL"], f"{date}: assets {sorted(assets)}")
        check(item["properties"]["datetime"] == f"{date[:4]}-{date[4:6]}-{date[6:]}T00:00:00Z", f"{date}: datetime {item['properties']['datetime']}")
        for key, (name, common, centre) in COMMON.items():
            eo = assets[key].get("eo:bands", [{}])[0]
            check(eo.get("name") == name and eo.get("common_name") == common and abs(eo.get("center_wavelength", 0) - centre) < 1e-4,
                  f"{date} {key}: eo:bands {eo}")
            check(os.path.samefile(assets[key]["href"], os.path.join(data, date, key + ".tif")), f"{date} {key}: href")
        classes = {c["value"]: c["name"] for c in assets["SCL"].get("sco:classes", [])}
        check(classes.get(9) == "cloud high probability" and classes.get(4) == "vegetation" and "eo:bands" not in assets["SCL"],
              f"{date}: SCL classes")
        errs = schemas.errors(item, stac_schemas.ITEM)
        check(not errs, f"{date}: STAC item schema and extensions: {errs}")
        ds = gdal.Open(os.path.join(data, date, "B04.tif"))
        gt = ds.GetGeoTransform()
        check(item["properties"]["proj:epsg"] == 32632 and item["properties"]["proj:shape"] == [ds.RasterYSize, ds.RasterXSize]
              and item["properties"]["proj:transform"][:6] == [gt[1], gt[2], gt[0], gt[4], gt[5], gt[3]], f"{date}: grid")
        ring = gdal.Info(ds, format="json")["wgs84Extent"]["coordinates"][0]  # GDAL's corners in WGS 84
        ds = None
        lons, lats = [p[0] for p in ring], [p[1] for p in ring]
        want = [min(lons), min(lats), max(lons), max(lats)]
        check(all(abs(a - b) < 2e-6 for a, b in zip(item["bbox"], want)), f"{date}: bbox {item['bbox']} vs GDAL's {want}")
    # 2.
    rep = ingest(cat, data, "s2")
    check(rep["inserted"] == 0 and rep["updated"] == 0 and rep["unchanged"] == 12, f"rerun: {rep}")
    shutil.copy(os.path.join(data, "20220605", "B03.tif"), os.path.join(data, "20220602", "B03.tif"))
    rep = ingest(cat, data, "s2")
    check(rep["updated"] == 1 and rep["unchanged"] == 11, f"one band changed: {rep}")
    # 3. SAFE names, B02 at 10 m and (a copy standing for) 20 m
    safe = os.path.join(tmp, "S2A_MSIL2A.SAFE", "GRANULE", "L2A_T32TPS", "IMG_DATA")
    os.makedirs(os.path.join(safe, "R10m"))
    os.makedirs(os.path.join(safe, "R20m"))
    for band, res in (("B02", 10), ("B04", 10), ("B08", 10), ("B02", 20), ("SCL", 20)):
        shutil.copy(os.path.join(DATA, "20220602", band + ".tif"), os.path.join(safe, f"R{res}m", f"T32TPS_20220602T101559_{band}_{res}m.tif"))
    rep = ingest(cat, os.path.join(tmp, "S2A_MSIL2A.SAFE"), "safe")
    got = items(cat, "safe")
    item = got.get("T32TPS_20220602T101559", {})
    check(rep["inserted"] == 1 and sorted(item.get("assets", {})) == ["B02", "B04", "B08", "SCL"], f"SAFE granule: {rep}, {sorted(item.get('assets', {}))}")
    check("R10m" in item.get("assets", {}).get("B02", {}).get("href", ""), "the 10 m B02 rather than the 20 m one")
    check(item.get("properties", {}).get("datetime") == "2022-06-02T00:00:00Z", f"date from the name: {item.get('properties', {}).get('datetime')}")
    # 4. Landsat Collection 2 Level-2 names (fixtures: the sample scene's bands renamed)
    scene = os.path.join(SOURCE, "data", "sample", "L7_ETMs.tif")
    if os.path.exists(scene):
        product = os.path.join(tmp, "LC08_L2SP_214066_20210601_20210608_02_T1")
        os.makedirs(product)
        for k, name in enumerate(("SR_B2", "SR_B3", "SR_B4", "SR_B5", "ST_B10", "QA_PIXEL")):
            gdal.Translate(os.path.join(product, f"LC08_L2SP_214066_20210601_20210608_02_T1_{name}.TIF"), scene, bandList=[k + 1])
        rep = json.loads(subprocess.run([SCO, "--json", "--catalog", cat, "ingest", product, "--collection", "landsat", "--sensor", "landsat8"],
                                        capture_output=True, text=True, check=True).stdout)
        item = items(cat, "landsat").get("LC08_L2SP_214066_20210601_20210608_02_T1", {})
        assets = item.get("assets", {})
        check(rep["inserted"] == 1 and sorted(assets) == ["QA_PIXEL", "SR_B2", "SR_B3", "SR_B4", "SR_B5", "ST_B10"], f"Landsat product: {sorted(assets)}")
        sr = assets.get("SR_B4", {})
        check(sr.get("eo:bands", [{}])[0].get("common_name") == "red" and sr["raster:bands"][0].get("scale") == 2.75e-05
              and sr["raster:bands"][0].get("offset") == -0.2, f"SR_B4: {sr.get('eo:bands')}, {sr.get('raster:bands')}")
        st = assets.get("ST_B10", {}).get("raster:bands", [{}])[0]
        check(st.get("scale") == 0.00341802 and st.get("offset") == 149.0, f"ST_B10 scale/offset {st}")
        check(assets.get("QA_PIXEL", {}).get("sco:bits", {}).get("3") == "cloud", "QA_PIXEL bits")
        check(item.get("properties", {}).get("datetime") == "2021-06-01T00:00:00Z" and item["properties"].get("platform") == "landsat-8",
              f"date and platform from the product id: {item.get('properties', {}).get('datetime')}")
        check(not schemas.errors(item, stac_schemas.ITEM), f"Landsat item valid: {schemas.errors(item, stac_schemas.ITEM)}")
    else:
        check.skip("data/sample is not fetched: the Landsat fixture")
check.finish()
