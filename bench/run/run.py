#!/usr/bin/env python3
"""Every built-in indicator run on the real sample data (and on the zonal benchmark's large grid when
bench/out holds it), for two things:

1. the digests of what each run writes (rasters, CSV, GeoJSON, series), to show that moving code did
   not change a number: `--record FILE` writes them, `--compare FILE` fails on any difference;
2. the plan's peak-memory estimate (`sco run --dry-run --json`) against the peak RSS measured by
   /usr/bin/time for the same run: the table of the note (`--markdown FILE`).

Usage: bench/run/run.py [--sco build/apps/sco/sco] [--record F | --compare F] [--markdown F]
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys

import numpy as np
from osgeo import gdal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bench_common import emit_table, timed  # noqa: E402

gdal.UseExceptions()
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SAMPLE = os.path.join(ROOT, "data", "sample")
NC = os.path.join(SAMPLE, "bcsd_obs_1999.nc")
COUNTIES = os.path.join(SAMPLE, "nc.gpkg")
SCENE = os.path.join(SAMPLE, "L7_ETMs.tif")
TRACTS = os.path.join(SAMPLE, "olinda1.shp")
DIGESTED = (".tif", ".csv", ".geojson", "_series.json")


def fixtures(tmp):
    """Scenes derived from the real Landsat-7 scene (the same transformations as the reference test)."""
    ds = gdal.Open(SCENE)
    bands = ds.ReadAsArray().astype(np.float64)

    def write(path, arr, dtype=gdal.GDT_Byte):
        out = gdal.GetDriverByName("GTiff").Create(path, arr.shape[-1], arr.shape[-2], arr.shape[0] if arr.ndim == 3 else 1, dtype)
        out.SetGeoTransform(ds.GetGeoTransform())
        out.SetProjection(ds.GetProjection())
        for i, a in enumerate(arr if arr.ndim == 3 else [arr]):
            out.GetRasterBand(i + 1).WriteArray(a)
        out = None
        return path

    flood = bands.copy()
    flood[4, 150:200, 100:200] = 0
    burn = bands.copy()
    burn[3, 50:120, 60:160] *= 0.5
    with np.errstate(invalid="ignore", divide="ignore"):
        ndvi = (bands[3] - bands[2]) / (bands[3] + bands[2])
    hist = [write(os.path.join(tmp, f"ndvi_{2016 + k}-07-01.tif"), (a * ndvi + b).astype(np.float32), gdal.GDT_Float32)
            for k, (a, b) in enumerate([(1, -0.1), (0.5, 0.2), (1, 0.3)])]
    return {"flood": write(os.path.join(tmp, "flood.tif"), flood.astype(np.uint8)),
            "burn": write(os.path.join(tmp, "burn.tif"), burn.astype(np.uint8)), "history": hist}


def cases(tmp):
    f = fixtures(tmp)
    climate = lambda rid, var: (rid, [f"{var}={NC}:{var}"], COUNTIES, "NAME", [])  # noqa: E731
    out = [climate("heat.hot_months", "tas"), climate("heat.anomaly", "tas"), climate("heat.trend", "tas"),
           climate("precipitation.total", "pr"), climate("precipitation.wet_extremes", "pr"),
           climate("precipitation.dry_spells", "pr"),
           ("urban.ndbi", [f"scene={SCENE}"], TRACTS, "ID", ["sensor=landsat7", "population_field=V014"]),
           ("water.flood", [f"scene={f['flood']}", f"baseline_scene={SCENE}"], TRACTS, "ID", ["sensor=landsat7", "population_field=V014"]),
           ("fire.dnbr", [f"pre={SCENE}", f"post={f['burn']}"], TRACTS, "ID", ["sensor=landsat7"]),
           ("vegetation.vci", [f"scene={SCENE}"] + [f"ndvi_history={p}" for p in f["history"]], TRACTS, "ID", ["sensor=landsat7"])]
    if LARGE:
        out += large_cases(tmp)
    big = os.path.join(ROOT, "bench", "out", "zonal")
    tracts_big = os.path.join(big, "tracts.gpkg")
    ndvi_big = os.path.join(big, "ndvi_big.tif")
    if os.path.exists(tracts_big) and os.path.exists(ndvi_big):
        recipe = os.path.join(tmp, "big.json")
        with open(recipe, "w") as fh:
            json.dump({"sco_recipe": 1, "id": "bench.ndvi_districts", "version": "1", "title": "NDVI per tract",
                       "inputs": {"ndvi": {"kind": "raster"}},
                       "steps": [{"id": "scaled", "op": "raster.calc", "expression": "ndvi * 100"},
                                 {"id": "by_tract", "op": "zonal.stats", "raster": "scaled", "stats": ["mean", "max", "count"], "output": True}]}, fh)
        out.append((recipe, [f"ndvi={ndvi_big}"], tracts_big, "", []))
    return out


LARGE = False


def large_cases(tmp):
    """The scene upsampled 20 times (6980 x 7040, 6 bands, tiled) for urban.ndbi over the Olinda tracts,
    and the 1999 temperatures upsampled 40 times (3240 x 1320, 12 dated files) for heat.hot_months and
    heat.trend over the counties: sizes where the pipelines' buffers, not the process, set the peak."""
    scene = os.path.join(tmp, "scene_x20.tif")
    gdal.Translate(scene, SCENE, width=349 * 20, height=352 * 20, resampleAlg="bilinear",
                   creationOptions=["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512"])
    months = []
    for b in range(1, 13):
        p = os.path.join(tmp, f"tas_1999-{b:02d}-16.tif")
        gdal.Translate(p, f"NETCDF:{NC}:tas", bandList=[b], width=81 * 40, height=33 * 40, resampleAlg="bilinear",
                       creationOptions=["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512"])
        months.append(f"tas={p}")
    return [("urban.ndbi", [f"scene={scene}"], TRACTS, "ID", ["sensor=landsat7", "population_field=V014"], "urban.ndbi x20"),
            ("heat.hot_months", months, COUNTIES, "NAME", [], "heat.hot_months x40"),
            ("heat.trend", months, COUNTIES, "NAME", [], "heat.trend x40")]


