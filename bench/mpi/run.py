#!/usr/bin/python3
"""sco split across MPI ranks (issue 20, part 5): the NDVI and zonal benchmarks at 1 rank of 1 thread
(sco alone, and under `mpirun -np 1`) and at 2 ranks of 1 thread each (`mpirun -np 2 sco --threads 1`),
in one run, alternating within each round so that the host's drift hits every case alike; medians of
wall time, total CPU (user + system of every process, mpirun's included), the peak memory of the
largest process, the speed-up and the CPU ratio against sco alone. Outputs are checked identical to
sco alone's (SHA-256) once per case; every run starts after `sync`, with no dirty page in the cache.
The per-window costs measured here feed bench/mpi/model.py, which writes them to
bench/out/mpi/measured.json.

Inputs: bench/ndvi/make_inputs.py (10980 x 10980 UInt16 red and NIR, tiled 512) and
bench/zonal/make_inputs.py (the 12 cantons on 20000 x 18947 Int16; the 11750 tracts on 20053 x 20226
Float32), made when missing.

Usage: bench/mpi/run.py [--runs N] [--sco PATH] [--markdown FILE]"""
import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from bench_common import emit_table, warm  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "bench", "out", "mpi")
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
STATS = "count,sum,mean,min,max,stddev,median"


def timed_cpu(cmd):
    """(wall s, user + sys CPU s of the command and its children, peak RSS MiB of the largest process)."""
    with tempfile.NamedTemporaryFile("r") as t:
        r = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o", t.name] + cmd, env=ENV,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr[-2000:]}")
        wall, user, system, kb = t.read().split()[-4:]
        return float(wall), float(user) + float(system), int(kb) / 1024.0


def file_digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(8 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _floor_worker(kind, start, out):
    """One process's share of the machine floor: copies between two 64 MiB arrays (memory bandwidth),
    or arithmetic on an array that stays in the core's cache (compute); the seconds it took."""
    import time
    import numpy as np
    if kind == "memory":
        a, b = np.ones(8 << 20), np.zeros(8 << 20)
        start.wait()
        t = time.perf_counter()
        for i in range(120):
            np.copyto(b, a) if i % 2 == 0 else np.copyto(a, b)
    else:
        a, b = np.linspace(1.0, 2.0, 2048), np.empty(2048)
        start.wait()
        t = time.perf_counter()
        for _ in range(150000):
            np.multiply(a, 1.0000001, out=b)
            np.add(b, 1e-9, out=a)
    out.put(time.perf_counter() - t)


def machine_floor():
    """How two busy processes share this machine: {kind: the work two processes get done at once,
    against one alone} for memory-bound copies and cache-resident arithmetic (2.0 = two cores, no
    sharing). Memory-bound steps of sco (reading the page cache, writing it, moving windows between
    ranks) cannot split better than the memory ratio."""
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    ratios = {}
    for kind in ("compute", "memory"):
        times = {}
        for n in (1, 2):
            runs = []
            for _ in range(5):
                start, out = ctx.Barrier(n), ctx.Queue()
                procs = [ctx.Process(target=_floor_worker, args=(kind, start, out)) for _ in range(n)]
                for p in procs:
                    p.start()
                runs.append(max(out.get() for _ in procs))
                for p in procs:
                    p.join()
            times[n] = statistics.median(runs)
        ratios[kind] = 2 * times[1] / times[2]
    return ratios


def make_inputs(sco):
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "ndvi", "make_inputs.py"), os.path.join(ROOT, "data", "sample"),
                    os.path.join(ROOT, "bench", "out", "ndvi")], check=True)
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "zonal", "make_inputs.py"), sco, os.path.join(ROOT, "data", "sample"),
                    os.path.join(ROOT, "bench", "out", "zonal")], check=True)


def cases(sco):
    ndvi_in = os.path.join(ROOT, "bench", "out", "ndvi", "s2size_red_nir.tif")
    zonal = os.path.join(ROOT, "bench", "out", "zonal")
    calc = ["calc", "-i", f"r={ndvi_in}:1", "-i", f"n={ndvi_in}:2", "-e", "(n - r) / (n + r)"]
    return [
        ("NDVI 10980 x 10980, GTiff output", ndvi_in, calc + ["--format", "GTiff"], "tif"),
        ("NDVI 10980 x 10980, default COG output", ndvi_in, calc, "tif"),
        ("zonal, 12 cantons on 20000 x 18947 Int16", os.path.join(zonal, "lux_elev_20000.tif"),
         ["zonal", "--raster", os.path.join(zonal, "lux_elev_20000.tif"), "--zones", os.path.join(ROOT, "data", "sample", "lux.shp"),
          "--stats", STATS], "csv"),
        ("zonal, 11750 tracts on 20053 x 20226 Float32", os.path.join(zonal, "olinda_ndvi_20000.tif"),
         ["zonal", "--raster", os.path.join(zonal, "olinda_ndvi_20000.tif"), "--zones", os.path.join(zonal, "olinda_tracts_x25.gpkg"),
          "--stats", STATS], "csv"),
    ]


