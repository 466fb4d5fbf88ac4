#!/usr/bin/python3
"""Checks `sco zonal` on the real sample data against values computed independently here with
GDAL, OGR/GEOS and numpy:

1. Luxembourg cantons over elev.tif: each canton is rasterised on a grid 100x finer than the raster
   (cell centres), so a cell's coverage is estimated as (fine cells inside) / 10000; mean, count and
   sum must agree within the supersampling error, min/max must include the reference's.
2. Olinda census tracts (EPSG:4267) over the Landsat scene (UTM 25S): for every tract inside the
   raster, area = sum of coverage x cell area must equal GEOS's area of the reprojected polygon.
3. Population-weighted NDVI per tract: residents (V014) spread uniformly over each tract, rasterised
   20x finer, give reference weights; weighted_mean must agree within the supersampling error.

Usage: zonal_reference_test.py SCO_BINARY SAMPLE_DIR
Prints 'N checks passed, N failed' and exits non-zero on failure.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from osgeo import gdal, ogr, osr

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from reference import Checks, supersampled_fractions  # noqa: E402

gdal.UseExceptions()
SCO, SAMPLE = sys.argv[1], sys.argv[2]
check = Checks()




def sco_zonal(args):
    r = subprocess.run([SCO, "--json", "zonal"] + args, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"sco zonal failed: {r.stderr}")
    return json.loads(r.stdout)




# 1. Luxembourg cantons over elevation ------------------------------------------------------------
elev = os.path.join(SAMPLE, "elev.tif")
lux = os.path.join(SAMPLE, "lux.shp")
res = sco_zonal(["--raster", elev, "--zones", lux, "--stats", "count,sum,mean,min,max"])
ds = gdal.Open(elev)
band = ds.GetRasterBand(1)
values = band.ReadAsArray().astype(float)
valid = values != band.GetNoDataValue()
frac = supersampled_fractions(elev, lux, 100)
for k, row in enumerate(res["zones"]):
    f = frac[k] * valid
    count = f.sum()
    total = (f * values).sum()
    mean = total / count
    inside = (frac[k] > 0) & valid
    name = f"canton {row['fid']}"
    # Supersampling error: at most ~1/100 of a cell per boundary cell, about 0.3% of these zones.
    check(abs(row["count"] - count) / count < 3e-3, f"{name} count {row['count']} vs {count}")
    check(abs(row["mean"] - mean) / mean < 1e-3, f"{name} mean {row['mean']} vs {mean}")
    check(abs(row["sum"] - total) / total < 3e-3, f"{name} sum {row['sum']} vs {total}")
    check(row["min"] <= values[inside].min() and row["max"] >= values[inside].max(), f"{name} min/max")

# 2. Olinda tracts: exact area against GEOS ------------------------------------------------------
scene = os.path.join(SAMPLE, "L7_ETMs.tif")
olinda = os.path.join(SAMPLE, "olinda1.shp")
tmp = tempfile.mkdtemp()
ndvi = os.path.join(tmp, "ndvi.tif")
subprocess.run([SCO, "-q", "index", "ndvi", "--input", scene, "--sensor", "landsat7", "-o", ndvi], check=True)
res = sco_zonal(["--raster", ndvi, "--zones", olinda, "--stats", "area,count,mean"])
r = gdal.Open(ndvi)
gt = r.GetGeoTransform()
dst = osr.SpatialReference()
dst.ImportFromWkt(r.GetProjection())
dst.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
olinda_ds = ogr.Open(olinda)  # the bindings crash if a layer outlives its datasource
layer = olinda_ds.GetLayer()
src = layer.GetSpatialRef()
src.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
ct = osr.CoordinateTransformation(src, dst)
xmin, xmax = gt[0], gt[0] + gt[1] * r.RasterXSize
ymin, ymax = gt[3] + gt[5] * r.RasterYSize, gt[3]
inside = 0
for f, row in zip(layer, res["zones"]):
    g = f.GetGeometryRef().Clone()
    g.Transform(ct)
    e = g.GetEnvelope()
    if e[0] < xmin or e[1] > xmax or e[2] < ymin or e[3] > ymax:
        continue
    inside += 1
    check(abs(row["area"] - g.GetArea()) / g.GetArea() < 1e-8, f"tract {row['fid']} area {row['area']} vs GEOS {g.GetArea()}")
check(inside > 400, f"only {inside} tracts inside the scene")

# 3. Population-weighted NDVI per tract ----------------------------------------------------------
# Residents per cell: each tract's V014 spread over its area (density x cell area), rasterised at
# cell centres on the Landsat grid; NDVI weighted by it per tract.
pop = os.path.join(tmp, "residents.tif")
olinda_ds2 = ogr.Open(olinda)
layer = olinda_ds2.GetLayer()
mem = ogr.GetDriverByName("Memory").CreateDataSource("")
out = mem.CreateLayer("t", dst, ogr.wkbUnknown)
out.CreateField(ogr.FieldDefn("d", ogr.OFTReal))
cell_area = abs(gt[1] * gt[5])
for f in layer:
    g = f.GetGeometryRef().Clone()
    g.Transform(ct)
    o = ogr.Feature(out.GetLayerDefn())
    o.SetField("d", f.GetField("V014") / g.GetArea() * cell_area)
    o.SetGeometry(g)
    out.CreateFeature(o)
pd = gdal.GetDriverByName("GTiff").Create(pop, r.RasterXSize, r.RasterYSize, 1, gdal.GDT_Float32)
pd.SetGeoTransform(gt)
pd.SetProjection(r.GetProjection())
gdal.RasterizeLayer(pd, [1], out, options=["ATTRIBUTE=d"])
pd = None
res = sco_zonal(["--raster", ndvi, "--weights", pop, "--zones", olinda, "--stats", "weighted_mean,weighted_sum,mean"])
v = r.GetRasterBand(1).ReadAsArray().astype(float)
pop_ds = gdal.Open(pop)
w = pop_ds.GetRasterBand(1).ReadAsArray().astype(float)
frac = supersampled_fractions(ndvi, olinda, 20)
checked = 0
for k, row in enumerate(res["zones"]):
    fw = frac[k] * w
    if fw.sum() <= 0 or row["weighted_mean"] is None:
        continue
    ref = (fw * v).sum() / fw.sum()
    checked += 1
    # 20x supersampling: coverage error up to ~1/20 of a boundary cell; tracts are a few dozen cells.
    check(abs(row["weighted_mean"] - ref) < 0.01 + 0.02 * abs(ref), f"tract {row['fid']} weighted_mean {row['weighted_mean']} vs {ref}")
check(checked > 400, f"only {checked} tracts with residents")

check.finish()
