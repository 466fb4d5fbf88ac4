#!/usr/bin/python3
"""The catalog at scale (issue 20, part 6): STAC searches (a random 10-degree box and an 18-month
interval, limit 10, exact counts) under wrk at 64 connections on `sco serve`, and batch ingest
(`sco catalog copy` of a SQLite catalog into PostgreSQL: every item through the store's put_item,
one transaction):
  - the same 100,000 generated items on SQLite and on PostgreSQL/PostGIS, side by side;
  - 1,000,000 generated items on PostgreSQL.
PostgreSQL 15 + PostGIS 3 from Debian, started here as an unprivileged cluster on a free port
(tests/support/pg.py) with fsync on, shared_buffers=2GB; the server and wrk share this machine's two
cores with PostgreSQL.

Usage: bench/catalog/run.py [--sco PATH] [--seconds N] [--million N] [--markdown FILE]"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tiles"))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
from bench_common import add_generated_items, emit_table  # noqa: E402
from pg import Cluster, free_port  # noqa: E402
import run as tiles_bench  # noqa: E402  (wrk and the search load of bench/tiles)

OUT = os.path.join(ROOT, "bench", "out", "catalog")


def sqlite_catalog(sco, n):
    """A node folder whose catalog holds n generated items (made once, kept in bench/out)."""
    cat = os.path.join(OUT, f"sqlite_{n}")
    if os.path.exists(os.path.join(cat, "catalog.sqlite")):
        return cat
    tmp = cat + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    # A first ingest makes the catalog with sco's schema; the generated items go in through SQLite.
    subprocess.run([sco, "-q", "--catalog", tmp, "ingest", os.path.join(ROOT, "data", "sample", "L7_ETMs.tif"), "--collection", "sample",
                    "--datetime", "2020-07-01"],
                   check=True)
    t0 = time.time()
    add_generated_items(os.path.join(tmp, "catalog.sqlite"), n)
    print(f"generated {n} items into SQLite in {time.time() - t0:.0f} s", flush=True)
    os.rename(tmp, cat)
    return cat


def copy_into(sco, cat, uri):
    """Batch ingest: sco catalog copy FOLDER URI; returns (seconds, items/s)."""
    t0 = time.time()
    out = subprocess.run([sco, "--json", "catalog", "copy", cat, uri], capture_output=True, text=True, check=True).stdout
    seconds = time.time() - t0
    items = json.loads(out)["items"]
    return seconds, items / seconds


def serve(sco, catalog, node_dir):
    port = free_port()
    env = dict(os.environ, SCO_NODE_DIR=node_dir)
    server = subprocess.Popen([sco, "--quiet", "--catalog", catalog, "serve", "--port", str(port), "--rate-limit", "0"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        time.sleep(0.1)
        try:
            urllib.request.urlopen(f"{base}/stac/", timeout=2).read()
            return server, base
        except OSError:
            pass
    server.kill()
    raise RuntimeError(f"sco serve on {catalog} did not start")


def search(sco, catalog, node_dir, seconds, label):
    server, base = serve(sco, catalog, node_dir)
    try:
        urls = tiles_bench.search_load(base, random.Random(1))
        tiles_bench.wrk(urls, 5, OUT, f"{label}_warmup")
        rps, p50, p99, errors = tiles_bench.wrk(urls, seconds, OUT, label)
        print(f"{label:40s} {rps:7.0f} searches/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  errors {errors}", flush=True)
        return rps, p50, p99, errors, tiles_bench.peak_mib(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sco", default=os.path.join(ROOT, "build", "apps", "sco", "sco"))
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--million", type=int, default=1_000_000)
    ap.add_argument("--markdown", default=None)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench/catalog: wrk not found: run scripts/install-deps.sh --bench")
    os.makedirs(OUT, exist_ok=True)
    small, big = sqlite_catalog(args.sco, 100_000), sqlite_catalog(args.sco, args.million)
    pg = Cluster()
    why = pg.start("-c shared_buffers=2GB -c max_wal_size=8GB")
    if why:
        sys.exit(f"bench/catalog: {why}")
    node_dir = os.path.join(OUT, "node")
    os.makedirs(node_dir, exist_ok=True)
    rows = []
    try:
        uri_small, uri_big = pg.new_database(), pg.new_database()
        s_secs, s_rate = copy_into(args.sco, small, uri_small)
        print(f"ingest 100000 into PostgreSQL: {s_secs:.1f} s, {s_rate:.0f} items/s", flush=True)
        b_secs, b_rate = copy_into(args.sco, big, uri_big)
        print(f"ingest {args.million} into PostgreSQL: {b_secs:.1f} s, {b_rate:.0f} items/s", flush=True)
        subprocess.run([f"{pg.bin}/psql", "-q", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "sco", "-d", uri_big.rsplit("/", 1)[1],
                        "-c", "VACUUM ANALYZE"], check=True)
        sq = search(args.sco, small, node_dir, args.seconds, "sqlite_100k")
        p1 = search(args.sco, uri_small, node_dir, args.seconds, "postgres_100k")
        p2 = search(args.sco, uri_big, node_dir, args.seconds, "postgres_1m")
        rows = [("SQLite", "100,000", sq, "-"), ("PostgreSQL/PostGIS", "100,000", p1, f"{s_rate:.0f} items/s ({s_secs:.1f} s)"),
                ("PostgreSQL/PostGIS", f"{args.million:,}", p2, f"{b_rate:.0f} items/s ({b_secs:.1f} s)")]
    finally:
        pg.stop()
    lines = ["| store | items | searches/s at 64 connections | p50 | p99 | errors | server peak memory | batch ingest (catalog copy) |",
             "|---|---|---|---|---|---|---|---|"]
    for store, items, (rps, p50, p99, errors, mem), ingest in rows:
        lines.append(f"| {store} | {items} | {rps:.0f} | {p50:.1f} ms | {p99:.1f} ms | {errors} | {mem:.0f} MiB | {ingest} |")
    lines.append("")
    lines.append(f"PostgreSQL / SQLite search throughput at 100,000 items: {rows[1][2][0] / rows[0][2][0]:.2f}")
    emit_table(lines, args.markdown)


if __name__ == "__main__":
    main()
