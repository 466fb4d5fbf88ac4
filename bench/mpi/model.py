#!/usr/bin/python3
"""A scaling model of a national run on a cluster (issue 20, part 5), built from what bench/mpi/run.py
measured on this machine (bench/out/mpi/measured.json) and from stated bandwidths.

The national run: 100 Sentinel-2 tiles x 36 dates x 35,000 municipalities. One item is one (tile,
date): NDVI over 10980 x 10980 pixels from two UInt16 bands, then zonal statistics of that NDVI over
the ~350 municipalities of the tile; 3,600 items. A municipality that crosses tiles has its
accumulators merged, as ranks merge theirs (a few kilobytes each).

Measured here, per megapixel at 1 rank of 1 thread (sco alone, so without mpirun's launch): the NDVI
(GTiff output) and zonal (11,750 tracts on 20053 x 20226 Float32) core-seconds; the launch floor of
mpirun; the bytes an item reads and writes. Stated (typical of an HPC centre, not measured here):
the bandwidths below and the cores per node.

Two ways to spread the items over N nodes of C cores (one rank of one thread per core):
  A. every item split over all N x C ranks by `mpirun` (windows handed out by rank 0, written by it):
     rank 0's link and disk carry every item's NDVI, and each item pays mpirun's launch;
  B. the items spread over the nodes' cores (a Slurm job array, or `sco serve --executor slurm` with
     one job per item, each `sco run` on one core): nothing moves between ranks but the final rows;
     the nodes share the parallel file system. Per item: its compute plus a task start.
Efficiency(N) = T(1 node) / (N x T(N nodes)).

Usage: bench/mpi/model.py [--measured FILE] [--cores-per-node C] [--markdown FILE]"""
import argparse
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from bench_common import emit_table  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
TILES, DATES, MUNICIPALITIES = 100, 36, 35_000
TILE_PX = 10980 * 10980
NDVI_PX = 10980 * 10980                 # bench/ndvi's raster
ZONAL_PX = 20053 * 20226                # bench/zonal's tracts raster
# Stated assumptions:
NIC_BYTES_S = 25e9 / 8                  # 25 Gbit/s per node and direction (Ethernet or HDR InfiniBand): 3.1 GB/s
PFS_BYTES_S = 40e9                      # the parallel file system's aggregate bandwidth (Lustre / GPFS): 40 GB/s
NODE_IO_BYTES_S = 2e9                   # what one node reads from / writes to the parallel file system: 2 GB/s
TASK_START_S = 0.2                      # a Slurm array task or srun step starting sco on a node


def load(path):
    with open(path) as f:
        m = json.load(f)
    ndvi = m["NDVI 10980 x 10980, GTiff output"]
    zonal = m["zonal, 11750 tracts on 20053 x 20226 Float32"]
    one, two = "1 process, 1 thread", "mpirun -np 2, 1 thread each"
    launch = ndvi[two]["launch_floor"]

    def split_efficiency(case):  # 2 ranks without mpirun's launch, against one process
        return case[one]["wall"] / (case[two]["wall"] - launch + case[one]["launch_floor"]) / 2

    return {
        "ndvi_cpu_per_mpx": ndvi[one]["cpu"] / (NDVI_PX / 1e6),
        "zonal_cpu_per_mpx": zonal[one]["cpu"] / (ZONAL_PX / 1e6),
        "split_efficiency": min(split_efficiency(ndvi), split_efficiency(zonal)),
        "launch": launch,
    }


def item_costs(m):
    """One (tile, date): core-seconds, bytes through the parallel file system (red and NIR in; the
    NDVI written to and read back from node-local scratch, not the file system), bytes of NDVI pixels."""
    mpx = TILE_PX / 1e6
    cpu = (m["ndvi_cpu_per_mpx"] + m["zonal_cpu_per_mpx"]) * mpx
    return cpu, TILE_PX * 2 * 2, TILE_PX * 4


def strategy_a(m, nodes, cores):
    cpu, fs_bytes, window_bytes = item_costs(m)
    compute = cpu / (nodes * cores * m["split_efficiency"])
    rank0 = window_bytes * (nodes - 1) / nodes / NIC_BYTES_S + window_bytes / NODE_IO_BYTES_S + fs_bytes / (nodes * NODE_IO_BYTES_S)
    return TILES * DATES * (max(compute, rank0) + m["launch"])


def strategy_b(m, nodes, cores):
    cpu, fs_bytes, _ = item_costs(m)
    items = TILES * DATES
    compute = math.ceil(items / (nodes * cores)) * (cpu + TASK_START_S)   # whole items per core
    io = items * fs_bytes / min(PFS_BYTES_S, nodes * NODE_IO_BYTES_S)
    merge = MUNICIPALITIES * DATES * 7 * 8 / NIC_BYTES_S                   # the rows gathered once
    return max(compute, io) + merge, "compute" if compute >= io else "file system"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--measured", default=os.path.join(ROOT, "bench", "out", "mpi", "measured.json"))
    ap.add_argument("--cores-per-node", type=int, default=32)
    ap.add_argument("--markdown", default=None)
    args = ap.parse_args()
    m = load(args.measured)
    cpu, fs_bytes, window_bytes = item_costs(m)
    print(f"measured here: NDVI {m['ndvi_cpu_per_mpx'] * 1e3:.2f} ms/Mpx, zonal {m['zonal_cpu_per_mpx'] * 1e3:.2f} ms/Mpx (core time, 1 rank of 1 thread); "
          f"2 ranks without the launch: {m['split_efficiency']:.0%} efficient; mpirun's launch {m['launch']:.2f} s")
    print(f"one item (tile x date): {cpu:.2f} core-s, {fs_bytes / 1e9:.2f} GB read from the file system, {window_bytes / 1e9:.2f} GB of NDVI pixels")
    c = args.cores_per_node
    base_a, (base_b, _) = strategy_a(m, 1, c), strategy_b(m, 1, c)
    lines = [f"| nodes ({c} cores each) | A: every item over all ranks, hours | A: efficiency | B: items over the cores, minutes | B: efficiency | B: bound by |",
             "|---|---|---|---|---|---|"]
    for n in (1, 2, 4, 8, 16, 32, 64):
        a, (b, bound) = strategy_a(m, n, c), strategy_b(m, n, c)
        lines.append(f"| {n} | {a / 3600:.2f} | {base_a / (n * a):.0%} | {b / 60:.1f} | {base_b / (n * b):.0%} | {bound} |")
    emit_table(lines, args.markdown)


if __name__ == "__main__":
    main()
