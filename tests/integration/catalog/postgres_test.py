#!/usr/bin/env python3
"""The node's catalog in PostgreSQL/PostGIS through the commands (issue 20, part 1), on a real server:
  - `sco --catalog postgresql://...` ingests into the database (node files in $SCO_NODE_DIR), `sco serve`
    serves it: the STAC search finds the items, their signatures verify;
  - `sco catalog copy` from a SQLite node into a database: the served search is the same as from SQLite,
    item for item, and every copied item verifies;
  - two ingests at once into one database: both complete, nothing lost;
  - bad input: a malformed URI (exit 2, what is wrong, no folder made), an unreachable database (exit 4,
    one line); the database lost while serving: 503 with Retry-After, the server up, 200 again when the
    database is back.
Usage: postgres_test.py SCO SAMPLE_DIR
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from checks import Checks  # noqa: E402
from pg import Cluster  # noqa: E402

SCO, SAMPLE = sys.argv[1], sys.argv[2]
check = Checks()
TMP = tempfile.mkdtemp(prefix="sco-pgcli-")
cluster = Cluster()
why = cluster.start()
if why:
    print("SKIP:", why)
    sys.exit(77)


def sco(catalog, *args, ok=True, node=None):
    env = dict(os.environ, SCO_NODE_DIR=node or os.path.join(TMP, "node"))
    r = subprocess.run([SCO, "--catalog", catalog] + list(args), capture_output=True, text=True, env=env)
    if ok and r.returncode != 0:
        raise SystemExit(f"sco {args} failed: {r.stderr}")
    return r


def get(url):
    try:
        with urllib.request.urlopen(url) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def serve(catalog):
    p = subprocess.Popen([SCO, "--catalog", catalog, "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         env=dict(os.environ, SCO_NODE_DIR=os.path.join(TMP, "node")))
    port = int(re.search(r":(\d+)/", p.stdout.readline()).group(1))
    return p, f"http://127.0.0.1:{port}"


def scenes(n):
    paths = []
    for k in range(n):
        path = os.path.join(TMP, f"scene_2021-05-{k + 1:02d}.tif")
        shutil.copy(os.path.join(SAMPLE, "L7_ETMs.tif"), path)
        paths.append(path)
    return paths


servers = []
try:
    files = scenes(6)
    uri = cluster.new_database()
    r = sco(uri, "--json", "ingest", *files[:3], "--collection", "scenes")
    check(r.returncode == 0, f"ingest into PostgreSQL: {r.stderr}")
    server, base = serve(uri)
    servers.append(server)
    s, _, body = get(base + "/stac/search?collections=scenes&limit=100")
    found = json.loads(body)
    check(s == 200 and len(found["features"]) == 3 and found.get("numberMatched") == 3, f"served from PostgreSQL: {s} {body[:200]}")
    item_path = os.path.join(TMP, "item.json")
    json.dump(found["features"][0], open(item_path, "w"))
    v = subprocess.run([SCO, "--catalog", os.path.join(TMP, "node"), "--json", "verify", item_path], capture_output=True, text=True)
    check(v.returncode == 0 and json.loads(v.stdout)["verified"] == 1, f"the item's signature verifies: {v.stdout} {v.stderr}")

    # The database lost while serving: 503, the server up; back: 200.
    cluster._run(f"{cluster.bin}/pg_ctl -D {cluster.dir}/data -m immediate -w stop > /dev/null")
    s, h, body = get(base + "/stac/search?collections=scenes")
    check(s == 503 and h.get("Retry-After") == "5", f"database lost: {s} {body[:200]}")
    check(get(base + "/healthz")[0] == 200, "the server is up")
    cluster._run(f"{cluster.bin}/pg_ctl -D {cluster.dir}/data -l {cluster.dir}/log -w -o \"-p {cluster.port} -k {cluster.dir} "
                 f"-c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" start > /dev/null")
    statuses = [get(base + "/stac/search?collections=scenes")[0] for _ in range(3)]
    check(statuses[-1] == 200, f"the database back: {statuses}")

    # A SQLite node copied into a database: the same search, item for item; signatures verify.
    lite = os.path.join(TMP, "lite")
    subprocess.run([SCO, "--catalog", lite, "-q", "ingest", *files, "--collection", "scenes"], check=True)
    uri2 = cluster.new_database()
    r = sco(lite, "--json", "catalog", "copy", lite, uri2)
    rep = json.loads(r.stdout)
    check(rep["collections"] == 1 and rep["items"] == 6, f"catalog copy: {rep}")
    p_lite = subprocess.Popen([SCO, "--catalog", lite, "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    servers.append(p_lite)
    lite_port = int(re.search(r":(\d+)/", p_lite.stdout.readline()).group(1))
    base_lite = f"http://127.0.0.1:{lite_port}"
    server2, base2 = serve(uri2)
    servers.append(server2)
    q = "/stac/search?bbox=-35,-8.1,-34.8,-7.9&datetime=2021-05-02T00:00:00Z/2021-05-05T00:00:00Z&limit=2"
    pages = {}
    for name, b in (("sqlite", base_lite), ("postgresql", base2)):
        ids, url = [], b + q
        while url:
            d = json.loads(get(url)[2])
            ids += [(f["id"], f["properties"].get("updated"), json.dumps(f["sco:signature"], sort_keys=True)) for f in d["features"]]
            url = next((l["href"] for l in d.get("links", []) if l["rel"] == "next"), None)
        pages[name] = ids
    check(len(pages["sqlite"]) == 4 and pages["sqlite"] == pages["postgresql"], f"same search on both stores: {pages}")
    copied = [f for f in json.loads(get(base2 + "/stac/search?limit=100")[2])["features"]]
    bad = []
    for f in copied:
        json.dump(f, open(item_path, "w"))
        v = subprocess.run([SCO, "--catalog", lite, "--json", "verify", item_path], capture_output=True, text=True)
        if v.returncode != 0:
            bad.append((f["id"], v.stdout[-200:]))
    check(len(copied) == 6 and not bad, f"copied items verify: {bad}")

    # Two ingests at once into one database.
    uri3 = cluster.new_database()
    more = scenes(6)
    env = dict(os.environ, SCO_NODE_DIR=os.path.join(TMP, "node"))
    procs = [subprocess.Popen([SCO, "--catalog", uri3, "-q", "ingest", *half, "--collection", "scenes"], env=env, stderr=subprocess.PIPE, text=True)
             for half in (more[:3], more[3:])]
    codes = [p.wait() for p in procs]
    server3, base3 = serve(uri3)
    servers.append(server3)
    n = json.loads(get(base3 + "/stac/search?limit=100")[2]).get("numberMatched")
    check(codes == [0, 0] and n == 6, f"two ingests at once: exit {codes}, {n} items")

    # Bad input.
    r = sco("postgresql://sco@127.0.0.1:notaport/x", "ingest", files[0], "--collection", "c", ok=False)
    check(r.returncode == 2 and "port 'notaport' is not a port number" in r.stderr and len(r.stderr.strip().splitlines()) == 1, f"bad URI: {r.stderr}")
    check(not any(n.startswith("postgres") for n in os.listdir(os.getcwd())), "no folder named after the URI")
    r = sco("postgres:/typo/db", "ingest", files[0], "--collection", "c", ok=False)
    check(r.returncode == 2 and "neither a folder nor a postgresql://" in r.stderr, f"not a URI: {r.stderr}")
    r = sco("postgresql://sco:pw@127.0.0.1:1/db", "serve", "--port", "0", ok=False)
    check(r.returncode == 4 and "cannot connect" in r.stderr and "pw@" not in r.stderr and len(r.stderr.strip().splitlines()) == 1,
          f"unreachable at start-up: {r.returncode} {r.stderr}")
finally:
    for p in servers:
        p.send_signal(signal.SIGTERM)
        p.wait()
    cluster.stop()
    shutil.rmtree(TMP, ignore_errors=True)
check.finish()
