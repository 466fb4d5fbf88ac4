"""The reference anchor: exactextract's Python package (exact coverage fractions, like sco), the
same statistics as sco's run (count, sum, mean, min, max, stddev, median), written to a CSV.
Run with the benchmarks' environment (bench/.venv, from scripts/install-deps.sh --bench).
Usage: exactextract_zonal.py RASTER ZONES OUT.csv"""
import os
import sys

from exactextract import exact_extract

raster, zones, out = sys.argv[1:4]
if os.path.exists(out):  # GDAL's CSV driver will not overwrite
    os.remove(out)
exact_extract(raster, zones, ["count", "sum", "mean", "min", "max", "stdev", "median"], output="gdal",
              output_options={"filename": out})
