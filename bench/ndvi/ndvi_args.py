"""The command line the NDVI benchmarks share, and their inputs made (make_inputs.py) before timing."""
import argparse
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def args_with_inputs(runs):
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=runs)
    ap.add_argument("--sco", default=os.path.join(ROOT, "build", "apps", "sco", "sco"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "out", "ndvi"))
    ap.add_argument("--markdown", default=None)
    args = ap.parse_args()
    subprocess.run(["/usr/bin/python3", os.path.join(HERE, "make_inputs.py"), os.path.join(ROOT, "data", "sample"), args.out], check=True)
    return args
