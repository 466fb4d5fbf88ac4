#!/usr/bin/python3
"""Zonal statistics: sco against exactextract (the field's reference: exact coverage, as sco; from
PyPI into bench/.venv by scripts/install-deps.sh --bench) and rasterio features.rasterize + numpy
(the usual Python way; cell centres, not exact), in one run, medians over several runs, peak memory and ratios; plus sco on 1 date vs 12
dates of the same grid to show that coverage is computed once and reused; and the 12-date case read
through a memory map and copied (SCO_MMAP=1 / 0) against sco's own choice, which it makes by a
probe because the faster way depends on the host (docs/zonal.md).
Statistics: count, sum, mean, min, max, stddev, median.
Usage: bench/zonal/run.py [--runs N] [--sco PATH] [--markdown FILE]"""
import argparse
import os
import statistics
import sys
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from bench_common import emit_table, timed, warm  # noqa: E402
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "bench", "out", "zonal")
STATS = "count,sum,mean,min,max,stddev,median"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sco", default=os.path.join(ROOT, "build", "apps", "sco", "sco"))
    ap.add_argument("--markdown", default=None)
    args = ap.parse_args()
    subprocess.run(["/usr/bin/python3", os.path.join(HERE, "make_inputs.py"), args.sco,
                    os.path.join(ROOT, "data", "sample"), OUT], check=True)
    lux = os.path.join(ROOT, "data", "sample", "lux.shp")
    tracts = os.path.join(OUT, "olinda_tracts_x25.gpkg")
    rio = os.path.join(HERE, "rasterio_zonal.py")
    bench_python = os.path.join(ROOT, "bench", ".venv", "bin", "python")
    if not os.path.exists(bench_python):
        sys.exit("bench/zonal: exactextract's environment is missing; run: bash scripts/install-deps.sh --bench")
    res_csv = os.path.join(OUT, "result.csv")
    cases = [
        ("12 cantons, 20000 x 18947 Int16", os.path.join(OUT, "lux_elev_20000.tif"), lux),
        ("11750 tracts, 20053 x 20226 Float32", os.path.join(OUT, "olinda_ndvi_20000.tif"), tracts),
    ]
    rows = []
    for label, raster, zones in cases:
        tools = [("sco", [args.sco, "-q", "zonal", "--raster", raster, "--zones", zones, "--stats", STATS, "-o", res_csv]),
                 ("exactextract", [bench_python, os.path.join(HERE, "exactextract_zonal.py"), raster, zones, res_csv]),
                 ("rasterio + numpy", ["/usr/bin/python3", rio, raster, zones, res_csv])]
        for name, cmd in tools:
            walls, mems = [], []
            for _ in range(args.runs):
                warm(raster)
                w, m = timed(cmd)
                walls.append(w)
                mems.append(m)
            rows.append((label, name, statistics.median(walls), max(mems)))
            print(f"{label:38s} {name:18s} median {statistics.median(walls):7.2f} s  peak {max(mems):7.0f} MiB  "
                  f"runs {' '.join(f'{x:.2f}' for x in walls)}", flush=True)
    # The reuse ratio is of two short runs on a host whose speed drifts by a fifth from minute to
    # minute: the four cases alternate within each round (so drift hits them alike) over at least 7
    # rounds, and the medians are compared.
    reuse_cases = [(label, raster, stats_label, stats)
                   for label, raster in (("1 date", "olinda_ndvi_1date.tif"), ("12 dates", "olinda_ndvi_12dates.tif"))
                   for stats_label, stats in (("with median", STATS), ("without median", "count,sum,mean,min,max,stddev"))]
    samples = {(c[0], c[2]): ([], []) for c in reuse_cases}
    for _ in range(max(args.runs, 7)):
        for label, raster, stats_label, stats in reuse_cases:
            path = os.path.join(OUT, raster)
            warm(path)
            w, m = timed([args.sco, "-q", "zonal", "--raster", path, "--zones", tracts, "--stats", stats, "-o", res_csv])
            samples[(label, stats_label)][0].append(w)
            samples[(label, stats_label)][1].append(m)
    reuse = []
    for label, _, stats_label, _ in reuse_cases:
        walls, mems = samples[(label, stats_label)]
        reuse.append((label, stats_label, statistics.median(walls), max(mems)))
        print(f"reuse {label:9s} {stats_label:15s} median {statistics.median(walls):6.2f} s  peak {max(mems):6.0f} MiB  "
              f"runs {' '.join(f'{x:.2f}' for x in walls)}", flush=True)
    modes = []
    path = os.path.join(OUT, "olinda_ndvi_12dates.tif")
    for label, env in (("sco's choice (probe)", {}), ("mapped (SCO_MMAP=1)", {"SCO_MMAP": "1"}),
                       ("copied (SCO_MMAP=0)", {"SCO_MMAP": "0"})):
        walls, mems = [], []
        for _ in range(args.runs):
            warm(path)
            w, m = timed([args.sco, "-q", "zonal", "--raster", path, "--zones", tracts, "--stats", STATS, "-o", res_csv],
                         env_extra=env)
            walls.append(w)
            mems.append(m)
        modes.append((label, statistics.median(walls), max(mems)))
        print(f"read 12 dates {label:22s} median {statistics.median(walls):6.2f} s  peak {max(mems):6.0f} MiB", flush=True)
    lines = [f"Zonal statistics ({STATS}), median of {args.runs} runs, peak RSS", "",
             "| case | tool | median wall | peak memory | time / sco's | peak / sco's |", "|---|---|---|---|---|---|"]
    for label, _, _ in cases:
        sco = next(r for r in rows if r[0] == label and r[1] == "sco")
        for r in rows:
            if r[0] == label:
                lines.append(f"| {label} | {r[1]} | {r[2]:.2f} s | {r[3]:.0f} MiB | {r[2] / sco[2]:.1f}x | {r[3] / sco[3]:.1f}x |")
    lines += ["", f"Coverage reuse: 11750 tracts over 10026 x 10113 Float32, 1 band vs 12 bands (band-interleaved), median of {max(args.runs, 7)} alternating rounds", "",
              "| raster | statistics | median wall | peak memory | vs 1 date |", "|---|---|---|---|---|"]
    for label, st, wall, mem in reuse:
        base = next(r for r in reuse if r[0] == "1 date" and r[1] == st)[2]
        lines.append(f"| {label} | {st} | {wall:.2f} s | {mem:.0f} MiB | {wall / base:.1f}x |")
    lines += ["", f"Reading the 12-date stack ({STATS})", "", "| blocks read | median wall | peak memory |", "|---|---|---|"]
    for label, wall, mem in modes:
        lines.append(f"| {label} | {wall:.2f} s | {mem:.0f} MiB |")
    emit_table(lines, args.markdown)


if __name__ == "__main__":
    main()
