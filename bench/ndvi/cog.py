#!/usr/bin/python3
"""The cost of a cloud-optimised output (issue 21): NDVI of the 10980 x 10980 scene written by sco as a
plain tiled GeoTIFF, as its default COG (sco's own writer: DEFLATE with the floating-point predictor,
overviews), as a COG without overviews, and as the same default COG made by GDAL's COG driver (the
path sco took before: `--co COMPRESS=LZW` is not it, so GDAL is asked directly with `gdal_translate
-of COG` of the finished NDVI: DEFLATE at GDAL's default level 6 and at sco's former LEVEL=1,
PREDICTOR=YES, 2 threads, AVERAGE overviews). Median of N runs
each, warm inputs, peak RSS, ratios to sco's plain GeoTIFF; the COGs are checked by GDAL's validator
and the outputs' sizes reported.

Usage: bench/ndvi/cog.py [--runs N] [--sco PATH] [--out DIR] [--markdown FILE]
"""
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from ndvi_args import args_with_inputs  # noqa: E402
from bench_common import emit_table, timed, warm  # noqa: E402
ROOT = os.path.dirname(os.path.dirname(HERE))
VALIDATE = "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_cloud_optimized_geotiff.py"


def main():
    args = args_with_inputs(5)
    out = os.path.join(args.out, "cog_out.tif")
    plain = os.path.join(args.out, "ndvi_plain.tif")
    rows = []
    for label, name in (("uncompressed", "s2size_red_nir.tif"), ("DEFLATE", "s2size_red_nir_deflate.tif")):
        inp = os.path.join(args.out, name)
        calc = [args.sco, "-q", "calc", "-i", f"r={inp}:1", "-i", f"n={inp}:2", "-e", "(n - r) / (n + r)", "-o", out]
        subprocess.run(calc[:-1] + [plain, "--format", "GTiff"], check=True)
        gdal_cog = ["gdal_translate", "-q", "-of", "COG", "-co", "COMPRESS=DEFLATE", "-co", "PREDICTOR=YES", "-co", "NUM_THREADS=2",
                    "-co", "RESAMPLING=AVERAGE"]
        cases = [("sco, plain tiled GeoTIFF", calc + ["--format", "GTiff"], inp),
                 ("sco, default COG (own writer)", calc, inp),
                 ("sco, COG without overviews", calc + ["--co", "OVERVIEWS=NONE"], inp),
                 ("gdal_translate -of COG of the NDVI, LEVEL=1", gdal_cog + ["-co", "LEVEL=1", plain, out], plain),
                 ("gdal_translate -of COG of the NDVI", gdal_cog + [plain, out], plain)]
        for case, cmd, src in cases:
            walls, mems = [], []
            for _ in range(args.runs):
                if os.path.exists(out):
                    os.remove(out)
                warm(src)
                w, m = timed(cmd)
                walls.append(w)
                mems.append(m)
            size = os.path.getsize(out) / 2**20
            valid = "-" if "GTiff" in cmd else ("valid" if subprocess.run(["/usr/bin/python3", VALIDATE, "--full-check=yes", "-q", out]).returncode == 0 else "INVALID")
            rows.append((label, case, statistics.median(walls), max(mems), size, valid, walls))
            print(f"{label:13s} {case:40s} median {statistics.median(walls):6.2f} s  peak {max(mems):6.0f} MiB  {size:6.0f} MiB  {valid}  "
                  f"runs {' '.join(f'{w:.2f}' for w in walls)}", flush=True)
    lines = [f"NDVI 10980 x 10980 -> Float32, median of {args.runs} runs, peak RSS (max over runs)", "",
             "| input | output | median wall | / sco plain | gdal_translate COG (level 6, level 1) / this | peak memory | file | COG validator |",
             "|---|---|---|---|---|---|---|---|"]
    for label in ("uncompressed", "DEFLATE"):
        mine = [r for r in rows if r[0] == label]
        base = mine[0][2]
        level6, level1 = mine[-1][2], mine[-2][2]
        for _, case, wall, mem, size, valid, _ in mine:
            lines.append(f"| {label} | {case} | {wall:.2f} s | {wall / base:.1f}x | {level6 / wall:.1f}x, {level1 / wall:.1f}x | {mem:.0f} MiB | "
                         f"{size:.0f} MiB | {valid} |")
    emit_table(lines, args.markdown)


if __name__ == "__main__":
    main()
