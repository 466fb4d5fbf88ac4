#!/usr/bin/env python3
"""The web map in a real browser: a node with two indicator runs (hot months and warming trend per
North Carolina county) and a layer with three dates, served by sco; headless Chromium (Debian's) driven by playwright-core (npm) loads the map,
shows the indicator layer and a district popup; the screenshot must have painted map pixels, and
nothing may be loaded from outside the node.

Usage: web_map_test.py SCO SAMPLE_DIR SOURCE_DIR
"""
import csv
import json
import os
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
TMP = tempfile.mkdtemp(prefix="sco-web-")
cat = os.path.join(TMP, "catalog")
subprocess.run([SCO, "--quiet", "--catalog", cat, "run", "heat.hot_months", "--input", f"tas={os.path.join(SAMPLE, 'bcsd_obs_1999.nc')}:tas",
                "--aoi", os.path.join(SAMPLE, "nc.gpkg"), "--id", "NAME", "--out", os.path.join(TMP, "nc_heat")], check=True)
subprocess.run([SCO, "--quiet", "--catalog", cat, "run", "heat.trend", "--input", f"tas={os.path.join(SAMPLE, 'bcsd_obs_1999.nc')}:tas",
                "--aoi", os.path.join(SAMPLE, "nc.gpkg"), "--id", "NAME", "--out", os.path.join(TMP, "nc_trend")], check=True)
for day in ("2021-03-01", "2021-04-01", "2021-05-01"):  # a layer with several dates
    shutil.copy(os.path.join(SAMPLE, "L7_ETMs.tif"), os.path.join(TMP, f"scene_{day}.tif"))
    subprocess.run([SCO, "--quiet", "--catalog", cat, "ingest", os.path.join(TMP, f"scene_{day}.tif"), "--collection", "scenes"], check=True)
# The series the trend popup draws: each county's monthly means, whose average is the table's mean.
series = json.load(open(os.path.join(TMP, "nc_trend", "trend_by_district_series.json")))
rows = {r["NAME"]: r for r in csv.DictReader(open(os.path.join(TMP, "nc_trend", "trend_by_district.csv")))}
agree = sum(abs(sum(v) / len(v) - float(rows[k]["mean"])) <= 1e-9 * max(1.0, abs(float(rows[k]["mean"])))
            for k, v in series["series"].items() if None not in v)
check(len(series["dates"]) == 12 and agree == len(rows) == 100, f"the series file: 12 dates, 100 counties whose average is the table's mean ({agree})")
server, base = serve(SCO, cat, SOURCE)
shot = os.path.join(TMP, "map.png")
try:
    r = subprocess.run(["node", os.path.join(os.path.dirname(os.path.abspath(__file__)), "web_map.mjs"), base, shot],
                       capture_output=True, text=True, timeout=240)
    seen = json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout.strip() else {"errors": [r.stderr[-2000:]]}
finally:
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=10)
check(not seen.get("errors"), f"no page errors: {seen.get('errors')}")
check(seen.get("ready") == "1", "the app loaded")
check(seen.get("indicator") == "nc_heat-hot_steps_by_district", f"the indicator is offered: {seen.get('options')}")
check("mean" in seen.get("legend", ""), f"legend: {seen.get('legend')}")
check(seen.get("rendered", 0) > 50, f"districts drawn: {seen.get('rendered')}")
check(seen.get("raster") is True, "the indicator's raster layer")
check("NAME" in seen.get("popup", "") and "class" in seen.get("popup", "") and "report" in seen.get("popup", ""), f"popup: {seen.get('popup')}")
check(seen.get("painted", 0) > 0.1, f"map pixels painted: {seen.get('painted')}")
check(seen.get("chart") is True, "the districts chart")
tp = seen.get("trendPopup") or {}
# One year of months holds no trend: the popup shows the series and says why; the map the series' mean.
check("per step, 1999-01-31" in tp.get("text", "") and "record too short (1 year < 10)" in tp.get("text", "") and tp.get("canvas") == 1,
      f"trend popup with the district's series and why it has no slope: {tp}")
check("no trend: record too short" in tp.get("summary", "") and tp.get("column") == "mean", f"the trend layer's summary and column: {tp}")
check(len(seen.get("dates", [])) == 3 and seen.get("dates", [""])[0].startswith("2021-03-01"), f"date list of a layer: {seen.get('dates')}")
check("2021-03-01" in seen.get("layerNote", "") and "/tiles/scenes/scene_2021-03-01/data/" in seen.get("layerTiles", ""),
      f"the chosen date's tiles: {seen.get('layerTiles')}")
check(seen.get("external") == [], f"nothing loaded from outside: {seen.get('external')}")
check(os.path.exists(shot) and os.path.getsize(shot) > 10000, "screenshot saved")
for name in ("map.png", "map-trend.png"):  # kept for a look after the test
    if os.path.exists(os.path.join(TMP, name)):
        shutil.copy(os.path.join(TMP, name), os.path.join(tempfile.gettempdir(), "sco-web-" + name))
shutil.rmtree(TMP)
check.finish()
