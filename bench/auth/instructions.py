#!/usr/bin/python3
"""The cost of authorization counted in instructions, not seconds: `sco serve` runs under valgrind's
callgrind (which counts every instruction the process executes, the same for the same work whatever
else the machine does), answers the same N search and N tile requests, one at a time, once without
and once with a partner token; a run with no request gives the start-up and shut-down count to
subtract. Per request: (run - start-up) / N. This measures what throughput runs (bench/auth/run.py)
cannot resolve on a shared 2-core machine: differences well under the +-5 % of their noise.
Counts are taken between a zeroing after 10 warm-up requests and a dump after the measured ones,
on one keep-alive connection (one server thread, warm caches).
Usage: bench/auth/instructions.py [--sco PATH] [--requests N] [--markdown FILE]"""
import argparse
import glob
import http.client
import os
import random
import re
import signal
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tiles"))
from bench_common import emit_table, partner_token  # noqa: E402
import run as tiles_bench  # noqa: E402


def instructions(sco, cat, paths, token, out_dir, tag, warm_paths=None):
    """Instructions per request in the steady state: one keep-alive connection (so one server
    thread, with its warm caches), 10 warm-up requests (or `warm_paths`), counters zeroed, then the
    measured ones."""
    port = 18790
    out = os.path.join(out_dir, f"callgrind.{tag}.out")
    for f in glob.glob(out + "*"):
        os.remove(f)
    server = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no", sco, "--quiet",
                               "--catalog", cat, "serve", "--port", str(port), "--tile-cache-mb", "0", "--rate-limit", "0", "--threads", "1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):  # valgrind starts slowly
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read()
            break
        except OSError:
            time.sleep(0.1)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": "Bearer " + token} if token else {}

    def get(p):
        conn.request("GET", p, headers=headers)
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            raise SystemExit(f"{p}: {r.status}")

    for p in paths[:10] if warm_paths is None else warm_paths:
        get(p)
    subprocess.run(["callgrind_control", "--zero", str(server.pid)], check=True, capture_output=True)
    for p in paths:
        get(p)
    conn.close()
    subprocess.run(["callgrind_control", "--dump=measured", str(server.pid)], check=True, capture_output=True)
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=300)
    total = 0
    for f in glob.glob(out + "*"):
        text = open(f).read()
        if "desc: Trigger: dump measured" not in text[:4000]:
            continue
        m = re.search(r"^summary:\s+(\d+)", text, re.M)
        total += int(m.group(1)) if m else 0
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sco", default=os.path.join(tiles_bench.ROOT, "build", "apps", "sco", "sco"))
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--markdown", default=None)
    args = ap.parse_args()
    cog = tiles_bench.make_cog()
    cat = tiles_bench.make_catalog(args.sco, cog)
    token = partner_token(args.sco, cat)
    rng = random.Random(3)
    search = [u[len("http://x"):] for u in tiles_bench.search_load("http://x", rng, args.requests)]
    tiles = []
    for _ in range(args.requests):  # zoom 12 tiles over the raster (bounds from its item)
        z = 12
        x0, y0 = tiles_bench.tile_of(-34.85, -8.0, z)
        x1, y1 = tiles_bench.tile_of(-34.0, -8.9, z)
        tiles.append(f"/tiles/s2size/s2size_nir_cog/data/{z}/{rng.randint(x0, x1)}/{rng.randint(y0, y1)}.png?rescale=0,10200&colormap=viridis")
    out_dir = tiles_bench.OUT
    rows = []
    for name, paths in (("search", search), ("tiles", tiles)):
        plain = instructions(args.sco, cat, paths, None, out_dir, f"{name}_none") / len(paths)
        with_token = instructions(args.sco, cat, paths, token, out_dir, f"{name}_token") / len(paths)
        rows.append((name, plain, with_token))
        print(name, plain, with_token, flush=True)
    lines = [f"Instructions executed by the server per request (valgrind callgrind, {args.requests} requests on one keep-alive connection "
             "after 10 warm-up requests, counters zeroed in between)",
             "", "| load | without a token | with a partner token | authorization cost |", "|---|---|---|---|"]
    for name, plain, with_token in rows:
        lines.append(f"| {name} | {plain / 1e6:.3f} M | {with_token / 1e6:.3f} M | {with_token - plain:+,.0f} instructions ({100 * (with_token / plain - 1):+.2f}%) |")
    emit_table(lines, args.markdown)


if __name__ == "__main__":
    main()
