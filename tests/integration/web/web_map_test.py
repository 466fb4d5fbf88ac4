#!/usr/bin/env python3
"""The web map in a real browser: a node with one indicator run (hot months per North Carolina
county), served by sco; headless Chromium (Debian's) driven by playwright-core (npm) loads the map,
shows the indicator layer and a district popup; the screenshot must have painted map pixels, and
nothing may be loaded from outside the node.

Usage: web_map_test.py SCO SAMPLE_DIR SOURCE_DIR
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

SCO, SAMPLE, SOURCE = sys.argv[1], sys.argv[2], sys.argv[3]
check = Checks()
if not os.path.exists("/usr/bin/chromium") or not os.path.isdir(os.path.join(SOURCE, "web", "dist")):
    print("skipped: needs /usr/bin/chromium and the built web map (scripts/build.sh)")
    sys.exit(0)
TMP = tempfile.mkdtemp(prefix="sco-web-")
cat = os.path.join(TMP, "catalog")
subprocess.run([SCO, "--quiet", "--catalog", cat, "run", "heat.hot_months", "--input", f"tas={os.path.join(SAMPLE, 'bcsd_obs_1999.nc')}:tas",
                "--aoi", os.path.join(SAMPLE, "nc.gpkg"), "--id", "NAME", "--out", os.path.join(TMP, "nc_heat")], check=True)
server = subprocess.Popen([SCO, "--catalog", cat, "serve", "--port", "0", "--web", os.path.join(SOURCE, "web", "dist")],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
port = int(re.search(r":(\d+)/", server.stdout.readline()).group(1))
shot = os.path.join(TMP, "map.png")
try:
    r = subprocess.run(["node", os.path.join(os.path.dirname(os.path.abspath(__file__)), "web_map.mjs"), f"http://127.0.0.1:{port}", shot],
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
check(seen.get("external") == [], f"nothing loaded from outside: {seen.get('external')}")
check(os.path.exists(shot) and os.path.getsize(shot) > 10000, "screenshot saved")
if os.path.exists(shot):
    shutil.copy(shot, os.path.join(tempfile.gettempdir(), "sco-web-map.png"))
shutil.rmtree(TMP)
check.finish()
