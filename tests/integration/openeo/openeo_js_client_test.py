#!/usr/bin/env python3
"""The node through the official openEO JavaScript client (@openeo/js-client, pinned in
tests/tools/package.json; `npm ci` there installs it): js_client_session.js connects, logs in with
Basic, lists collections and processes and computes synchronously an NDVI (equal to `sco index
ndvi` cell by cell), a temporal mean of the three-date series (equal to numpy's) and an
aggregate_spatial mean over the Olinda tracts (equal to `sco zonal`).

Usage: openeo_js_client_test.py SCO SAMPLE_DIR   (exits 77 without node or the client)
"""
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
sys.path.insert(0, HERE)
from reference import Checks  # noqa: E402
from node_fixture import Node, with_gdal  # noqa: E402

check = Checks()
TOOLS = os.path.join(HERE, "..", "..", "tools")
if not shutil.which("node") or not os.path.isdir(os.path.join(TOOLS, "node_modules", "@openeo", "js-client")):
    check.skip("node or @openeo/js-client is missing (cd tests/tools && npm ci)")
    check.finish()

node = Node(sys.argv[1], sys.argv[2], "sco-openeo-js-")
node.populate()
TMP = node.TMP
ref_ndvi = os.path.join(TMP, "ndvi_ref.tif")
node.sco("index", "ndvi", "--input", node.scene, "--sensor", "landsat7", "-o", ref_ndvi)
tracts = os.path.join(TMP, "tracts.geojson")
with_gdal('gdal.VectorTranslate(V["out"], V["shp"], format="GeoJSON", dstSRS="EPSG:4326")', out=tracts, shp=os.path.join(node.SAMPLE, "olinda1.shp"))
root = node.start()
try:
    r = subprocess.run(["node", os.path.join(HERE, "js_client_session.js"), root, "ana", Node.PASSWORDS["ana"], tracts, TMP],
                       capture_output=True, text=True, timeout=240, env=dict(os.environ, NODE_PATH=os.path.join(TOOLS, "node_modules")))
    check(r.returncode == 0, f"the JavaScript session ran: {r.stderr[-2000:]}")
    s = json.loads(r.stdout) if r.returncode == 0 else {}
    check(s.get("api_version") == "1.2.0" and s.get("user") == "ana", f"connected and logged in: {s.get('api_version')} {s.get('user')}")
    check({"landsat7-olinda", "series", "internal"} <= set(s.get("collections", [])), f"collections: {s.get('collections')}")
    check({"load_collection", "ndvi", "reduce_dimension", "aggregate_spatial", "save_result"} <= set(s.get("processes", [])), "processes listed")
    if r.returncode == 0:
        d = with_gdal("""
got, ref = gdal.Open(V["ndvi"]), gdal.Open(V["ref"])
a, b = got.GetRasterBand(1).ReadAsArray(), window(got, ref, 1)
scene, mean = gdal.Open(V["scene"]), gdal.Open(V["mean"])
nir = scene.GetRasterBand(4).ReadAsArray().astype(np.float64)
m = mean.GetRasterBand(1).ReadAsArray().astype(np.float64)
expected = (np.floor(nir) + np.floor(nir * 0.5) + np.floor(nir * 0.25)) / 3
print(json.dumps({"ndvi_same": bool(a.size > 1000 and a.shape == b.shape and np.array_equal(np.nan_to_num(a, nan=-9), np.nan_to_num(b, nan=-9))),
                  "mean_diff": float(np.max(np.abs(m - expected))) if m.shape == expected.shape else None}))
""", ndvi=os.path.join(TMP, "ndvi.tif"), ref=ref_ndvi, scene=os.path.join(node.SAMPLE, "L7_ETMs.tif"), mean=os.path.join(TMP, "mean.tif"))
        check(d["ndvi_same"], "NDVI equals sco index ndvi cell by cell")
        check(d["mean_diff"] is not None and d["mean_diff"] < 1e-4, f"temporal mean equals numpy's (max difference {d['mean_diff']})")
        rows = {row["id"]: row["B4"] for row in json.load(open(os.path.join(TMP, "zonal.json")))}
        ref = json.loads(node.sco("--json", "zonal", "--raster", node.scene + ":4", "--zones", tracts, "--stats", "mean"))["zones"]
        differ = [z["fid"] for z in ref if not (rows.get(str(z["fid"])) is None and z["mean"] is None
                                                 or rows.get(str(z["fid"])) is not None and z["mean"] is not None
                                                 and abs(rows[str(z["fid"])] - z["mean"]) <= 1e-12 * max(1.0, abs(z["mean"])))]
        check(len(rows) == len(ref) > 400 and not differ, f"aggregate_spatial mean equals sco zonal for every tract ({len(rows)} rows, differ: {differ[:5]})")
finally:
    log = node.stop()
    node.remove()
check("Sanitizer" not in log, "the server ran without a sanitizer report: " + log[log.find("Sanitizer") - 200:][:2000])
check.finish()
