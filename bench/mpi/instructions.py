#!/usr/bin/python3
"""The work a split run adds, counted exactly (issue 20's "total CPU within 10 % of one process"): the
user-space instructions of sco alone against the sum over the ranks of `mpirun -np 2`, each process
under valgrind's callgrind, on run.py's cases. CPU seconds on this host move with its neighbours and
with two processes sharing one memory bus (cycles per instruction); instruction counts repeat to the
last digit. Not counted: the kernel's work (page faults, page-cache copies) and mpirun's own process.
For each case, the functions whose counts grew most say what the second process repeats (dynamic
linking, reading the zones...).

Usage: bench/mpi/instructions.py [--sco PATH] [--cases SUBSTRING] [--markdown FILE]
       (valgrind: scripts/install-deps.sh --bench; about 10 minutes for every case)"""
import argparse
import collections
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
from bench_common import emit_table  # noqa: E402
from run import ENV, cases, make_inputs  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))


def callgrind(cmd, prefix, ranks):
    """Runs `cmd` (sco's arguments after the binary) alone or under mpirun -np RANKS, every sco process
    under callgrind; the paths of the profiles written."""
    valgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={prefix}.%p"]
    launcher = [shutil.which("mpirun"), "-np", str(ranks)] if ranks else []
    r = subprocess.run(launcher + valgrind + cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr[-2000:]}")
    return sorted(glob.glob(prefix + ".[0-9]*"))


def total(profile):
    with open(profile, errors="replace") as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError(f"{profile}: no instruction total")


def by_function(profile):
    """{function: instructions spent in it (self)} from callgrind_annotate."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", profile], capture_output=True, text=True, errors="replace").stdout
    counts = collections.Counter()
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \([ \d.]+%\)\s+(.*)", line)
        if m and "PROGRAM TOTALS" not in line:
            name = re.sub(r"\s*\[[^\]]*\]$", "", m.group(2)).strip()
            name = re.sub(r"\(.*", "", name.split(":", 1)[-1])  # the function's name, without its file and arguments
            counts[name[:70]] += int(m.group(1).replace(",", ""))
    return counts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sco", default=os.path.join(ROOT, "build", "apps", "sco", "sco"))
    ap.add_argument("--cases", default="", help="only the cases whose label contains this text")
    ap.add_argument("--markdown", default=None)
    args = ap.parse_args()
    for tool in ("valgrind", "callgrind_annotate", "mpirun"):
        if not shutil.which(tool):
            sys.exit(f"bench/mpi/instructions: {tool} not found: run scripts/install-deps.sh --bench")
    make_inputs(args.sco)
    lines = ["| case | 1 process | rank 0 | rank 1 | 2 ranks together | 2 ranks / 1 process | grew most (millions of instructions) |",
             "|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="sco-callgrind-") as tmp:
        for label, _, cmd, ext in cases(args.sco):
            if args.cases not in label:
                continue
            sco = [args.sco, "-q", "--threads", "1"] + cmd
            one = callgrind(sco + ["-o", os.path.join(tmp, f"one.{ext}")], os.path.join(tmp, "callgrind-one"), 0)
            two = callgrind(sco + ["-o", os.path.join(tmp, f"two.{ext}")], os.path.join(tmp, "callgrind-two"), 2)
            alone, ranks = total(one[0]), [total(p) for p in two]
            grown = by_function(one[0])
            split = collections.Counter()
            for p in two:
                split.update(by_function(p))
            deltas = sorted(((split[k] - grown[k], k) for k in set(split) | set(grown)), reverse=True)[:4]
            top = "; ".join(f"{k} +{d / 1e6:.0f}" for d, k in deltas)
            lines.append(f"| {label} | {alone / 1e9:.3f} G | {ranks[0] / 1e9:.3f} G | {ranks[1] / 1e9:.3f} G | {sum(ranks) / 1e9:.3f} G | "
                         f"{sum(ranks) / alone:.3f} | {top} |")
            print(lines[-1], flush=True)
            for p in one + two:
                os.remove(p)
    emit_table(lines, args.markdown)


if __name__ == "__main__":
    main()
