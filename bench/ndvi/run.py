#!/usr/bin/python3
"""NDVI on a Sentinel-2-sized raster: sco against gdal_calc.py, otbcli_BandMath and the
gdal_translate copy floor, in one run, as medians over several runs, with peak memory and ratios.

Every tool writes Float32, tiled 512 x 512, uncompressed (the same creation options); sco is also
timed with its default output (a DEFLATE cloud-optimised GeoTIFF with overviews). Inputs are read
once before each timing so every tool starts from a warm page cache.

Usage: bench/ndvi/run.py [--runs N] [--sco PATH] [--out DIR] [--markdown FILE]
"""
import os
import shutil
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from ndvi_args import args_with_inputs  # noqa: E402
from bench_common import emit_table, timed, warm  # noqa: E402
ROOT = os.path.dirname(os.path.dirname(HERE))
CO = ["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512"]


def tools(sco, inp, out):
    otb_out = out + "?" + "&".join("gdal:co:" + c for c in CO)
    return [
        ("sco (GTiff output)", [sco, "-q", "calc", "-i", f"r={inp}:1", "-i", f"n={inp}:2", "-e", "(n - r) / (n + r)",
                                "-o", out, "--format", "GTiff"] + sum((["--co", c] for c in CO), []), {}),
        ("sco (default COG output)", [sco, "-q", "calc", "-i", f"r={inp}:1", "-i", f"n={inp}:2",
                                      "-e", "(n - r) / (n + r)", "-o", out], {}),
        ("gdal_calc.py", ["gdal_calc.py", "--quiet", "--overwrite", "-A", inp, "--A_band", "1", "-B", inp,
                          "--B_band", "2", "--calc", "(B.astype(float32) - A) / (B.astype(float32) + A)",
                          "--type", "Float32", "--outfile", out] + sum((["--co", c] for c in CO), []), {}),
        ("otbcli_BandMath, 2 threads", ["otbcli_BandMath", "-il", inp, "-out", otb_out, "float",
                                        "-exp", "(im1b2 - im1b1) / (im1b2 + im1b1)"],
         {"ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS": "2"}),
        ("copy floor: gdal_translate, GDAL_CACHEMAX=64", ["gdal_translate", "-q", inp, out] +
         sum((["-co", c] for c in CO), []), {"GDAL_CACHEMAX": "64"}),
    ]


def main():
    args = args_with_inputs(5)
    for tool in ("gdal_calc.py", "otbcli_BandMath", "gdal_translate"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found: run scripts/install-deps.sh --bench")
    inputs = [("uncompressed", os.path.join(args.out, "s2size_red_nir.tif")),
              ("DEFLATE", os.path.join(args.out, "s2size_red_nir_deflate.tif"))]
    out = os.path.join(args.out, "ndvi_out.tif")
    results = {}
    for label, inp in inputs:
        for name, cmd, env in tools(args.sco, inp, out):
            walls, mems = [], []
            for _ in range(args.runs):
                for p in (out, out + ".aux.xml"):
                    if os.path.exists(p):
                        os.remove(p)
                warm(inp)
                w, m = timed(cmd, env)
                walls.append(w)
                mems.append(m)
            results[(label, name)] = (statistics.median(walls), max(mems), walls)
            print(f"{label:13s} {name:46s} median {statistics.median(walls):6.2f} s  peak {max(mems):7.0f} MiB  "
                  f"runs {' '.join(f'{w:.2f}' for w in walls)}", flush=True)
    lines = [f"NDVI, 10980 x 10980 x 2 UInt16 -> Float32, median of {args.runs} runs, peak RSS (max over runs)", "",
             "| input | tool | median wall | peak memory | tool / sco |", "|---|---|---|---|---|"]
    for label, _ in inputs:
        base = results[(label, "sco (GTiff output)")][0]
        for name, _, _ in tools(args.sco, "x", "y"):
            wall, mem, _ = results[(label, name)]
            lines.append(f"| {label} | {name} | {wall:.2f} s | {mem:.0f} MiB | {wall / base:.1f}x |")
    emit_table(lines, args.markdown)


if __name__ == "__main__":
    main()
