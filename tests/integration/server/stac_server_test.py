#!/usr/bin/env python3
"""sco serve on a catalog of the real sample data, through HTTP: the STAC API documents validate
against the STAC schemas (offline), searches by bbox, datetime, ids and collections return what they
should, paging by GET and POST visits every item once; GDAL's STACIT driver (a client nobody here
wrote) opens a search result as a mosaic; bad requests get 400 / 404 / 413 JSON errors naming the
field; SIGTERM stops the server cleanly.

Usage: stac_server_test.py SCO SAMPLE_DIR SOURCE_DIR
"""
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

from osgeo import gdal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from reference import Checks, supersampled_fractions  # noqa: E402
import stac_schemas  # noqa: E402

gdal.UseExceptions()
SCO, SAMPLE, SOURCE = sys.argv[1], sys.argv[2], sys.argv[3]
TMP = tempfile.mkdtemp(prefix="sco-srv-")
CAT = os.path.join(TMP, "catalog")
check = Checks()




def sco(*args):
    subprocess.run([SCO, "--quiet", "--catalog", CAT] + list(args), check=True)


# A catalog: the sample rasters, and 5 dated copies of the scene (2021-01-01 .. 2021-05-01).
sco("ingest", SAMPLE, "--collection", "sample", "--datetime", "2020-06-01")
scenes = os.path.join(TMP, "scenes")
os.makedirs(scenes)
for m in range(1, 6):
    shutil.copy(os.path.join(SAMPLE, "L7_ETMs.tif"), os.path.join(scenes, f"olinda_2021-{m:02d}-01.tif"))
sco("ingest", scenes, "--collection", "scenes")
# An indicator run: its raster joins the STAC catalog, its per-county table OGC API Features.
sco("run", "heat.hot_months", "--input", f"tas={os.path.join(SAMPLE, 'bcsd_obs_1999.nc')}:tas", "--aoi",
    os.path.join(SAMPLE, "nc.gpkg"), "--id", "NAME", "--out", os.path.join(TMP, "nc_heat"))

