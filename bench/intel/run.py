#!/usr/bin/python3
"""Security events at scale (issue 23), one run:
  1. 100,000 STIX indicators (one address each), signed with PyNaCl over rfc8785 by a partner key,
     posted to sco's inbound collection in envelopes of 1,000 (objects/s, 100,000 deny rules made);
  2. reads of that collection in pages of 1,000 under 64 connections (wrk, 2 threads): requests/s,
     objects/s, p50 / p99 latency, the server's peak memory;
  3. medallion (the OASIS TC's reference TAXII 2.1 server, memory backend, pages of 1,000) holding the
     first --medallion-objects of them (in its data file: its POST is quadratic, measured on 5,000; its
     GET too: a page takes 0.9 s at 500 objects, 3.5 s at 1,000, 14 s at 2,000, so 100,000 would take
     about 10 hours a page), then `sco intel pull` of all of them
     (objects/s, peak memory); the pull of all 100,000 from sco's own TAXII server beside it.
Usage: bench/intel/run.py [--sco PATH] [--objects N] [--seconds S] [--markdown FILE]
(runs itself under .venv-intel, where medallion, PyNaCl and rfc8785 are)"""
import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VENV = os.path.join(ROOT, ".venv-intel")
if os.path.realpath(sys.prefix) != os.path.realpath(VENV):
    os.execv(os.path.join(VENV, "bin", "python"), [os.path.join(VENV, "bin", "python")] + sys.argv)
sys.path.insert(0, os.path.dirname(HERE))
from bench_common import emit_table, timed  # noqa: E402
import nacl.signing  # noqa: E402
import requests  # noqa: E402
import rfc8785  # noqa: E402

TAXII = "application/taxii+json;version=2.1"
OUT = os.path.join(ROOT, "bench", "out", "intel")


