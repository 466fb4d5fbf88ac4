#!/usr/bin/python3
"""Per-pixel time series on a 36-step 5000 x 5000 Float32 cube: sco (mean, p90, sen_slope, one run
each) against numpy (nanmean, nanpercentile, vectorised Sen's slope with nanmedian, one script
computing all three), in one run, with peak memory; then checks that both agree (mean, p90, and
sco's per-step slope x 12 = numpy's per-year slope).
Usage: bench/cube/run.py [--runs N] [--sco PATH] [--markdown FILE]"""
import argparse
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from bench_common import emit_table, timed, warm  # noqa: E402
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "bench", "out", "cube")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--sco", default=os.path.join(ROOT, "build", "apps", "sco", "sco"))
    ap.add_argument("--markdown", default=None)
    args = ap.parse_args()
    subprocess.run(["/usr/bin/python3", os.path.join(HERE, "make_inputs.py"), os.path.join(ROOT, "data", "sample"), OUT],
                   check=True)
    cube = os.path.join(OUT, "tas_36steps_5000.tif")
    os.makedirs(os.path.join(OUT, "np"), exist_ok=True)
    rows = []
    sco_total = 0.0
    sco_peak = 0.0
    for op in ("mean", "p90", "sen_slope"):
        walls, mems = [], []
        for _ in range(args.runs):
            warm(cube)
            w, m = timed([args.sco, "-q", "cube", "--input", cube, "--op", op, "--format", "GTiff",
                          "-o", os.path.join(OUT, f"sco_{op}.tif")])
            walls.append(w)
            mems.append(m)
        rows.append((f"sco {op}", statistics.median(walls), max(mems)))
        sco_total += statistics.median(walls)
        sco_peak = max(sco_peak, max(mems))
        print(rows[-1], flush=True)
    walls, mems = [], []
    for _ in range(args.runs):
        warm(cube)
        w, m = timed(["/usr/bin/python3", os.path.join(HERE, "numpy_cube.py"), cube, os.path.join(OUT, "np")])
        walls.append(w)
        mems.append(m)
    np_wall, np_peak = statistics.median(walls), max(mems)
    print(("numpy", np_wall, np_peak), flush=True)
    # Agreement, computed here with numpy on both outputs.
    import numpy as np
    from osgeo import gdal
    gdal.UseExceptions()
    def read(p):
        ds = gdal.Open(p)
        return ds.GetRasterBand(1).ReadAsArray().astype(np.float64)
    diffs = {}
    for op, scale in (("mean", 1.0), ("p90", 1.0), ("sen_slope", 12.0)):
        a = read(os.path.join(OUT, f"sco_{op}.tif")) * scale
        b = read(os.path.join(OUT, "np", f"numpy_{op}.tif"))
        diffs[op] = float(np.nanmax(np.abs(a - b)))
    lines = [f"36 x 5000 x 5000 Float32 cube, median of {args.runs} run(s), peak RSS", "",
             "| tool | operations | wall | peak memory |", "|---|---|---|---|"]
    for name, wall, mem in rows:
        lines.append(f"| {name.split()[0]} | {name.split()[1]} | {wall:.2f} s | {mem:.0f} MiB |")
    lines.append(f"| sco | all three (sum of runs) | {sco_total:.2f} s | {sco_peak:.0f} MiB |")
    lines.append(f"| numpy | mean + p90 + Sen's slope | {np_wall:.2f} s | {np_peak:.0f} MiB |")
    lines += ["", f"numpy / sco: {np_wall / sco_total:.1f}x. Largest differences sco vs numpy: " +
              ", ".join(f"{k} {v:.2g}" for k, v in diffs.items())]
    emit_table(lines, args.markdown)


if __name__ == "__main__":
    main()
