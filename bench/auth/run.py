#!/usr/bin/python3
"""The cost of authorization on `sco serve`: the same tile and STAC search loads as bench/tiles
(wrk, 64 connections) without a token and with a partner token checked on every request, in
alternating rounds on one server process, so that drift of the machine hits both sides alike.
Two measures per load: requests/s (median of the rounds), and the server's CPU time per request
(from /proc/PID/stat over each round), which does not depend on how wrk and the server share the
two cores and so shows small differences that throughput hides.
Usage: bench/auth/run.py [--sco PATH] [--seconds N] [--rounds R] [--markdown FILE]"""
import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tiles"))
from bench_common import emit_table, warm, partner_token  # noqa: E402
import run as tiles_bench  # noqa: E402  (bench/tiles/run.py: the COG, the 100000-item catalog, wrk)

CLK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK  # utime + stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sco", default=os.path.join(tiles_bench.ROOT, "build", "apps", "sco", "sco"))
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--markdown", default=None)
    args = ap.parse_args()
    out = tiles_bench.OUT
    os.makedirs(out, exist_ok=True)
    cog = tiles_bench.make_cog()
    cat = tiles_bench.make_catalog(args.sco, cog)
    token = partner_token(args.sco, cat)
    port = 18766
    server = subprocess.Popen([args.sco, "--quiet", "--catalog", cat, "serve", "--port", str(port), "--tile-cache-mb", "0", "--rate-limit", "0"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    base = f"http://127.0.0.1:{port}"
    results = {}
    try:
        rng = random.Random(1)
        loads = {"tiles": tiles_bench.tile_load(base, rng)[1], "search": tiles_bench.search_load(base, rng)}
        warm(cog)
        tiles_bench.wrk(loads["tiles"], 5, out, "auth_warmup")
        for name, urls in loads.items():
            for variant in ("none", "token"):
                results[(name, variant)] = {"rps": [], "cpu_us": [], "errors": 0}
            for r in range(args.rounds):
                order = ("none", "token") if r % 2 == 0 else ("token", "none")
                for variant in order:
                    c0 = cpu_seconds(server.pid)
                    rps, p50, p99, err = tiles_bench.wrk(urls, args.seconds, out, f"auth_{name}_{variant}", token if variant == "token" else None)
                    c1 = cpu_seconds(server.pid)
                    res = results[(name, variant)]
                    res["rps"].append(rps)
                    res["cpu_us"].append((c1 - c0) / (rps * args.seconds) * 1e6)
                    res["errors"] += err
                    print(name, variant, f"{rps:.0f}/s", f"{res['cpu_us'][-1]:.0f} us CPU/request", flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    lines = [f"wrk 64 connections, {args.rounds} alternating rounds of {args.seconds} s per variant, one server process; medians (min..max)",
             "", "| load | token | requests/s | server CPU per request | errors |", "|---|---|---|---|---|"]
    summary = []
    for name in ("tiles", "search"):
        med = {}
        for variant in ("none", "token"):
            res = results[(name, variant)]
            med[variant] = (statistics.median(res["rps"]), statistics.median(res["cpu_us"]))
            lines.append(f"| {name} | {'partner token checked' if variant == 'token' else 'none (public)'} | {med[variant][0]:.0f} "
                         f"({min(res['rps']):.0f}..{max(res['rps']):.0f}) | {med[variant][1]:.0f} us ({min(res['cpu_us']):.0f}..{max(res['cpu_us']):.0f}) "
                         f"| {res['errors']} |")
        summary.append(f"{name}: throughput {100 * (1 - med['token'][0] / med['none'][0]):+.1f}%, CPU per request "
                       f"{100 * (med['token'][1] / med['none'][1] - 1):+.1f}%")
    lines += ["", "Authorization cost (with a token vs without): " + "; ".join(summary)]
    emit_table(lines, args.markdown)


if __name__ == "__main__":
    main()