def layouts(sco):
    mpirun = shutil.which("mpirun")
    return [("1 process, 1 thread", lambda a, o: [sco, "-q", "--threads", "1"] + a + ["-o", o]),
            ("mpirun -np 1, 1 thread", lambda a, o: [mpirun, "-np", "1", sco, "-q", "--threads", "1"] + a + ["-o", o]),
            ("mpirun -np 2, 1 thread each", lambda a, o: [mpirun, "-np", "2", sco, "-q", "--threads", "1"] + a + ["-o", o])]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sco", default=os.path.join(ROOT, "build", "apps", "sco", "sco"))
    ap.add_argument("--markdown", default=None)
    args = ap.parse_args()
    if not shutil.which("mpirun"):
        sys.exit("bench/mpi: mpirun not found: run scripts/install-deps.sh (openmpi-bin)")
    os.makedirs(OUT, exist_ok=True)
    make_inputs(args.sco)
    # The launch floor: mpirun starting N ranks that initialise and finalise MPI and do nothing else.
    floors = {}
    mpirun = shutil.which("mpirun")
    floor_cmds = {"1 process, 1 thread": [args.sco, "--version"], "mpirun -np 1, 1 thread": [mpirun, "-np", "1", args.sco, "--version"],
                  "mpirun -np 2, 1 thread each": [mpirun, "-np", "2", args.sco, "--version"]}
    for name, cmd in floor_cmds.items():
        floors[name] = statistics.median(timed_cpu(cmd)[0] for _ in range(7))
        print(f"launch floor {name:28s} {floors[name]:.2f} s", flush=True)
    floor = machine_floor()
    print("machine floor: two processes at once do " + ", ".join(f"{v:.2f}x the {k} work of one" for k, v in floor.items()), flush=True)
    rows, measured = [], {}
    for label, inp, cmd, ext in cases(args.sco):
        samples = {name: [] for name, _ in layouts(args.sco)}
        digests = {}
        for _ in range(args.runs):
            for name, make in layouts(args.sco):
                out = os.path.join(OUT, f"out.{ext}")
                # Each run starts with no dirty page in the cache: half-gigabyte outputs left to the
                # kernel's background writeback slowed whichever run it overlapped 2-3x here.
                os.sync()
                warm(inp)
                samples[name].append(timed_cpu(make(cmd, out)))
                if name not in digests:
                    digests[name] = file_digest(out)
                os.remove(out)
        same = len(set(digests.values())) == 1
        base = statistics.median(s[0] for s in samples["1 process, 1 thread"])
        base_cpu = statistics.median(s[1] for s in samples["1 process, 1 thread"])
        for name, s in samples.items():
            wall, cpu, mem = statistics.median(x[0] for x in s), statistics.median(x[1] for x in s), max(x[2] for x in s)
            net = wall - floors[name] + floors["1 process, 1 thread"]
            rows.append((label, name, wall, cpu, mem, base / wall, cpu / base_cpu, same, net, base / net))
            print(f"{label:46s} {name:28s} wall {wall:6.2f} s  cpu {cpu:6.2f} s  peak {mem:6.0f} MiB  x{base / wall:4.2f}  "
                  f"runs {' '.join(f'{x[0]:.2f}' for x in s)}", flush=True)
        measured[label] = {name: {"wall": statistics.median(x[0] for x in s), "cpu": statistics.median(x[1] for x in s),
                                  "launch_floor": floors[name]} for name, s in samples.items()}
    with open(os.path.join(OUT, "measured.json"), "w") as f:
        json.dump(measured, f, indent=1)
    lines = ["| case | layout | median wall | wall without the launch floor | total CPU | peak memory (largest process) | speed-up vs 1 process "
             "(wall; without launch) | CPU / 1 process | output identical |",
             "|---|---|---|---|---|---|---|---|---|"]
    for label, name, wall, cpu, mem, speed, cpu_ratio, same, net, net_speed in rows:
        lines.append(f"| {label} | {name} | {wall:.2f} s | {net:.2f} s | {cpu:.2f} s | {mem:.0f} MiB | {speed:.2f}x; {net_speed:.2f}x | {cpu_ratio:.2f} | "
                     f"{'yes' if same else 'NO'} |")
    lines.append("")
    lines.append("Launch floor (`sco --version` under the same launcher, median of 7): " +
                 ", ".join(f"{k} {v:.2f} s" for k, v in floors.items()) + ".")
    lines.append("")
    lines.append("Machine floor (two processes busy at once against one, median of 5): " +
                 ", ".join(f"{k} {v:.2f}x" for k, v in floor.items()) +
                 " (cache-resident arithmetic; copies between 64 MiB arrays, i.e. memory bandwidth).")
    emit_table(lines, args.markdown)


if __name__ == "__main__":
    main()
