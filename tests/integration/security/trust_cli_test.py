#!/usr/bin/env python3
"""Two nodes on one machine: node A ingests and serves a signed item; node B trusts A's exported key
and verifies what A's server sends; a changed property, an asset altered by one byte and a signature
by an untrusted key are each reported exactly; the audit log catches an edited line; tokens are
printed once and revocable.

Usage: trust_cli_test.py SCO SAMPLE_DIR
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from reference import Checks  # noqa: E402

SCO, SAMPLE = sys.argv[1], sys.argv[2]
check = Checks()
TMP = tempfile.mkdtemp(prefix="sco-trust-")
A, B = os.path.join(TMP, "node_a"), os.path.join(TMP, "node_b")


def sco(node, *args, ok=True):
    r = subprocess.run([SCO, "--catalog", node] + list(args), capture_output=True, text=True)
    if ok and r.returncode != 0:
        raise SystemExit(f"sco {args} failed: {r.stderr}")
    return r


scene = os.path.join(TMP, "scene_2021-05-01.tif")
shutil.copy(os.path.join(SAMPLE, "L7_ETMs.tif"), scene)
sco(A, "-q", "ingest", scene, "--collection", "scenes")
sco(B, "keys", "show")  # B's own key pair
key_a = os.path.join(TMP, "a.pub")
sco(A, "keys", "export", "-o", key_a)
check(open(key_a).read().startswith("sco-ed25519 "), "exported key file")
check(oct(os.stat(os.path.join(A, "keys", "node.key")).st_mode & 0o777) == "0o600", "secret key mode 0600")

server = subprocess.Popen([SCO, "--catalog", A, "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
port = int(re.search(r":(\d+)/", server.stdout.readline()).group(1))
try:
    item = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/stac/collections/scenes/items/scene_2021-05-01").read())
    # The served asset is a URL on A: verify fetches it while A serves.
    check(item["assets"]["data"]["href"].startswith(f"http://127.0.0.1:{port}/assets/"), "assets are served as URLs, not paths")
    path = os.path.join(TMP, "item.json")
    json.dump(item, open(path, "w"))

    r = sco(B, "verify", path, ok=False)
    check(r.returncode == 2 and "which this node does not trust" in r.stdout, f"untrusted signer: {r.stdout}")
    sco(B, "-q", "trust", "add", "agency-a", key_a)
    r = sco(B, "--json", "verify", path)
    v = json.loads(r.stdout)
    check(v["verified"] == 1 and v["items"][0]["signer"] == "agency-a", f"verified from A's server: {v}")

    changed = dict(item, properties=dict(item["properties"], datetime="2021-05-02T00:00:00Z"))
    json.dump(changed, open(path, "w"))
    r = sco(B, "verify", path, ok=False)
    check(r.returncode == 2 and "does not match its content" in r.stdout, f"changed property: {r.stdout}")

    json.dump(item, open(path, "w"))
    with open(scene, "r+b") as f:  # one byte of the asset
        f.seek(5000)
        b = f.read(1)
        f.seek(5000)
        f.write(bytes([b[0] ^ 1]))
    r = sco(B, "verify", path, ok=False)
    check(r.returncode == 2 and "does not match its checksum" in r.stdout, f"altered asset: {r.stdout}")
finally:
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=10)

# The audit log: intact, then one edited line.
r = sco(A, "--json", "audit", "verify")
check(json.loads(r.stdout)["ok"], "A's audit log intact")
log = os.path.join(A, "audit.log")
lines = open(log).read().splitlines()
lines[0] = lines[0].replace('"inserted":1', '"inserted":2')
open(log, "w").write("\n".join(lines) + "\n")
r = sco(A, "audit", "verify", ok=False)
check(r.returncode == 2 and "line 1: its content does not match its hash" in r.stdout, f"edited audit line: {r.stdout}")

# Tokens.
t = json.loads(sco(A, "--json", "token", "create", "--owner", "agency-b", "--role", "partner").stdout)
check(re.fullmatch(r"sco_[0-9a-f]{12}_[0-9a-f]{64}", t["token"]) is not None, "token format")
check(t["token"][17:] not in open(os.path.join(A, "tokens.json")).read(), "token secret not stored")
listed = json.loads(sco(A, "--json", "token", "list").stdout)
check(len(listed) == 1 and listed[0]["role"] == "partner" and not listed[0]["revoked"], "token listed")
sco(A, "-q", "token", "revoke", t["id"])
check(json.loads(sco(A, "--json", "token", "list").stdout)[0]["revoked"], "token revoked")
r = sco(A, "token", "create", "--owner", "x", "--role", "root", ok=False)
check(r.returncode == 2 and "--role" in r.stderr, "unknown role")

# Access control on node A: a partners-only collection and indicator, a reader and a partner token.
sco(A, "-q", "ingest", os.path.join(SAMPLE, "bcsd_obs_1999.nc"), "--collection", "open")
restricted = os.path.join(TMP, "restricted_2021-06-01.tif")
shutil.copy(os.path.join(SAMPLE, "L7_ETMs.tif"), restricted)
sco(A, "-q", "ingest", restricted, "--collection", "restricted", "--visibility", "partners")
sco(A, "-q", "run", "heat.hot_months", "--input", f"tas={os.path.join(SAMPLE, 'bcsd_obs_1999.nc')}:tas", "--aoi",
    os.path.join(SAMPLE, "nc.gpkg"), "--id", "NAME", "--out", os.path.join(TMP, "nc_heat"), "--visibility", "partners")
partner = json.loads(sco(A, "--json", "token", "create", "--owner", "agency-b", "--role", "partner").stdout)["token"]
reader = json.loads(sco(A, "--json", "token", "create", "--owner", "citizen", "--role", "reader").stdout)["token"]
server = subprocess.Popen([SCO, "--catalog", A, "serve", "--port", "0", "--rate-limit", "50"], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True)
port = int(re.search(r":(\d+)/", server.stdout.readline()).group(1))


def http(path, token=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


import time  # noqa: E402
import urllib.error  # noqa: E402
try:
    hidden = ["restricted", "restricted_2021-06-01", "heat.hot_months", "nc_heat"]
    for who, token in (("anonymous", None), ("reader", reader)):
        for path in ("/stac", "/stac/collections", "/stac/search?limit=100", "/features/collections", "/stac/search?collections=restricted"):
            status, body = http(path, token)
            text = body.decode()
            check(status == 200 and not any(h in text for h in hidden), f"{who} {path}: no trace of the partners-only data ({status})")
        status, body = http("/stac/search?limit=100", token)
        check(json.loads(body)["numberMatched"] == 2, f"{who}: the count knows only the two public items")
        want = 401 if token is None else 403
        for path in ("/stac/collections/restricted", "/stac/collections/restricted/items/restricted_2021-06-01",
                     "/tiles/restricted/restricted_2021-06-01/data/12/1651/2139.png", "/features/collections/nc_heat-hot_steps_by_district/items",
                     "/outputs/nc_heat-hot_steps_by_district/report.html"):
            status, _ = http(path, token)
            check(status == want, f"{who} {path}: {status}, expected {want}")
    status, body = http("/stac/search?limit=100", partner)
    check(status == 200 and json.loads(body)["numberMatched"] == 4, f"the partner sees everything: {json.loads(body).get('numberMatched')}")
    for path in ("/stac/collections/restricted/items/restricted_2021-06-01", "/tiles/restricted/restricted_2021-06-01/data/12/1651/2139.png",
                 "/features/collections/nc_heat-hot_steps_by_district/items", "/outputs/nc_heat-hot_steps_by_district/report.html"):
        status, _ = http(path, partner)
        check(status == 200, f"partner {path}: {status}")
    status, body = http("/stac", "sco_000000000000_" + "0" * 64)
    check(status == 401 and b"Unauthorized" in body, "a bad token: 401")
    sco(A, "-q", "token", "revoke", json.loads(sco(A, "--json", "token", "list").stdout)[-2]["id"])
    time.sleep(6)  # the server remembers a token's check for 5 s
    status, _ = http("/stac", partner)
    check(status == 401, f"a revoked token: {status}")
    codes = [http("/healthz")[0] for _ in range(0)] + [http("/stac/conformance")[0] for _ in range(150)]
    check(429 in codes and codes[0] == 200, f"rate limit: {codes.count(429)} of 150 refused with 429")
finally:
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=10)
refusals = [json.loads(l) for l in sco(A, "audit", "tail", "-n", "100").stdout.splitlines() if '"access.refused"' in l]
check(len(refusals) >= 10, f"refusals are audited ({len(refusals)})")

shutil.rmtree(TMP)
check.finish()
