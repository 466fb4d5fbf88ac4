#!/usr/bin/python3
"""A scaling model of a national run on a cluster (issue 20, part 5), built from what bench/mpi/run.py
measured on this machine (bench/out/mpi/measured.json) and from stated bandwidths.

The national run: 100 Sentinel-2 tiles x 36 dates x 35,000 municipalities. Each (tile, date) is one
item: NDVI over 10980 x 10980 pixels from two UInt16 bands, then zonal statistics of the NDVI over
the ~350 municipalities of the tile (zones crossing tiles merge their accumulators, as ranks do).

Two ways to spread it over N nodes of C cores each (one rank of one thread per core):
  A. one `mpirun -np N*C sco run` per item, the windows split across every rank of the cluster:
     rank 0 receives every window's pixels and writes the file, so its network link and its disk
     carry the whole output;
  B. the items spread over the nodes (a Slurm job array, or `sco serve --executor slurm` submitting
     one job per item), each item split across its node's C ranks with `mpirun -np C` (windows move
     through shared memory): the nodes share only the parallel file system.

Per item, from the measurements here: CPU seconds of NDVI and of zonal per megapixel at 1 rank of
1 thread; the efficiency of 2 ranks on one node (speed-up / 2), taken as the efficiency of a node's
C ranks (optimistic for large C: stated); bytes read (2 x 2 bytes per pixel in, the NDVI's 4 bytes
per pixel out and read back by the zonal step) and bytes moved to rank 0 (the (R-1)/R of the windows
other ranks compute). Efficiency(N) = T(1 node) / (N x T(N nodes)).

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
# Stated bandwidths (assumptions, typical of a 2025 HPC centre):
NIC_BYTES_S = 25e9 / 8                  # 25 Gbit/s Ethernet or HDR InfiniBand per node, one direction: 3.1 GB/s
PFS_BYTES_S = 40e9                      # the parallel file system's aggregate bandwidth (Lustre / GPFS): 40 GB/s
NODE_DISK_BYTES_S = 2e9                 # what one node writes to the parallel file system: 2 GB/s
JOB_START_S = 1.5                       # Slurm + mpirun start-up of one job, seconds (measured mpirun -np 2 here: 0.4 s; more on a cluster)


def load(path):
    with open(path) as f:
        m = json.load(f)
    ndvi = m["NDVI 10980 x 10980, GTiff output"]
    zonal = m["zonal, 11750 tracts on 20053 x 20226 Float32"]
    one, two = "1 process, 1 thread", "mpirun -np 2, 1 thread each"
    return {
        "ndvi_cpu_per_mpx": ndvi[one]["wall"] / (NDVI_PX / 1e6),
        "zonal_cpu_per_mpx": zonal[one]["wall"] / (ZONAL_PX / 1e6),
        "node_efficiency": min(ndvi[one]["wall"] / ndvi[two]["wall"], zonal[one]["wall"] / zonal[two]["wall"]) / 2,
    }


def item_costs(m):
    """One (tile, date): seconds of one core, bytes through the file system, bytes of pixels moved to rank 0."""
    mpx = TILE_PX / 1e6
    cpu = (m["ndvi_cpu_per_mpx"] + m["zonal_cpu_per_mpx"]) * mpx
    fs_bytes = TILE_PX * (2 * 2 + 4 + 4)  # red + NIR in, NDVI out, NDVI read by the zonal step
    window_bytes = TILE_PX * 4             # the NDVI's pixels, which rank 0 writes
    return cpu, fs_bytes, window_bytes


def strategy_a(m, nodes, cores):
    """Every item split over all N x C ranks; items one after another."""
    cpu, fs_bytes, window_bytes = item_costs(m)
    ranks = nodes * cores
    compute = cpu / (ranks * m["node_efficiency"])
    moved_off_node = window_bytes * (nodes - 1) / nodes  # windows of other nodes' ranks reach rank 0's node
    rank0 = max(moved_off_node / NIC_BYTES_S, window_bytes / NODE_DISK_BYTES_S)  # rank 0's link and its writes
    per_item = max(compute, rank0) + JOB_START_S
    return TILES * DATES * per_item


def strategy_b(m, nodes, cores):
    """Items spread over the nodes; each item split over one node's C ranks."""
    cpu, fs_bytes, _ = item_costs(m)
    items = TILES * DATES
    per_item = cpu / (cores * m["node_efficiency"]) + JOB_START_S
    rounds = math.ceil(items / nodes)                      # load balance: whole items per node
    io_floor = items * fs_bytes / min(PFS_BYTES_S, nodes * NODE_DISK_BYTES_S)
    merge = MUNICIPALITIES * DATES * 7 * 8 / NIC_BYTES_S   # the per-municipality rows gathered once
    return max(rounds * per_item, io_floor) + merge


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--measured", default=os.path.join(ROOT, "bench", "out", "mpi", "measured.json"))
    ap.add_argument("--cores-per-node", type=int, default=32)
    ap.add_argument("--markdown", default=None)
    args = ap.parse_args()
    m = load(args.measured)
    cpu, fs_bytes, window_bytes = item_costs(m)
    print(f"measured here: NDVI {m['ndvi_cpu_per_mpx'] * 1e3:.2f} ms/Mpx, zonal {m['zonal_cpu_per_mpx'] * 1e3:.2f} ms/Mpx at 1 rank of 1 thread; "
          f"2-rank efficiency {m['node_efficiency']:.2f}")
    print(f"one item (tile x date): {cpu:.1f} core-s, {fs_bytes / 1e9:.2f} GB through the file system, {window_bytes / 1e9:.2f} GB of NDVI pixels")
    c = args.cores_per_node
    base_a, base_b = strategy_a(m, 1, c), strategy_b(m, 1, c)
    lines = [f"| nodes ({c} cores each) | A: one job over all ranks, hours | A: efficiency | B: items over nodes, hours | B: efficiency | B: bound by |",
             "|---|---|---|---|---|---|"]
    for n in (1, 2, 4, 8, 16, 32, 64):
        a, b = strategy_a(m, n, c), strategy_b(m, n, c)
        items = TILES * DATES
        per_item = cpu / (c * m["node_efficiency"]) + JOB_START_S
        compute_b = math.ceil(items / n) * per_item
        io_b = items * fs_bytes / min(PFS_BYTES_S, n * NODE_DISK_BYTES_S)
        bound = "compute" if compute_b >= io_b else "file system"
        lines.append(f"| {n} | {a / 3600:.2f} | {base_a / (n * a):.0%} | {b / 3600:.2f} | {base_b / (n * b):.0%} | {bound} |")
    emit_table(lines, args.markdown)


if __name__ == "__main__":
    main()