server = subprocess.Popen([SCO, "--catalog", CAT, "serve", "--port", "0", "--max-body", "10000"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
line = server.stdout.readline()
port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", line).group(1))
BASE = f"http://127.0.0.1:{port}"


def get(path, data=None, headers=None):
    req = urllib.request.Request(BASE + path, data=data.encode() if isinstance(data, str) else data, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read()
            if r.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            return r.status, json.loads(body), r.headers
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null"), e.headers


schemas = stac_schemas.StacSchemas(SOURCE)
if not schemas.available:
    check.skip(f"STAC schema validation: {schemas.root} is absent")
try:
    status, body, _ = get("/healthz")
    check(status == 200 and body == {"status": "ok"}, "healthz")
    status, api, _ = get("/api")
    check(status == 200 and api["openapi"].startswith("3.") and "/stac/search" in api["paths"], "OpenAPI document")
    status, landing, _ = get("/stac")
    check(status == 200 and not schemas.errors(landing, stac_schemas.CATALOG), f"landing page is a valid STAC catalog: {schemas.errors(landing, stac_schemas.CATALOG)}")
    check({"conformance", "data", "search", "service-desc"} <= {l["rel"] for l in landing["links"]}, "landing links")
    status, conf, _ = get("/stac/conformance")
    check("https://api.stacspec.org/v1.0.0/item-search" in conf["conformsTo"], "conformance: item search")
    status, colls, headers = get("/stac/collections", headers={"Accept-Encoding": "gzip"})
    check(headers.get("Content-Encoding") == "gzip", "JSON is gzipped for clients that accept it")
    check(headers.get("Access-Control-Allow-Origin") == "*", "CORS header")
    check(sorted(c["id"] for c in colls["collections"]) == ["heat.hot_months", "sample", "scenes"], "three collections")
    for c in colls["collections"]:
        errs = schemas.errors(c, stac_schemas.COLLECTION)
        check(not errs, f"collection {c['id']} valid: {errs}")
    status, scoll, _ = get("/stac/collections/scenes")
    check(scoll["extent"]["temporal"]["interval"][0] == ["2021-01-01T00:00:00Z", "2021-05-01T00:00:00Z"], "collection extent")

    # Searches: Olinda's bbox finds the 6 scenes (5 dated copies + the sample scene), not NC or Luxembourg.
    status, r, _ = get("/stac/search?bbox=-35,-8.1,-34.8,-7.9&limit=100")
    check(status == 200 and sorted(f["id"] for f in r["features"]) ==
          ["L7_ETMs", "olinda_2021-01-01", "olinda_2021-02-01", "olinda_2021-03-01", "olinda_2021-04-01", "olinda_2021-05-01"],
          f"bbox search: {[f['id'] for f in r['features']]}")
    for f in r["features"]:
        errs = schemas.errors(f, stac_schemas.ITEM)
        check(not errs, f"item {f['id']} valid: {errs}")
    status, r, _ = get("/stac/search?datetime=2021-02-01T00:00:00Z/2021-03-15&collections=scenes")
    check(sorted(f["id"] for f in r["features"]) == ["olinda_2021-02-01", "olinda_2021-03-01"], "datetime interval")
    status, r, _ = get("/stac/search?datetime=../1999-06-30T00:00:00Z")
    check(sorted(f["id"] for f in r["features"]) == ["bcsd_obs_1999", "nc_heat-hot_steps"],
          f"open interval meets the 1999 intervals of the NetCDF and of the indicator: {[f['id'] for f in r['features']]}")
    status, r, _ = get("/stac/search", data=json.dumps({"ids": ["elev", "olinda_2021-04-01"]}))
    check(sorted(f["id"] for f in r["features"]) == ["elev", "olinda_2021-04-01"], "POST ids")
    status, r, _ = get("/stac/search", data=json.dumps({"intersects": {"type": "Point", "coordinates": [6.0, 49.7]}}))
    check([f["id"] for f in r["features"]] == ["elev"], f"intersects a point in Luxembourg: {[f['id'] for f in r['features']]}")
    # Paging, GET and POST: 9 items by 3.
    for method in ("GET", "POST"):
        seen, pages = [], 0
        status, page, _ = get("/stac/search?limit=3") if method == "GET" else get("/stac/search", data=json.dumps({"limit": 3}))
        while True:
            pages += 1
            seen += [f["id"] for f in page["features"]]
            nxt = [l for l in page["links"] if l["rel"] == "next"]
            if not nxt:
                break
            if method == "GET":
                status, page, _ = get(nxt[0]["href"][len(BASE):])
            else:
                check(nxt[0].get("method") == "POST", "POST next link")
                status, page, _ = get(nxt[0]["href"][len(BASE):], data=json.dumps(nxt[0]["body"]))
        check(pages == 3 and len(seen) == 9 and len(set(seen)) == 9, f"{method} paging: {pages} pages, {seen}")
    status, item, _ = get("/stac/collections/scenes/items/olinda_2021-03-01")
    check(status == 200 and item["properties"]["datetime"] == "2021-03-01T00:00:00Z", "one item")
    check(any(l["rel"] == "self" and l["href"] == BASE + "/stac/collections/scenes/items/olinda_2021-03-01" for l in item["links"]), "self link")
    status, items, _ = get("/stac/collections/scenes/items?limit=2")
    check(status == 200 and items["numberMatched"] == 5 and items["numberReturned"] == 2, "collection items")

    # A client nobody here wrote: GDAL's STACIT driver opens the search result as one mosaic.
    ds = gdal.Open(f'STACIT:"{BASE}/stac/search?collections=scenes&datetime=2021-03-01T00:00:00Z"')
    check(ds is not None and (ds.RasterXSize, ds.RasterYSize, ds.RasterCount) == (349, 352, 6), "STACIT opens the search")
    if ds is not None:
        a = ds.GetRasterBand(4).ReadAsArray()
        ref_ds = gdal.Open(os.path.join(SAMPLE, "L7_ETMs.tif"))  # the bindings crash if a band outlives its dataset
        ref = ref_ds.GetRasterBand(4).ReadAsArray()
        check((a == ref).all(), "STACIT reads the scene's pixels")
    ds = None

    # OGC API - Features: the county table, read by GDAL's OAPIF driver.
    from osgeo import ogr
    import csv
    expected = {r["NAME"]: r for r in csv.DictReader(open(os.path.join(TMP, "nc_heat", "hot_steps_by_district.csv")))}
    oapif = ogr.Open(f"OAPIF:{BASE}/features")
    check(oapif is not None and oapif.GetLayerCount() == 1, "OAPIF lists the district table")
    if oapif is not None:
        layer = oapif.GetLayerByName("nc_heat-hot_steps_by_district")
        check(layer is not None and layer.GetFeatureCount() == 100, "OAPIF: 100 counties")
        n = 0
        for f in layer:
            name = f.GetField("NAME")
            n += abs(f.GetField("mean") - float(expected[name]["mean"])) < 1e-9 and f.GetField("class") == expected[name]["class"]
        check(n == 100, f"OAPIF: every county's figure and class ({n})")
        layer = None
    oapif = None
    status, fc, _ = get("/features/collections/nc_heat-hot_steps_by_district/items?limit=30&offset=90")
    check(status == 200 and fc["numberMatched"] == 100 and fc["numberReturned"] == 10, "Features paging by offset")
    status, fc, _ = get("/features/collections/nc_heat-hot_steps_by_district/items?class=high")
    highs = sorted(k for k, r in expected.items() if r["class"] == "high")
    check(sorted(f["properties"]["NAME"] for f in fc["features"]) == highs[:10], f"property filter class=high")
    status, fc, _ = get("/features/collections/nc_heat-hot_steps_by_district/items?bbox=-76,35,-75,36.5")
    check(status == 200 and "Dare" in [f["properties"]["NAME"] for f in fc["features"]] and "Ashe" not in [f["properties"]["NAME"] for f in fc["features"]],
          "Features bbox")
    status, f, _ = get("/features/collections/nc_heat-hot_steps_by_district/items/Ashe")
    check(status == 200 and f["id"] == "Ashe" and f["properties"]["mean"] == 0, "one district by its id")

    # Tiles: a Web Mercator tile of band 4 (NIR) over Olinda against GDAL's own warp of the same box.
    import numpy as np

    def png(path):
        req = urllib.request.Request(BASE + path)
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status, r.headers.get("Content-Type"), r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type"), e.read()

    def decode(data):
        """A tile as RGBA (4, h, w), an indexed PNG expanded through its palette as a browser does."""
        gdal.FileFromMemBuffer("/vsimem/t.png", data)
        d = gdal.Open("/vsimem/t.png")
        if d.RasterCount == 1 and d.GetRasterBand(1).GetColorTable() is not None:
            d = gdal.Translate("", d, format="MEM", rgbExpand="rgba")
        a = d.ReadAsArray()
        d = None
        gdal.Unlink("/vsimem/t.png")
        return a

    status, tj, _ = get("/tiles/scenes/olinda_2021-01-01/data/tilejson.json")
    check(status == 200 and tj["tilejson"] == "3.0.0" and abs(tj["bounds"][0] - item["bbox"][0]) < 1e-3, f"TileJSON: {tj}")
    z, x, y = 12, 1651, 2139
    status, ctype, data = png(f"/tiles/scenes/olinda_2021-01-01/data/{z}/{x}/{y}.png?bidx=4&rescale=0,255&colormap=greys")
    check(status == 200 and ctype == "image/png", f"tile: {status} {ctype}")
    rgba = decode(data)
    half = 20037508.342789244
    span = 2 * half / 2 ** z
    box = (-half + x * span, half - (y + 1) * span, -half + (x + 1) * span, half - y * span)
    ref = gdal.Warp("", os.path.join(SAMPLE, "L7_ETMs.tif"), format="MEM", dstSRS="EPSG:3857", outputBounds=box, width=256, height=256,
                    resampleAlg="near", dstAlpha=True, errorThreshold=0)
    nir, ref_alpha = ref.GetRasterBand(4).ReadAsArray(), ref.GetRasterBand(7).ReadAsArray()
    inside = (rgba[3] > 0) & (ref_alpha > 0)
    agree = (rgba[0][inside] == nir[inside]).mean()
    check(inside.sum() > 10000 and agree > 0.99, f"tile pixels = GDAL warp (nearest): {inside.sum()} px, {agree:.4f} agree")
    check(abs(int((rgba[3] > 0).sum()) - int((ref_alpha > 0).sum())) < 0.01 * 65536, "tile footprint = GDAL warp footprint")
    check(data[25:26] == b"\x03" and b"PLTE" in data[:2000], "a coloured band is sent as an indexed PNG")
    # Bilinear (sco's own kernel) and cubic (GDAL's warper) against GDAL's warp of the same box.
    for alg, tolerance, share in (("bilinear", 1, 0.99), ("cubic", 1, 0.99)):
        status, _, data = png(f"/tiles/scenes/olinda_2021-01-01/data/{z}/{x}/{y}.png?bidx=4&rescale=0,255&colormap=greys&resampling={alg}")
        got = decode(data)
        ref = gdal.Warp("", os.path.join(SAMPLE, "L7_ETMs.tif"), format="MEM", dstSRS="EPSG:3857", outputBounds=box, width=256, height=256,
                        resampleAlg=alg, dstAlpha=True, errorThreshold=0, outputType=gdal.GDT_Float32)
        want, want_alpha = ref.GetRasterBand(4).ReadAsArray(), ref.GetRasterBand(7).ReadAsArray()
        both = (got[3] > 0) & (want_alpha > 0)
        close = (np.abs(got[0][both].astype(float) - np.clip(np.round(want[both]), 0, 255)) <= tolerance).mean()
        print(f"{alg}: {close:.4f} of {both.sum()} px within {tolerance}")
        check(status == 200 and both.sum() > 10000 and close > share, f"{alg} tile = GDAL warp within {tolerance} level: {close:.4f} of {both.sum()} px")
    status, _, data = png("/tiles/scenes/olinda_2021-01-01/data/12/0/0.png")
    check(status == 200 and decode(data)[3].max() == 0, "a tile outside the raster is transparent")
    status, _, data = png(f"/tiles/scenes/olinda_2021-01-01/data/{z}/{x}/{y}.png?expression=(b4-b3)/(b4%2Bb3)&rescale=-1,1&colormap=rdylgn")
    check(status == 200 and decode(data)[3].max() == 255, "expression tile")
    # A client nobody here wrote: GDAL's WMS driver reading the tiles as a TMS.
    xml = (f"<GDAL_WMS><Service name=\"TMS\"><ServerUrl>{BASE}/tiles/scenes/olinda_2021-01-01/data/${{z}}/${{x}}/${{y}}.png?bidx=4&amp;rescale=0,255"
           "</ServerUrl></Service><DataWindow><UpperLeftX>-20037508.342789244</UpperLeftX><UpperLeftY>20037508.342789244</UpperLeftY>"
           "<LowerRightX>20037508.342789244</LowerRightX><LowerRightY>-20037508.342789244</LowerRightY><TileLevel>12</TileLevel>"
           "<TileCountX>1</TileCountX><TileCountY>1</TileCountY><YOrigin>top</YOrigin></DataWindow><Projection>EPSG:3857</Projection>"
           "<BlockSizeX>256</BlockSizeX><BlockSizeY>256</BlockSizeY><BandsCount>4</BandsCount><ZeroBlockHttpCodes>204,404</ZeroBlockHttpCodes></GDAL_WMS>")
    wms = gdal.Open(xml)
    via_wms = wms.GetRasterBand(1).ReadAsArray(x * 256, y * 256, 256, 256)
    wms = None
    check((via_wms == rgba[0]).all(), "GDAL's WMS (TMS) driver reads the same tile")

    # Bad requests: one JSON error naming the field.
    for path, status_wanted, needle in [
        ("/stac/search?bbox=1,2,3", 400, "bbox"),
        ("/stac/search?bbox=10,5,0,6", 400, "bbox"),
        ("/stac/search?datetime=yesterday", 400, "datetime"),
        ("/stac/search?limit=0", 400, "limit"),
        ("/stac/search?limit=abc", 400, "limit"),
        ("/stac/search?colour=red", 400, "colour"),
        ("/stac/search?token=abc", 400, "token"),
        ("/stac/collections/nope", 404, "nope"),
        ("/stac/collections/scenes/items/nope", 404, "nope"),
        ("/stac/collections/nope/items", 404, "nope"),
        ("/nothing/here", 404, ""),
        ("/features/collections/nope/items", 404, "nope"),
        ("/tiles/scenes/olinda_2021-01-01/data/12/1651/2139.png?colormap=rainbow", 400, "colormap"),
        ("/tiles/scenes/olinda_2021-01-01/data/12/1651/2139.png?bidx=9", 400, "bidx"),
        ("/tiles/scenes/olinda_2021-01-01/data/12/1651/2139.png?bidx=1,2", 400, "bidx"),
        ("/tiles/scenes/olinda_2021-01-01/data/12/1651/2139.png?rescale=5", 400, "rescale"),
        ("/tiles/scenes/olinda_2021-01-01/data/12/1651/2139.png?expression=b4*2", 400, "rescale"),
        ("/tiles/scenes/olinda_2021-01-01/data/30/1/1.png", 400, "z"),
        ("/tiles/scenes/olinda_2021-01-01/data/2/9/1.png", 400, "x: '9' is not a whole number from 0 to 3"),
        # Numbers beyond int range once wrapped (bidx 2^32 + 1 read band 1) or became internal errors.
        ("/tiles/scenes/olinda_2021-01-01/data/12/1651/2139.png?bidx=4294967297", 400, "bidx: '4294967297'"),
        ("/tiles/scenes/olinda_2021-01-01/data/99999999999/1/1.png", 400, "z: '99999999999'"),
        ("/tiles/scenes/olinda_2021-01-01/data/12/1651/99999999999999999999.png", 400, "y: '99999999999999999999'"),
        ("/features/collections/nc_heat-hot_steps_by_district/items?bbox=nan,0,1,1", 400, "bbox: 'nan' is not a finite number"),
        ("/features/collections/nc_heat-hot_steps_by_district/items?bbox=0,0,1,inf", 400, "'inf' is not a finite number"),
        ("/features/collections/nc_heat-hot_steps_by_district/items?bbox=10,0,1,1", 400, "west <= east"),
        # Impossible dates were accepted (200 with no results).
        ("/stac/search?datetime=2020-02-30", 400, "datetime: '2020-02-30' is not a valid date (day 30 of a month of 29 days"),
        ("/stac/search?datetime=2020-13-45T99:99:99Z", 400, "datetime: '2020-13-45T99:99:99Z'"),
        ("/stac/search?datetime=2020-01-01T00:00:00Z/99999-01-01", 400, "four-digit year"),
        ("/tiles/scenes/olinda_2021-01-01/nope/2/1/1.png", 404, "nope"),
        ("/tiles/scenes/nope/data/2/1/1.png", 404, "nope"),
        ("/features/collections/nc_heat-hot_steps_by_district/items/Atlantis", 404, "Atlantis"),
        ("/features/collections/nc_heat-hot_steps_by_district/items?limit=-1", 400, "limit"),
        ("/features/collections/nc_heat-hot_steps_by_district/items?colour=red", 400, "colour"),
    ]:
        status, body, _ = get(path)
        check(status == status_wanted and isinstance(body, dict) and "code" in body and needle in body.get("description", ""),
              f"{path}: {status} {body}")
    status, body, _ = get("/stac/search", data="{not json")
    check(status == 400 and body["code"] == "InvalidRequestBody", f"invalid JSON body: {status} {body}")
    status, body, _ = get("/stac/search", data=json.dumps({"limit": "ten"}))
    check(status == 400 and "limit" in body["description"], f"limit as a string: {body}")
    status, body, _ = get("/stac/search", data=json.dumps({"bbox": [0, 0, 1, 1], "pad": "x" * 20000}))
    check(status == 413, f"oversized body: {status}")
    status, body, _ = get("/stac/collections/..%2F..%2Fetc/items")
    check(status in (400, 404), f"path traversal refused: {status}")
finally:
    server.send_signal(signal.SIGTERM)
    try:
        rc = server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        rc = None
    log = server.stderr.read()
check(rc == 0, f"SIGTERM stops the server cleanly (exit {rc})")
check('"GET /healthz" 200' in log, "access log")
shutil.rmtree(TMP)
check.finish()
