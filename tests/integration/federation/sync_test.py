#!/usr/bin/env python3
"""Federation sync between two nodes on loopback (different ports, different keys).

Node A publishes a partners-only collection of real scene windows; node B trusts A's key and pulls it
with `sco sync`. Checked: refused without a token (401) and with a reader token (403), nothing
ingested; with a partner token every item arrives with A's signature byte for byte and assets equal to
A's files (SHA-256 computed here); a reader of B sees no trace of the copy; a second sync is a no-op;
a new item and a removed item are carried over. Rejected with nothing committed: an asset altered by
one byte on A, an item with a changed property, an unsigned item, a signature by an untrusted node, a
transfer cut short by a proxy (both a closed connection and a consistent but short answer). A sync
interrupted half-way resumes: the finished assets are reused and the partial ones continue with
Range requests.

Usage: sync_test.py SCO SAMPLE_DIR
"""
import hashlib
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from osgeo import gdal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from reference import Checks  # noqa: E402

gdal.UseExceptions()
SCO, SAMPLE = sys.argv[1], sys.argv[2]
check = Checks()
TMP = tempfile.mkdtemp(prefix="sco-sync-")
A, B, E = (os.path.join(TMP, n) for n in ("node_a", "node_b", "node_e"))
SRC = os.path.join(TMP, "scenes")
os.makedirs(SRC)


def sco(node, *args, ok=True, env=None):
    r = subprocess.run([SCO, "--catalog", node] + list(args), capture_output=True, text=True, env=env)
    if ok and r.returncode != 0:
        raise SystemExit(f"sco {args} failed ({r.returncode}): {r.stderr}")
    return r


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def scene(day, xoff):
    """A window of the real Landsat scene, as its own GeoTIFF: distinct content per day."""
    path = os.path.join(SRC, f"scene_2021-05-{day:02d}.tif")
    gdal.Translate(path, os.path.join(SAMPLE, "L7_ETMs.tif"), srcWin=[xoff, 0, 120, 120])
    return path


def serve(node, *extra):
    p = subprocess.Popen([SCO, "--catalog", node, "serve", "--port", "0", *extra], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = int(re.search(r":(\d+)/", p.stdout.readline()).group(1))
    return p, port


def stop(p):
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=10)


def db_items(node, collection):
    path = os.path.join(node, "catalog.sqlite")
    if not os.path.exists(path):
        return {}
    db = sqlite3.connect(path)
    try:
        return {i: json.loads(d) for i, d in db.execute("SELECT id, doc FROM items WHERE collection = ?", (collection,))}
    except sqlite3.OperationalError:
        return {}
    finally:
        db.close()


def edit_item(node, item_id, change):
    db = sqlite3.connect(os.path.join(node, "catalog.sqlite"))
    (doc,) = db.execute("SELECT doc FROM items WHERE id = ?", (item_id,)).fetchone()
    d = json.loads(doc)
    change(d)
    db.execute("UPDATE items SET doc = ? WHERE id = ?", (json.dumps(d), item_id))
    db.commit()
    db.close()
    return doc


def restore_item(node, item_id, doc):
    db = sqlite3.connect(os.path.join(node, "catalog.sqlite"))
    db.execute("UPDATE items SET doc = ? WHERE id = ?", (doc, item_id))
    db.commit()
    db.close()


def flip_byte(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 1]))


