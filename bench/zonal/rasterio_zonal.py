#!/usr/bin/python3
"""The anchor: zonal statistics the usual Python way, rasterio features.rasterize (cell centres,
not exact) + numpy bincount for count/sum/mean/stddev, sorting by zone for min/max/median.
Usage: rasterio_zonal.py RASTER ZONES OUT.csv"""
import csv
import sys

import numpy as np
import rasterio
from osgeo import ogr
from rasterio import features

raster, zones, out = sys.argv[1:4]
vds = ogr.Open(zones)
layer = vds.GetLayer()
shapes = []
for i, f in enumerate(layer):
    shapes.append((f.GetGeometryRef().ExportToJson(), i + 1))
n = len(shapes)
import json
shapes = [(json.loads(g), k) for g, k in shapes]
with rasterio.open(raster) as src:
    data = src.read(1)
    nodata = src.nodata
    labels = features.rasterize(shapes, out_shape=data.shape, transform=src.transform, fill=0, dtype="int32")
valid = labels > 0
if nodata is not None:
    valid &= data != nodata
lab = labels[valid]
val = data[valid].astype(np.float64)
del labels, data, valid
count = np.bincount(lab, minlength=n + 1)
total = np.bincount(lab, weights=val, minlength=n + 1)
sq = np.bincount(lab, weights=val * val, minlength=n + 1)
with np.errstate(invalid="ignore", divide="ignore"):
    mean = total / count
    std = np.sqrt(np.maximum(sq / count - mean * mean, 0))
order = np.argsort(lab, kind="stable")
lab_sorted = lab[order]
val_sorted = val[order]
starts = np.searchsorted(lab_sorted, np.arange(1, n + 1), side="left")
ends = np.searchsorted(lab_sorted, np.arange(1, n + 1), side="right")
with open(out, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["zone", "count", "sum", "mean", "min", "max", "stddev", "median"])
    for k in range(1, n + 1):
        seg = val_sorted[starts[k - 1]:ends[k - 1]]
        if seg.size == 0:
            w.writerow([k - 1, 0, 0, "", "", "", "", ""])
            continue
        w.writerow([k - 1, count[k], total[k], mean[k], seg.min(), seg.max(), std[k], np.median(seg)])