def sco(sco_bin, node, *args, stdin=None):
    return subprocess.run([sco_bin, "--catalog", node] + list(args), capture_output=True, text=True, check=True, input=stdin).stdout


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def make_objects(signer_node, sco_bin, n):
    """n indicators of distinct addresses in 10.0.0.0/8, signed as sco signs (Ed25519 over RFC 8785)."""
    secret = base64.b64decode(open(os.path.join(signer_node, "keys", "node.key")).read().strip())
    sk = nacl.signing.SigningKey(secret[:32])
    pub = sco(sco_bin, signer_node, "keys", "export").split()
    key_id = hashlib.sha256(base64.b64decode(pub[1])).hexdigest()[:16]
    objs = []
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    until = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() + 7 * 86400))
    for i in range(n):
        a = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
        uid = hashlib.sha1(f"bench-{i}".encode()).hexdigest()
        o = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uid[:8]}-{uid[8:12]}-5{uid[13:16]}-a{uid[17:20]}-{uid[20:32]}",
             "created": now, "modified": now, "name": f"scanner {a}", "indicator_types": ["malicious-activity"],
             "pattern": f"[ipv4-addr:value = '{a}']", "pattern_type": "stix", "pattern_version": "2.1", "valid_from": now,
             "valid_until": until, "object_marking_refs": ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]}
        objs.append((o, sk.sign(rfc8785.dumps(o)).signature))
    return objs, key_id, pub[2] if len(pub) > 2 else ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sco", default=os.path.join(ROOT, "build", "apps", "sco", "sco"))
    ap.add_argument("--objects", type=int, default=100000)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--medallion-objects", type=int, default=2000,
                    help="objects medallion holds (its memory backend's time per page grows with the square of the collection)")
    ap.add_argument("--markdown", default=None)
    args = ap.parse_args()
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    A, B, C, D = (os.path.join(OUT, x) for x in ("node_a", "node_b", "node_c", "node_d"))
    for node in (A, B, C, D):
        sco(args.sco, node, "keys", "show")
    key_b = os.path.join(OUT, "b.pub")
    sco(args.sco, B, "keys", "export", "-o", key_b)
    for node in (A, C, D):
        sco(args.sco, node, "-q", "trust", "add", "agency-b", key_b)
    partner = json.loads(sco(args.sco, A, "--json", "token", "create", "--owner", "b", "--role", "partner"))["token"]
    admin = json.loads(sco(args.sco, A, "--json", "token", "create", "--owner", "ops", "--role", "admin"))["token"]
    port = free_port()
    server = subprocess.Popen([args.sco, "--quiet", "--catalog", A, "serve", "--port", str(port), "--rate-limit", "0", "--max-body", "16000000"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    time.sleep(1.0)
    rows = []
    med = None
    try:
        ext_id = requests.get(f"{base}/taxii2/sco/collections/", headers={"Accept": TAXII, "Authorization": "Bearer " + admin}).json()
        inbound = next(c["id"] for c in ext_id["collections"] if c["alias"] == "inbound")
        amber = next(c["id"] for c in ext_id["collections"] if c["alias"] == "amber")
        env = requests.get(f"{base}/taxii2/sco/collections/{amber}/objects/?match[type]=extension-definition",
                           headers={"Accept": TAXII, "Authorization": "Bearer " + admin}).json()
        sig_ext = env["objects"][0]["id"]
        t = time.time()
        raw, key_id, _ = make_objects(B, args.sco, args.objects)
        objs = []
        for o, sig in raw:
            o["extensions"] = {sig_ext: {"extension_type": "property-extension", "alg": "Ed25519", "key_id": key_id, "signer": "agency-b",
                                         "value": base64.b64encode(sig).decode()}}
            objs.append(o)
        print(f"{len(objs)} objects made and signed in {time.time() - t:.1f} s", flush=True)
        # 1. Posts to sco.
        t = time.time()
        s = requests.Session()
        for i in range(0, len(objs), 1000):
            r = s.post(f"{base}/taxii2/sco/collections/{inbound}/objects/", data=json.dumps({"objects": objs[i:i + 1000]}),
                       headers={"Accept": TAXII, "Content-Type": TAXII, "Authorization": "Bearer " + partner})
            if r.status_code != 202:
                raise SystemExit(f"post {i}: {r.status_code} {r.text[:300]}")
        post_s = time.time() - t
        rules = len(json.loads(sco(args.sco, A, "--json", "intel", "list")))
        rows.append(("sco: POST, envelopes of 1,000 (checked, signatures verified, stored, deny rules)", f"{len(objs) / post_s:,.0f} objects/s",
                     f"{post_s:.1f} s, {rules:,} rules"))
        # 2. Pages of 1,000 under 64 connections.
        nexts = [""]
        while True:
            r = s.get(f"{base}/taxii2/sco/collections/{inbound}/manifest/?limit=1000" + (f"&next={nexts[-1]}" if nexts[-1] else ""),
                      headers={"Accept": TAXII, "Authorization": "Bearer " + admin}).json()
            if not r.get("more"):
                break
            nexts.append(r["next"])
        paths = [f"/taxii2/sco/collections/{inbound}/objects/?limit=1000" + (f"&next={n}" if n else "") for n in nexts]
        page_bytes = len(s.get(base + paths[1], headers={"Accept": TAXII, "Authorization": "Bearer " + admin}).content)
        with open(os.path.join(OUT, "paths.txt"), "w") as f:
            f.write("\n".join(paths) + "\n")
        lua = os.path.join(OUT, "pages.lua")
        with open(lua, "w") as f:
            f.write(f"""paths = {{}}
for line in io.lines("{OUT}/paths.txt") do paths[#paths + 1] = line end
math.randomseed(7)
request = function() return wrk.format("GET", paths[math.random(#paths)], {{["Accept"] = "{TAXII}", ["Authorization"] = "Bearer {admin}"}}) end
""")
        w = subprocess.run(["wrk", "-t2", "-c64", f"-d{args.seconds}s", "--timeout", "10s", "--latency", "-s", lua, base],
                           capture_output=True, text=True, check=True).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", w).group(1))

        def lat(p):
            m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", w)
            v = float(m.group(1))
            return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", w)
        hwm = int(re.search(r"VmHWM:\s+(\d+)", open(f"/proc/{server.pid}/status").read()).group(1)) / 1024
        rows.append((f"sco: GET pages of 1,000 ({page_bytes / 1e6:.2f} MB), 64 connections, {args.seconds} s",
                     f"{rps:,.0f} pages/s = {rps * 1000:,.0f} objects/s", f"p50 {lat(50):.1f} ms, p99 {lat(99):.1f} ms, "
                     f"{int(non2xx.group(1)) if non2xx else 0} errors, server peak {hwm:.0f} MiB"))
        print(rows[-1], flush=True)
        # 3. medallion: its memory backend's file holds the objects (its POST checks each new object
        # against every stored one, O(n^2): measured on 5,000 objects into a second collection).
        mport = free_port()
        coll, posts = "3cb4d2ab-4a4e-4a5c-9e8a-5a8f41a9b8d1", "6f1d7a52-2b8e-4f0c-9d3a-0c6f7e8b9a10"
        held = objs[:args.medallion_objects]
        t0 = time.time() - len(held) * 1e-3
        manifest = [{"id": o["id"], "date_added": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0 + i * 1e-3)) + f".{int((t0 + i * 1e-3) % 1 * 1e6):06d}Z",
                     "version": o["modified"], "media_type": "application/stix+json;version=2.1"} for i, o in enumerate(held)]
        data = {"/discovery": {"title": "medallion", "default": f"http://127.0.0.1:{mport}/api1/", "api_roots": [f"http://127.0.0.1:{mport}/api1/"]},
                "api1": {"information": {"title": "api1", "versions": [TAXII], "max_content_length": 100000000}, "status": [],
                         "collections": [{"id": coll, "title": "bench", "can_read": True, "can_write": True,
                                          "media_types": ["application/stix+json;version=2.1"], "objects": held, "manifest": manifest},
                                         {"id": posts, "title": "posts", "can_read": True, "can_write": True,
                                          "media_types": ["application/stix+json;version=2.1"], "objects": [], "manifest": []}]}}
        json.dump(data, open(os.path.join(OUT, "medallion-data.json"), "w"))
        json.dump({"backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                               "filename": os.path.join(OUT, "medallion-data.json")},
                   "users": {"sco": "s3cret"}, "taxii": {"max_page_size": 1000}}, open(os.path.join(OUT, "medallion.json"), "w"))
        med = subprocess.Popen([os.path.join(VENV, "bin", "medallion"), "--port", str(mport), os.path.join(OUT, "medallion.json")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ms = requests.Session()
        for _ in range(600):
            try:
                ms.get(f"http://127.0.0.1:{mport}/taxii2/", auth=("sco", "s3cret"), headers={"Accept": TAXII}, timeout=2)
                break
            except requests.exceptions.ConnectionError:
                time.sleep(0.1)
        t = time.time()
        for i in range(0, 5000, 1000):
            r = ms.post(f"http://127.0.0.1:{mport}/api1/collections/{posts}/objects/", data=json.dumps({"objects": objs[i:i + 1000]}),
                        auth=("sco", "s3cret"), headers={"Accept": TAXII, "Content-Type": TAXII})
            if r.status_code != 202:
                raise SystemExit(f"medallion post {i}: {r.status_code} {r.text[:300]}")
        med_post = time.time() - t
        rows.append(("medallion 3.0.0: POST, 5 envelopes of 1,000 into an empty collection", f"{5000 / med_post:,.0f} objects/s", f"{med_post:.1f} s"))
        print(rows[-1], flush=True)
        t = time.time()
        first = ms.get(f"http://127.0.0.1:{mport}/api1/collections/{coll}/objects/?limit=1000", auth=("sco", "s3cret"), headers={"Accept": TAXII})
        rows.append((f"medallion 3.0.0: GET the first page of 1,000 of {len(held):,}", f"{1000 / (time.time() - t):,.0f} objects/s", f"{(time.time() - t) * 1000:.0f} ms"))
        print(rows[-1], flush=True)
        os.environ["SCO_INTEL_PASSWORD"] = "s3cret"
        wall, mib = timed([args.sco, "--quiet", "--catalog", C, "intel", "pull", "--from", f"http://127.0.0.1:{mport}/taxii2/", "--user", "sco",
                           "--collection", coll])
        pulled = len(json.loads(sco(args.sco, C, "--json", "intel", "list")))
        rows.append((f"sco intel pull of {len(held):,} from medallion (pages of 1,000: verified, stored, rules)", f"{len(held) / wall:,.0f} objects/s",
                     f"{wall:.1f} s, peak {mib:.0f} MiB, {pulled:,} rules"))
        print(rows[-1], flush=True)
        wall, mib = timed([args.sco, "--quiet", "--catalog", D, "intel", "pull", "--from", f"{base}/taxii2/", "--collection", "inbound",
                           "--token", admin])
        rows.append((f"sco intel pull of {args.objects:,} from sco serve", f"{args.objects / wall:,.0f} objects/s", f"{wall:.1f} s, peak {mib:.0f} MiB"))
        print(rows[-1], flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        if med:
            med.terminate()
            med.wait()
    lines = [f"{args.objects:,} signed STIX indicators; one run on this machine (2 cores)", "",
             "| what | rate | detail |", "|---|---|---|"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
    emit_table(lines, args.markdown)


if __name__ == "__main__":
    main()