# A proxy in front of A that can misbehave on asset transfers: "ok", "cut" (half the body, then the
# connection closes), "short" (half the body with a matching Content-Length), "stall_after:N" (N
# whole assets, then half of the next one and a closed connection). Hosts in A's links are the proxy's.
class Proxy(http.server.BaseHTTPRequestHandler):
    mode = "ok"
    upstream = 0
    assets_served = 0
    ranges = []
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        conn = http.client.HTTPConnection("127.0.0.1", Proxy.upstream, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "range", "accept", "host")}
        conn.request("GET", self.path, headers=headers)
        r = conn.getresponse()
        body = r.read()
        conn.close()
        is_asset = self.path.startswith("/assets/") and r.status in (200, 206)
        if is_asset and "Range" in self.headers:
            Proxy.ranges.append(self.headers["Range"])
        mode = Proxy.mode
        if is_asset and mode.startswith("stall_after:"):
            mode = "ok" if Proxy.assets_served < int(mode.split(":")[1]) else "cut"
        if is_asset:
            Proxy.assets_served += 1
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("content-length", "connection", "transfer-encoding", "keep-alive"):
                self.send_header(k, v)
        if is_asset and mode == "short":
            body = body[: len(body) // 2]
        self.send_header("Content-Length", str(len(body)))
        if is_asset and mode == "cut":
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.end_headers()
        self.wfile.write(body)


# Node A: six windows of the scene, partners only; tokens for B.
for day in range(1, 7):
    scene(day, 20 * day)
sco(A, "-q", "ingest", SRC, "--collection", "scenes", "--visibility", "partners")
partner = json.loads(sco(A, "--json", "token", "create", "--owner", "agency-b", "--role", "partner").stdout)["token"]
reader = json.loads(sco(A, "--json", "token", "create", "--owner", "citizen", "--role", "reader").stdout)["token"]
key_a = os.path.join(TMP, "a.pub")
sco(A, "keys", "export", "-o", key_a)
sco(B, "-q", "trust", "add", "agency-a", key_a)

server_a, port_a = serve(A)
Proxy.upstream = port_a
proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
threading.Thread(target=proxy.serve_forever, daemon=True).start()
URL_A = f"http://127.0.0.1:{port_a}"
URL_P = f"http://127.0.0.1:{proxy.server_address[1]}"
server_b = None
try:
    # Refusals.
    r = sco(B, "sync", "--from", URL_A, "--collection", "scenes", ok=False)
    check(r.returncode == 2 and "answered 401" in r.stderr and "--token" in r.stderr, f"no token: {r.stderr.strip()}")
    r = sco(B, "sync", "--from", URL_A, "--collection", "scenes", "--token", reader, ok=False)
    check(r.returncode == 2 and "answered 403" in r.stderr, f"reader token: {r.stderr.strip()}")
    r = sco(B, "sync", "--from", URL_A, "--collection", "nothing", "--token", partner, ok=False)
    check(r.returncode == 3 and "404" in r.stderr, f"unknown collection: {r.stderr.strip()}")
    check(db_items(B, "scenes") == {}, "nothing ingested after the refusals")

    # The sync, through the (well-behaved) proxy; the token also from the environment.
    env = dict(os.environ, SCO_SYNC_TOKEN=partner)
    r = sco(B, "--json", "sync", "--from", URL_A + "/stac/", "--collection", "scenes", env=env)
    rep = json.loads(r.stdout)
    check(rep["added"] == 6 and rep["assets_downloaded"] == 6 and rep["signers"] == ["agency-a"], f"first sync: {rep}")
    a_items, b_items = db_items(A, "scenes"), db_items(B, "scenes")
    check(sorted(a_items) == sorted(b_items), "every item arrived")
    same_sig = same_bytes = 0
    for i, a in a_items.items():
        b = b_items[i]
        same_sig += a["sco:signature"] == b["sco:signature"] and a["properties"] == b["properties"] and a["geometry"] == b["geometry"]
        pa, pb = a["assets"]["data"]["href"], b["assets"]["data"]["href"]
        same_bytes += pb.startswith(os.path.join(B, "synced", "scenes")) and sha256(pa) == sha256(pb)
    check(same_sig == 6, f"the partner's content and signature kept ({same_sig} of 6)")
    check(same_bytes == 6, f"assets are byte copies of A's files, stored under B/synced ({same_bytes} of 6)")
    r = sco(B, "--json", "verify", os.path.join(B, "synced", "scenes"))
    v = json.loads(r.stdout)
    check(v["verified"] == 6 and v["failed"] == 0 and {x["signer"] for x in v["items"]} == {"agency-a"}, f"sco verify on B's copies: {v['verified']}")
    coll = json.loads(sqlite3.connect(os.path.join(B, "catalog.sqlite")).execute("SELECT doc FROM collections WHERE id='scenes'").fetchone()[0])
    check(coll["sco:origin"]["url"] == URL_A and coll.get("sco:visibility") == "partners", f"origin recorded, visibility kept: {coll.get('sco:origin')}")
    audit = [json.loads(l) for l in sco(B, "audit", "tail", "-n", "5").stdout.splitlines()]
    check(audit[-1]["event"] == "sync" and audit[-1]["detail"]["added"] == 6, "the sync is audited")

    # B serves its copy to its own readers: no trace of it for them; its admin sees A's content.
    b_admin = json.loads(sco(B, "--json", "token", "create", "--owner", "ops", "--role", "admin").stdout)["token"]
    b_reader = json.loads(sco(B, "--json", "token", "create", "--owner", "citizen", "--role", "reader").stdout)["token"]
    server_b, port_b = serve(B)

    def get_b(path, token):
        req = urllib.request.Request(f"http://127.0.0.1:{port_b}{path}", headers={"Authorization": "Bearer " + token})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    status, body = get_b("/stac/search?limit=100", b_reader)
    check(status == 200 and json.loads(body)["numberMatched"] == 0 and b"scene_" not in body, "B's reader: no trace in search or counts")
    status, _ = get_b("/tiles/scenes/scene_2021-05-01/data/14/6527/8455.png", b_reader)
    check(status == 403, f"B's reader: tiles refused ({status})")
    status, body = get_b("/stac/collections/scenes/items/scene_2021-05-03", b_admin)
    served = json.loads(body)
    status2, data = get_b(served["assets"]["data"]["href"].split(str(port_b), 1)[1], b_admin)
    check(status == 200 and status2 == 200 and hashlib.sha256(data).hexdigest() == served["assets"]["data"]["file:checksum"][4:],
          "B serves the copy and its asset under /assets")
    item_file = os.path.join(TMP, "from_b.json")
    json.dump(served, open(item_file, "w"))
    r = sco(B, "--json", "verify", item_file, "--token", b_admin, ok=False)
    check(r.returncode == 2 and "401" in r.stdout, "sco verify sends no token to an origin read from the item (the asset is refused)")
    r = sco(B, "--json", "verify", item_file, "--token", b_admin, "--from", f"http://127.0.0.1:{port_b}")
    check(json.loads(r.stdout)["verified"] == 1, "sco verify --from: fetches and checks the asset over HTTP")

    # A joint product: an indicator run on A (raster, report, provenance, district table per item).
    sco(A, "-q", "run", "heat.hot_months", "--input", f"tas={os.path.join(SAMPLE, 'bcsd_obs_1999.nc')}:tas", "--aoi",
        os.path.join(SAMPLE, "nc.gpkg"), "--id", "NAME", "--out", os.path.join(TMP, "nc_heat"), "--visibility", "partners")
    rep = json.loads(sco(B, "--json", "sync", "--from", URL_A, "--collection", "heat.hot_months", "--token", partner).stdout)
    run_items = db_items(B, "heat.hot_months")
    kinds = {k for it in run_items.values() for k in it["assets"]}
    same = all(sha256(a["href"]) == a["file:checksum"][4:] for it in run_items.values() for a in it["assets"].values())
    check(rep["added"] == 1 and {"data", "report", "provenance", "table_hot_steps_by_district"} <= kinds and same,
          f"an indicator run syncs with its report, provenance and district table, each checked: {sorted(kinds)}")
    names = {os.path.basename(a["href"]).split("-", 1)[1] for it in run_items.values() for a in it["assets"].values()}
    check({"data.tif", "report.html", "provenance.json", "table_hot_steps_by_district.geojson"} <= names, f"copies keep their kind of file: {names}")

    # Incremental: nothing new, then one new item and one removed on A.
    rep = json.loads(sco(B, "--json", "sync", "--from", URL_A, "--collection", "scenes", "--token", partner).stdout)
    check(rep["unchanged"] == 6 and rep["added"] == 0 and rep["bytes_downloaded"] == 0, f"second sync is a no-op: {rep}")
    sco(A, "-q", "ingest", scene(7, 140), "--collection", "scenes")
    db = sqlite3.connect(os.path.join(A, "catalog.sqlite"))
    (key,) = db.execute("SELECT key FROM items WHERE id = 'scene_2021-05-06'").fetchone()
    db.execute("DELETE FROM items WHERE key = ?", (key,))
    db.execute("DELETE FROM items_bbox WHERE key = ?", (key,))
    db.commit()
    db.close()
    removed_dir = os.path.dirname(b_items["scene_2021-05-06"]["assets"]["data"]["href"])
    rep = json.loads(sco(B, "--json", "sync", "--from", URL_A, "--collection", "scenes", "--token", partner).stdout)
    check(rep["added"] == 1 and rep["removed"] == 1 and rep["unchanged"] == 5 and rep["assets_downloaded"] == 1, f"incremental sync: {rep}")
    check("scene_2021-05-07" in db_items(B, "scenes") and "scene_2021-05-06" not in db_items(B, "scenes") and not os.path.exists(removed_dir),
          "the new item arrived, the removed one is gone with its files")

    def rejected(what, expect, url=URL_A, rc=2):
        before = db_items(B, "scenes")
        r = sco(B, "sync", "--from", url, "--collection", "scenes", "--token", partner, ok=False)
        check(r.returncode == rc and expect in r.stderr, f"{what}: rejected ({r.returncode}): {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ''}")
        check(db_items(B, "scenes") == before, f"{what}: nothing committed")
        return r

    # An asset altered by one byte on the publishing side (a new item, so that B fetches it).
    new = scene(8, 160)
    sco(A, "-q", "ingest", new, "--collection", "scenes")
    flip_byte(new, 3000)
    rejected("altered asset", "do not match the signed file:checksum")
    staging = os.path.join(B, "sync", "staging")
    check(not any(f.startswith(sha256(new)) for f in os.listdir(staging)), "the altered bytes are not kept")
    flip_byte(new, 3000)

    # An item whose property was changed after signing.
    old = edit_item(A, "scene_2021-05-08", lambda d: d["properties"].__setitem__("datetime", "2021-05-09T00:00:00Z"))
    rejected("changed property", "does not match its content")
    restore_item(A, "scene_2021-05-08", old)
    # An unsigned item.
    old = edit_item(A, "scene_2021-05-08", lambda d: d.pop("sco:signature"))
    rejected("unsigned item", "is not signed")
    restore_item(A, "scene_2021-05-08", old)

    # Truncated transfers through the proxy: the connection closes mid-body; a short but consistent answer.
    Proxy.mode = "cut"
    r = sco(B, "sync", "--from", URL_P, "--collection", "scenes", "--token", partner, ok=False)
    check(r.returncode == 2 and "is a copy of" in r.stderr, f"a copy keeps its origin: {r.stderr.strip()}")
    shutil.rmtree(os.path.join(TMP, "node_c"), ignore_errors=True)
    C = os.path.join(TMP, "node_c")
    sco(C, "-q", "trust", "add", "agency-a", key_a)

    def c_sync(ok=False):
        return sco(C, "--json", "sync", "--from", URL_P, "--collection", "scenes", "--token", partner, "--parallel", "1", ok=ok)

    r = c_sync()
    check(r.returncode == 4 and "interrupted" in r.stderr and db_items(C, "scenes") == {}, f"cut transfer: nothing committed: {r.stderr.strip()}")
    Proxy.mode = "short"
    r = c_sync()
    check(r.returncode == 2 and "truncated" in r.stderr and db_items(C, "scenes") == {}, f"short transfer rejected: {r.stderr.strip()}")

    # An interrupted sync resumes: 3 assets pass, the next ones are cut half-way; then the proxy behaves.
    shutil.rmtree(os.path.join(C, "sync"), ignore_errors=True)
    Proxy.mode, Proxy.assets_served, Proxy.ranges = "stall_after:3", 0, []
    r = c_sync()
    partial = [f for f in os.listdir(os.path.join(C, "sync", "staging"))]
    check(r.returncode == 4 and "3 verified, kept for the next run" in r.stderr and db_items(C, "scenes") == {}, f"interrupted: {r.stderr.strip()}")
    Proxy.mode = "ok"
    rep = json.loads(c_sync(ok=True).stdout)
    check(rep["added"] == 7 and rep["assets_reused"] == 3 and rep["assets_downloaded"] == 4, f"resumed: {rep}")
    # After the 4th asset every transfer was cut: 3 whole files and 4 halves waited in staging.
    check(len(partial) == 7 and len(Proxy.ranges) == 4 and all(re.fullmatch(r"bytes=[1-9]\d*-", x) for x in Proxy.ranges),
          f"the partial assets continued with Range requests: {Proxy.ranges}")
    check(sorted(db_items(C, "scenes")) == sorted(db_items(A, "scenes")), "the resumed copy is complete")
    check(os.listdir(os.path.join(C, "sync", "staging")) == [], "staging emptied after the commit")

    # HTTPS natively: A with a self-signed certificate; a client without it refuses, with it syncs.
    cert, key = os.path.join(TMP, "cert.pem"), os.path.join(TMP, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    r = sco(A, "serve", "--port", "0", "--tls-cert", key, "--tls-key", key, ok=False)
    check(r.returncode == 2 and "not a PEM certificate" in r.stderr, f"a bad certificate: {r.stderr.strip()}")
    server_tls, port_tls = serve(A, "--tls-cert", cert, "--tls-key", key)
    try:
        T = os.path.join(TMP, "node_t")
        sco(T, "-q", "trust", "add", "agency-a", key_a)
        url_tls = f"https://127.0.0.1:{port_tls}"
        r = sco(T, "sync", "--from", url_tls, "--collection", "scenes", "--token", partner, ok=False)
        check(r.returncode == 4 and "--ca-cert" in r.stderr, f"an unknown certificate is refused: {r.stderr.strip()}")
        rep = json.loads(sco(T, "--json", "sync", "--from", url_tls, "--collection", "scenes", "--token", partner, "--ca-cert", cert).stdout)
        hrefs = {i["assets"]["data"]["href"] for i in db_items(T, "scenes").values()}
        check(rep["added"] == 7 and all(h.startswith(os.path.join(T, "synced")) for h in hrefs), f"sync over HTTPS: {rep['added']}")
        import ssl
        ctx = ssl.create_default_context(cafile=cert)
        req = urllib.request.Request(url_tls + "/stac/collections/scenes/items?limit=1", headers={"Authorization": "Bearer " + partner})
        page = json.loads(urllib.request.urlopen(req, context=ctx, timeout=10).read())
        check(page["features"][0]["assets"]["data"]["href"].startswith(url_tls + "/assets/"), "links name https:// under TLS")
    finally:
        stop(server_tls)

    # Behind a reverse proxy (--trust-proxy): links follow X-Forwarded-Proto / -Host.
    server_rp, port_rp = serve(A, "--trust-proxy")
    try:
        req = urllib.request.Request(f"http://127.0.0.1:{port_rp}/stac", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "node-a.example.org"})
        landing = json.loads(urllib.request.urlopen(req, timeout=10).read())
        check(landing["links"][0]["href"] == "https://node-a.example.org/stac", f"proxied links: {landing['links'][0]['href']}")
    finally:
        stop(server_rp)
    req = urllib.request.Request(f"http://127.0.0.1:{port_a}/stac", headers={"X-Forwarded-Host": "evil.example"})
    check("evil" not in urllib.request.urlopen(req, timeout=10).read().decode(), "without --trust-proxy the headers are ignored")

    # A slow client (headers never finished) is dropped after --timeout; others are still served.
    import socket
    server_slow, port_slow = serve(A, "--timeout", "1")
    try:
        slow = socket.create_connection(("127.0.0.1", port_slow))
        slow.sendall(b"GET /stac HTTP/1.1\r\nHost: x\r\n")  # and nothing more
        slow.settimeout(10)
        t0 = time.time()
        try:
            got = slow.recv(4096)
        except (ConnectionResetError, socket.timeout):
            got = b"timeout"
        waited = time.time() - t0
        status = urllib.request.urlopen(f"http://127.0.0.1:{port_slow}/healthz", timeout=5).status
        check(got != b"timeout" and waited < 5 and status == 200, f"slow client dropped after {waited:.1f} s ({got[:40]!r}); others served")
        slow.close()
    finally:
        stop(server_slow)

    # A signature by a node B does not trust.
    sco(E, "-q", "ingest", os.path.join(SRC, "scene_2021-05-01.tif"), "--collection", "scenes")
    server_e, port_e = serve(E)
    try:
        D = os.path.join(TMP, "node_d")
        sco(D, "-q", "trust", "add", "agency-a", key_a)
        r = sco(D, "sync", "--from", f"http://127.0.0.1:{port_e}", "--collection", "scenes", ok=False)
        check(r.returncode == 2 and "which this node does not trust" in r.stderr and db_items(D, "scenes") == {}, f"untrusted signer: {r.stderr.strip()}")
    finally:
        stop(server_e)
    check(json.loads(sco(B, "--json", "audit", "verify").stdout)["ok"], "B's audit log intact")
    events = [json.loads(l)["event"] for l in sco(B, "audit", "tail", "-n", "50").stdout.splitlines()]
    check(events.count("sync.rejected") >= 3, f"rejections are audited ({events.count('sync.rejected')})")
    # ... and shared as STIX: a sighting per rejection, of the attack pattern its reason names.
    stix = json.loads(sco(B, "intel", "export", "--collection", "amber").stdout)["objects"]
    capec = {o["id"]: o["external_references"][0]["external_id"] for o in stix if o["type"] == "attack-pattern"}
    seen = {re.search(r"\(([a-z_]+)\)", o["description"]).group(1): capec[o["sighting_of_ref"]]
            for o in stix if o["type"] == "sighting" and "rejected" in o.get("description", "")}
    check(seen.get("checksum_mismatch") == "CAPEC-477" and seen.get("bad_signature") == "CAPEC-473" and seen.get("unsigned") == "CAPEC-473",
          f"rejected syncs as STIX sightings: {seen}")
    uses = [json.loads(l) for l in sco(A, "audit", "tail", "-n", "200").stdout.splitlines() if '"token.used"' in l]
    check(any(u["detail"]["owner"] == "agency-b" and u["detail"]["role"] == "partner" for u in uses) and len(uses) < 20,
          f"token use is audited on A, not on every request ({len(uses)} entries)")
finally:
    stop(server_a)
    if server_b:
        stop(server_b)
    proxy.shutdown()

shutil.rmtree(TMP)
check.finish()