def args_of(sco, catalog, case, outdir):
    rid, inputs, aoi, idf, params = case[:5]
    a = [sco, "--quiet", "--catalog", catalog, "run", rid, "--aoi", aoi, "--out", outdir, "--no-register"]
    if idf:
        a += ["--id", idf]
    for i in inputs:
        a += ["--input", i]
    for p in params:
        a += ["--param", p]
    return a


def digests(outdir):
    d = {}
    for name in sorted(os.listdir(outdir)):
        if name.endswith(DIGESTED):
            with open(os.path.join(outdir, name), "rb") as fh:
                d[name] = hashlib.sha256(fh.read()).hexdigest()
    return d


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sco", default=os.path.join(ROOT, "build", "apps", "sco", "sco"))
    ap.add_argument("--record")
    ap.add_argument("--compare")
    ap.add_argument("--markdown")
    ap.add_argument("--no-estimate", action="store_true", help="skip --dry-run (a binary without it)")
    ap.add_argument("--large", action="store_true", help="also the large inputs made from the samples (1.5 GB in bench/out/run)")
    a = ap.parse_args()
    global LARGE
    LARGE = a.large
    # A fixed folder: the inputs' paths are recorded in the rasters' metadata.
    tmp = os.path.join(ROOT, "bench", "out", "run")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    catalog = os.path.join(tmp, "catalog")
    recorded, lines, failures = {}, ["| run | estimated peak | measured peak RSS | measured / estimated | seconds |", "|---|---|---|---|---|"], []
    try:
        for case in cases(tmp):
            name = case[5] if len(case) > 5 else os.path.basename(case[0]).removesuffix(".json")
            outdir = os.path.join(tmp, "out-" + name.replace(" ", "_"))
            cmd = args_of(a.sco, catalog, case, outdir)
            estimate = None
            if not a.no_estimate:
                plan = subprocess.run([cmd[0], "--json"] + cmd[2:] + ["--dry-run"], capture_output=True, text=True)
                if plan.returncode != 0:
                    raise SystemExit(f"{name}: --dry-run failed: {plan.stderr}")
                estimate = json.loads(plan.stdout)["estimate"]["peak_memory_bytes"] / 2**20
            seconds, peak = timed(cmd)
            if len(case) <= 5:  # the large cases are for the memory table only
                recorded[name] = digests(outdir)
            shutil.rmtree(outdir)
            ratio = f"{peak / estimate:.2f}" if estimate else "-"
            lines.append(f"| {name} | {estimate:.0f} MiB | {peak:.0f} MiB | {ratio} | {seconds:.2f} |" if estimate else
                         f"| {name} | - | {peak:.0f} MiB | - | {seconds:.2f} |")
            if estimate and not (0.5 <= peak / estimate <= 2.0):
                failures.append(f"{name}: measured {peak:.0f} MiB vs estimated {estimate:.0f} MiB")
            print(lines[-1], flush=True)
        emit_table(lines, a.markdown)
        if a.record:
            with open(a.record, "w") as fh:
                json.dump(recorded, fh, indent=1, sort_keys=True)
        if a.compare:
            with open(a.compare) as fh:
                before = json.load(fh)
            for run, files in before.items():
                for f, h in files.items():
                    got = recorded.get(run, {}).get(f)
                    if got != h:
                        failures.append(f"{run}/{f}: {'missing' if got is None else 'differs'}")
            print(f"outputs compared with {a.compare}: {'identical' if not failures else 'DIFFERENT'}")
        for f in failures:
            print("FAIL", f)
        return 1 if failures else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
