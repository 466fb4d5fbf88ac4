#!/usr/bin/env python3
"""A local user runs an indicator on their own districts from the web map, through the node's openEO
API (a batch job): headless Chromium (Debian's, driven by playwright-core from npm) logs in, picks
sco_urban_ndbi over the Olinda scene, uploads the tracts as GeoJSON, runs, follows the job and sees
the district figures on the map with the run's report; then draws a freehand area (four corners) on the map and runs again. The figures must equal `sco run urban.ndbi`
on the same scene and tracts; nothing may be loaded from outside the node.

Usage: web_run_test.py SCO SAMPLE_DIR SOURCE_DIR
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from reference import Checks  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from web_fixture import require_browser, serve  # noqa: E402

SCO, SAMPLE, SOURCE = sys.argv[1], sys.argv[2], sys.argv[3]
check = Checks()
require_browser(SOURCE)
TMP = tempfile.mkdtemp(prefix="sco-web-run-")
cat = os.path.join(TMP, "catalog")


def sco(*args, stdin=None):
    subprocess.run([SCO, "--quiet", "--catalog", cat] + list(args), input=stdin, text=True, check=True)


scene = os.path.join(TMP, "olinda_2021-01-01.tif")
shutil.copy(os.path.join(SAMPLE, "L7_ETMs.tif"), scene)
sco("ingest", scene, "--collection", "landsat7-olinda", "--sensor", "landsat7")
sco("user", "add", "lia", "--role", "reader", "--password-stdin", stdin="a city planner's password\n")
tracts = os.path.join(TMP, "tracts.geojson")
subprocess.run(["ogr2ogr", "-f", "GeoJSON", "-t_srs", "EPSG:4326", tracts, os.path.join(SAMPLE, "olinda1.shp")], check=True)
sco("run", "urban.ndbi", "--input", "scene=" + scene, "--aoi", tracts, "--param", "sensor=landsat7", "--out", os.path.join(TMP, "ref"), "--no-register")
ref = {str(f["properties"]["fid"]): f["properties"]["mean"] for f in json.load(open(os.path.join(TMP, "ref", "built_up_by_district.geojson")))["features"]}
server, base = serve(SCO, cat, SOURCE)
try:
    r = subprocess.run(["node", os.path.join(os.path.dirname(os.path.abspath(__file__)), "web_run.mjs"), base, "lia",
                        "a city planner's password", tracts, os.path.join(TMP, "run.png")], capture_output=True, text=True, timeout=300)
    seen = json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout.strip() else {"errors": [r.stderr[-2000:]]}
    # The drawn area's run against sco run on the same area.
    drawn_ref = None
    if seen.get("drawn"):
        area = os.path.join(TMP, "drawn.geojson")
        json.dump(seen["drawn"], open(area, "w"))
        sco("run", "urban.ndbi", "--input", "scene=" + scene, "--aoi", area, "--param", "sensor=landsat7", "--out", os.path.join(TMP, "ref_drawn"), "--no-register")
        drawn_ref = json.load(open(os.path.join(TMP, "ref_drawn", "built_up_by_district.geojson")))["features"][0]["properties"]
finally:
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)
    shutil.rmtree(TMP, ignore_errors=True)
check(not seen.get("errors"), f"no page errors: {seen.get('errors')}")
check("wrong" in seen.get("wrongPassword", ""), f"a wrong password is refused: {seen.get('wrongPassword')}")
check("sco_urban_ndbi" in seen.get("processes", []) and "sco_heat_trend" in seen.get("processes", []), f"the indicators offered: {seen.get('processes')}")
check(seen.get("status", "").startswith("finished: 470 districts"), f"the run finished: {seen.get('status')}")
check(any("sco_urban_ndbi" in line for line in seen.get("log", [])) and seen.get("progress") == 100, f"its progress and log: {seen.get('log')}")
values = seen.get("values", {})
differ = [k for k, v in ref.items() if not (v is None and values.get(k) is None or v is not None and values.get(k) is not None and abs(values[k] - v) <= 1e-12 * max(1, abs(v)))]
check(len(values) == len(ref) == 470 and not differ, f"the map's figures equal sco run urban.ndbi ({len(values)} districts, differ {differ[:5]})")
check(seen.get("rendered", 0) > 100 and re.search(r"exposed_fraction|mean", seen.get("legend", "")), f"drawn on the map: {seen.get('rendered')} districts, legend {seen.get('legend')}")
check("report" in seen.get("downloads", []) and "<html" in seen.get("report", "").lower(), f"the run's report: {seen.get('downloads')}")
ring = ((seen.get("drawn") or {}).get("features") or [{}])[0].get("geometry", {}).get("coordinates", [[]])[0]
check(len(ring) == 5 and ring[0] == ring[-1] and len({round(x, 9) for x, _ in ring[:4]}) == 4,
      f"the drawn area is the four clicked corners, closed (not a rectangle): {ring}")
got = (seen.get("drawnValues") or [{}])[0]
check(seen.get("drawnStatus", "").startswith("finished: 1 districts") and drawn_ref is not None and got.get("mean") is not None
      and abs(got["mean"] - drawn_ref["mean"]) <= 1e-12 * max(1, abs(drawn_ref["mean"])),
      f"an area drawn on the map: {seen.get('drawnStatus')}, mean {got.get('mean')} vs sco run {drawn_ref and drawn_ref.get('mean')}")
check(not seen.get("external"), f"nothing loaded from outside the node: {seen.get('external')}")
check.finish()
