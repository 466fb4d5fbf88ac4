#!/usr/bin/python3
"""Federation sync throughput between two local nodes: node A ingests N small GeoTIFF assets (64 x 64
windows of the real Landsat sample, one band, about 4.5 KB each), serves them with a partners-only
visibility; node B trusts A's key and runs `sco sync` with a partner token: every item's Ed25519
signature and every asset's SHA-256 are checked before the one commit. Reports items/s, MB/s and
peak memory of the first sync, and the time of a second (incremental, nothing new) sync.
Usage: bench/sync/run.py [--sco PATH] [--items N] [--markdown FILE]"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from bench_common import emit_table, timed, partner_token  # noqa: E402
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "bench", "out", "sync")


def make_assets(n):
    from osgeo import gdal
    gdal.UseExceptions()
    src_dir = os.path.join(OUT, f"assets_{n}")
    if os.path.isdir(src_dir) and len(os.listdir(src_dir)) == n:
        return src_dir
    shutil.rmtree(src_dir, ignore_errors=True)
    os.makedirs(src_dir)
    src = gdal.Open(os.path.join(ROOT, "data", "sample", "L7_ETMs.tif"))
    w, h = src.RasterXSize - 64, src.RasterYSize - 64
    for k in range(n):
        x, y = (k * 7) % w, (k * 13 // w * 5 + k) % h
        day = 1 + k % 28
        gdal.Translate(os.path.join(src_dir, f"tile{k:05d}_2021-03-{day:02d}.tif"), src, srcWin=[x, y, 64, 64], bandList=[1 + k % 6])
    return src_dir


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sco", default=os.path.join(ROOT, "build", "apps", "sco", "sco"))
    ap.add_argument("--items", type=int, default=10000)
    ap.add_argument("--markdown", default=None)
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    src_dir = make_assets(args.items)
    a, b = os.path.join(OUT, "node_a"), os.path.join(OUT, "node_b")
    for d in (a, b):
        shutil.rmtree(d, ignore_errors=True)
    t_ingest, m_ingest = timed([args.sco, "-q", "--catalog", a, "ingest", src_dir, "--collection", "bench", "--visibility", "partners"])
    token = partner_token(args.sco, a, "b")
    key = os.path.join(OUT, "a.pub")
    subprocess.run([args.sco, "--catalog", a, "keys", "export", "-o", key], check=True, capture_output=True)
    subprocess.run([args.sco, "-q", "--catalog", b, "trust", "add", "agency-a", key], check=True)
    port = 18767
    server = subprocess.Popen([args.sco, "--quiet", "--catalog", a, "serve", "--port", str(port), "--rate-limit", "0"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    try:
        url = f"http://127.0.0.1:{port}"
        rep_file = os.path.join(OUT, "sync.json")
        with open(rep_file, "w") as f:
            t0 = time.time()
            r = subprocess.run(["/usr/bin/time", "-f", "%e %M", args.sco, "--json", "--catalog", b, "sync", "--from", url, "--collection", "bench",
                                "--token", token], stdout=f, stderr=subprocess.PIPE, text=True)
            wall = time.time() - t0
        if r.returncode != 0:
            raise SystemExit(f"sync failed: {r.stderr}")
        peak = int(r.stderr.split()[-1]) / 1024
        rep = json.load(open(rep_file))
        t_again, _ = timed([args.sco, "-q", "--catalog", b, "sync", "--from", url, "--collection", "bench", "--token", token])
        with open(f"/proc/{server.pid}/status") as f:
            server_peak = int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) / 1024
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    v_wall, _ = timed([args.sco, "-q", "--catalog", b, "verify", os.path.join(b, "synced", "bench")])
    mb = rep["bytes_downloaded"] / 1e6
    lines = [
        f"{args.items} items, one {mb / max(1, rep['assets_downloaded']) * 1000:.1f} KB GeoTIFF asset each, two nodes on loopback, "
        f"`sco sync` (4 downloads at a time)",
        "",
        "| step | wall | throughput | peak memory |",
        "|---|---|---|---|",
        f"| A: sco ingest (footprint, SHA-256, Ed25519 signature per item) | {t_ingest:.1f} s | {args.items / t_ingest:.0f} items/s | {m_ingest:.0f} MiB |",
        f"| B: first sync (list, verify {rep['added']} signatures, fetch + hash {rep['assets_downloaded']} assets, one commit) | {wall:.1f} s | "
        f"{rep['added'] / wall:.0f} items/s, {mb / wall:.1f} MB/s ({mb:.1f} MB) | {peak:.0f} MiB (A's server: {server_peak:.0f} MiB) |",
        f"| of which: listing + signature checks / downloads + hashes / placing + commit | {rep['list_seconds']:.1f} s / "
        f"{rep['fetch_seconds']:.1f} s / {rep['commit_seconds']:.1f} s | | |",
        f"| B: second sync (nothing new: listing compared) | {t_again:.2f} s | {args.items / t_again:.0f} items/s compared | |",
        f"| B: sco verify of the {args.items} copies (signatures + SHA-256 of local files) | {v_wall:.1f} s | {args.items / v_wall:.0f} items/s | |",
    ]
    emit_table(lines, args.markdown)


if __name__ == "__main__":
    main()
