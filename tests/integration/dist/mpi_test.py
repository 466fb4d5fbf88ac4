#!/usr/bin/env python3
"""sco split across MPI ranks (issue 20, part 3) with OpenMPI's own mpirun: `mpirun -np N sco calc |
index | cube | zonal | run` gives outputs identical to one process's (rasters byte for byte, tables
byte for byte) at 2 and 3 ranks, with threads or without; a rank that fails or dies makes the whole
run fail with a message and leaves no output; commands that do not split refuse to run under mpirun.

Usage: mpi_test.py SCO SAMPLE_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from checks import Checks  # noqa: E402
from zone_stars import write_star_zones  # noqa: E402

try:
    from osgeo import gdal, ogr
except ImportError as e:
    print(f"SKIP: {e}")
    sys.exit(77)
MPIRUN = shutil.which("mpirun")
if not MPIRUN:
    print("SKIP: no mpirun (OpenMPI: apt-get install openmpi-bin libopenmpi-dev)")
    sys.exit(77)

gdal.UseExceptions()
SCO, SAMPLE = sys.argv[1], sys.argv[2]
check = Checks()
TMP = tempfile.mkdtemp(prefix="sco-mpi-")
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")


def sco(*args, ranks=0, env=None):
    """sco alone (ranks 0) or under mpirun -np RANKS. Under mpirun in the sanitizer build, leaks are not
    checked: OpenMPI keeps allocations of plugins it unloads at MPI_Finalize, which LeakSanitizer can
    then neither name nor suppress (sco's own code is leak-checked by every other test)."""
    cmd = ([MPIRUN, "-np", str(ranks)] if ranks else []) + [SCO, "-q"] + list(args)
    run_env = dict(ENV, **(env or {}))
    if ranks and "ASAN_OPTIONS" in run_env:
        run_env["ASAN_OPTIONS"] += ":detect_leaks=0"
    return subprocess.run(cmd, capture_output=True, text=True, env=run_env, timeout=240)


def same_file(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def path(name):
    return os.path.join(TMP, name)


# Inputs large enough for many windows and row bands: the Landsat sample resampled to 2100 x 2100,
# tiled 256 (73 windows of 256; 9 row bands), and star-shaped zones that cross the bands.
BIG = path("big.tif")
gdal.Translate(BIG, os.path.join(SAMPLE, "L7_ETMs.tif"), width=2100, height=2100, resampleAlg="bilinear",
               creationOptions=["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256"])
ZONES = path("zones.geojson")
write_star_zones(BIG, ZONES, 12)

# 1. Rasters: calc (sco's COG writer with overviews, the plain GTiff whose tiles every rank writes in
# place, a GTiff GDAL compresses), index, cube.
CALC = ["calc", "-i", f"r={BIG}:3", "-i", f"n={BIG}:4", "-e", "(n - r) / (n + r)"]
jobs = {
    "calc_cog": CALC,
    "calc_gtiff": CALC + ["--format", "GTiff"],
    "calc_gtiff_deflate": CALC + ["--format", "GTiff", "--co", "COMPRESS=DEFLATE"],
    "index": ["index", "ndvi", "--sensor", "landsat7", "--input", BIG],
    "cube": ["cube", "--input", BIG, "--op", "p90"],
    "cube_mean": ["cube", "--input", BIG, "--op", "mean"],  # a reducer that folds the steps in as they are read
}
for name, args in jobs.items():
    one = path(f"{name}_1.tif")
    r = sco(*args, "-o", one)
    check(r.returncode == 0, f"{name} alone: {r.stderr.strip()}")
    for ranks, threads in ((2, "1"), (3, "2")):
        out = path(f"{name}_{ranks}.tif")
        r = sco("--threads", threads, *args, "-o", out, ranks=ranks)
        check(r.returncode == 0, f"{name} at {ranks} ranks: {r.stderr.strip()}")
        check(r.returncode == 0 and same_file(one, out), f"{name}: {ranks} ranks of {threads} thread(s) write the same bytes as one process")

# --json comes from rank 0 alone, with the statistics of every rank's windows.
alone = json.loads(sco("--json", *CALC, "-o", path("j1.tif")).stdout)
split = sco("--json", *CALC, "-o", path("j2.tif"), ranks=2)
check(split.stdout.count('"statistics"') == 1, "one JSON document from two ranks")
stats = json.loads(split.stdout)["statistics"] if split.returncode == 0 else {}
check(stats.get("valid_pixels") == alone["statistics"]["valid_pixels"] and stats.get("min") == alone["statistics"]["min"]
      and stats.get("max") == alone["statistics"]["max"] and abs(stats.get("mean", 0) - alone["statistics"]["mean"]) < 1e-12,
      f"statistics merged across ranks: {stats} vs {alone['statistics']}")

# 2. Zonal statistics, every kind of accumulator (moments, extremes, histograms for quantiles and frac).
STATS = "count,sum,mean,min,max,stddev,median,quantile_90,median_icdf,majority,minority,variety,frac,area"
ZONAL = ["zonal", "--raster", f"{BIG}:1", "--raster", f"{BIG}:4", "--zones", ZONES, "--id", "id", "--stats", STATS]


def table_alone_and_split(name, args):
    """The table of `args` alone, then at 2 ranks of 1 thread and 3 of 2, checked byte for byte the
    same; its lines."""
    r = sco(*args, "-o", path(f"{name}_1.csv"))
    check(r.returncode == 0, f"{name} alone: {r.stderr.strip()}")
    for ranks, threads in ((2, "1"), (3, "2")):
        r = sco("--threads", threads, *args, "-o", path(f"{name}_{ranks}.csv"), ranks=ranks)
        check(r.returncode == 0 and same_file(path(f"{name}_1.csv"), path(f"{name}_{ranks}.csv")),
              f"{name}: {ranks} ranks write the same table as one process {r.stderr.strip()}")
    with open(path(f"{name}_1.csv")) as f:
        return f.read().splitlines()


rows = table_alone_and_split("zonal", ZONAL)
check(len(rows) == 146 and rows[-1].startswith("all,"), f"145 zones and the header ({len(rows)} lines)")

# Small zones (swept whole by the range they start in, past its end when they cross into the next)
# beside one large zone (cut between ranges, merged on rank 0), on a Float32 raster: every value
# distinct, so the medians and quantiles depend on every cell of each zone.
ds = gdal.Open(path("calc_gtiff_1.tif"))
x0, dx, _, y0, _, dy = ds.GetGeoTransform()
srs = ds.GetSpatialRef()
ds = None
features = [{"type": "Feature", "properties": {"id": "large"}, "geometry": {"type": "Polygon", "coordinates": [[
    [x0 + 50.3 * dx, y0 + 40.7 * dy], [x0 + 2050.5 * dx, y0 + 60.2 * dy], [x0 + 1900.1 * dx, y0 + 2080.9 * dy], [x0 + 50.3 * dx, y0 + 40.7 * dy]]]}}]
for i in range(18):
    for j in range(18):
        cx, cy = 60 + i * 113.3, 45 + j * 115.7  # some squares straddle the 256-row bands
        features.append({"type": "Feature", "properties": {"id": f"s{i}_{j}"}, "geometry": {"type": "Polygon", "coordinates": [[
            [x0 + cx * dx, y0 + cy * dy], [x0 + (cx + 70.5) * dx, y0 + cy * dy], [x0 + (cx + 70.5) * dx, y0 + (cy + 90.25) * dy],
            [x0 + cx * dx, y0 + (cy + 90.25) * dy], [x0 + cx * dx, y0 + cy * dy]]]}})
out = ogr.GetDriverByName("GPKG").CreateDataSource(path("small.gpkg"))
layer = out.CreateLayer("zones", srs, ogr.wkbPolygon)
layer.CreateField(ogr.FieldDefn("id", ogr.OFTString))
for feat in features:
    f = ogr.Feature(layer.GetLayerDefn())
    f.SetField("id", feat["properties"]["id"])
    f.SetGeometry(ogr.CreateGeometryFromJson(json.dumps(feat["geometry"])))
    layer.CreateFeature(f)
out = layer = None
SMALL = ["zonal", "--raster", path("calc_gtiff_1.tif"), "--zones", path("small.gpkg"), "--id", "id",
         "--stats", "count,sum,mean,stddev,median,quantile_90,median_icdf,variety"]
rows = table_alone_and_split("small", SMALL)
check(len(rows) == 326 and float(rows[1].split(",")[1]) > 1e6, f"325 zones, the large one with its cells ({len(rows)} lines, {rows[1][:60]})")

# 3. A recipe run: its raster, tables, and provenance (the GeoPackage carries GDAL's clock time).
NC = os.path.join(SAMPLE, "bcsd_obs_1999.nc")
RUN = ["run", "heat.hot_months", "--input", f"tas={NC}:tas", "--aoi", os.path.join(SAMPLE, "nc.gpkg"), "--id", "NAME", "--no-register"]
r1 = sco(*RUN, "--out", path("run_1"))
r2 = sco(*RUN, "--out", path("run_2"), ranks=2)
check(r1.returncode == 0 and r2.returncode == 0, f"sco run alone and at 2 ranks: {r1.stderr.strip()} {r2.stderr.strip()}")
for f in ("hot_steps.tif", "hot_steps_by_district.csv", "hot_steps_by_district.geojson"):
    check(os.path.exists(path(f"run_2/{f}")) and same_file(path(f"run_1/{f}"), path(f"run_2/{f}")), f"run: {f} identical at 2 ranks")
check(sorted(os.listdir(path("run_2"))) == sorted(os.listdir(path("run_1"))), "run: the same files")
check(not [n for n in os.listdir(TMP) if ".sco-partial-" in n], "run: no staging folder left")

# 4. Failures: a rank that fails, a rank that dies; no output, no temporary file.
def clean(name):
    return not [n for n in os.listdir(TMP) if n.startswith(name) or n.startswith("." + name)]


for point, args, out in (("pipeline.window", CALC, "fail.tif"), ("pipeline.window", CALC + ["--format", "GTiff"], "failg.tif"),
                         ("zonal.band", ZONAL, "fail.csv")):
    r = sco(*args, "-o", path(out), ranks=2, env={"SCO_FAIL_AT": f"{point}@1"})
    check(r.returncode != 0 and "rank 1 of 2 failed: failure injected" in r.stderr, f"{point}: rank 1 failing fails the run: {r.stderr[-300:]}")
    check(clean(out), f"{point}: no output and no temporary file after rank 1 failed ({os.listdir(TMP)})")
    r = sco(*args, "-o", path(out), ranks=2, env={"SCO_FAIL_AT": f"{point}@0"})
    check(r.returncode != 0 and "failure injected" in r.stderr and clean(out), f"{point}: rank 0 failing fails the run, nothing left")
    r = sco(*args, "-o", path(out), ranks=2, env={"SCO_CRASH_AT": f"{point}@1"})
    check(r.returncode != 0 and clean(out), f"{point}: rank 1 killed mid-run: the run fails (exit {r.returncode}), nothing left")
r = sco(*RUN, "--out", path("run_fail"), ranks=2, env={"SCO_FAIL_AT": "run.step@1"})
check(r.returncode != 0 and "rank 1 of 2 failed" in r.stderr and not os.path.exists(path("run_fail")) and not [n for n in os.listdir(TMP) if ".sco-partial-" in n],
      f"run: rank 1 failing leaves no output folder (exit {r.returncode})")

# 5. Commands that do not split refuse to run under mpirun, once.
r = sco("catalog", "copy", path("a"), path("b"), ranks=2)
check(r.returncode == 2 and r.stderr.count("does not split across MPI ranks") == 1, f"refusal: {r.returncode} {r.stderr.strip()}")

shutil.rmtree(TMP, ignore_errors=True)
check.finish()
