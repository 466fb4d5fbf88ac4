#!/usr/bin/python3
"""Builds the zonal benchmark inputs from the real sample data (generated for timing only; never
presented as observations):

- lux_elev_20000.tif: Luxembourg elevation (elev.tif) upsampled bilinearly to 20000 columns
  (20000 x 18947 Int16, tiled 512, uncompressed), for the 12 cantons of lux.shp.
- olinda_ndvi_20000.tif: NDVI of the Landsat scene, mirror-tiled 5 x 5 and upsampled to 2.48 m
  cells (20053 x 20226 Float32, tiled 512, uncompressed), with olinda_tracts_x25.gpkg: the 470
  census tracts replicated on the same 5 x 5 pattern (11750 polygons, in the raster's CRS).
- olinda_ndvi_12dates.tif / olinda_ndvi_1date.tif: a 12-band raster (12 "dates": the NDVI mosaic
  shifted by k/100 per band, band-interleaved like most date stacks) and its 1-band counterpart,
  10026 x 10113, to show coverage reuse.
Usage: make_inputs.py SCO_BINARY SAMPLE_DIR OUT_DIR
"""
import os
import subprocess
import sys

import numpy as np
from osgeo import gdal, ogr, osr

gdal.UseExceptions()
SCO, SAMPLE, OUT = sys.argv[1:4]
os.makedirs(OUT, exist_ok=True)
CO = ["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512", "BIGTIFF=YES"]


def done(*names):
    return all(os.path.exists(os.path.join(OUT, n)) for n in names)


if not done("lux_elev_20000.tif"):
    gdal.Translate(os.path.join(OUT, "lux_elev_20000.tif"), os.path.join(SAMPLE, "elev.tif"), format="GTiff",
                   width=20000, height=0, resampleAlg="bilinear", creationOptions=CO)

ndvi_small = os.path.join(OUT, "olinda_ndvi.tif")
if not os.path.exists(ndvi_small):
    subprocess.run([SCO, "-q", "index", "ndvi", "--input", os.path.join(SAMPLE, "L7_ETMs.tif"), "--sensor", "landsat7",
                    "--format", "GTiff", "-o", ndvi_small], check=True)
src = gdal.Open(ndvi_small)
gt = src.GetGeoTransform()
a = src.GetRasterBand(1).ReadAsArray()
h, w = a.shape
K = 5
tile_w, tile_h = w * gt[1], h * -gt[5]  # metres covered by one copy of the scene


def mosaic_path(name, cell, bands, shift):
    path = os.path.join(OUT, name)
    if os.path.exists(path):
        return path
    # Mirror-tiled K x K mosaic at the scene's resolution, then resampled (nearest) to `cell`.
    rows = [np.hstack([a if i % 2 == 0 else a[:, ::-1] for i in range(K)]) for _ in range(K)]
    big = np.vstack([r if j % 2 == 0 else r[::-1, :] for j, r in enumerate(rows)])
    mem = gdal.GetDriverByName("MEM").Create("", big.shape[1], big.shape[0], bands, gdal.GDT_Float32)
    mem.SetGeoTransform([gt[0], gt[1], 0, gt[3], 0, gt[5]])
    mem.SetProjection(src.GetProjection())
    for b in range(bands):
        mem.GetRasterBand(b + 1).WriteArray(big + shift * b)
        mem.GetRasterBand(b + 1).SetNoDataValue(float("nan"))
    width = int(round(K * tile_w / cell))
    height = int(round(K * tile_h / cell))
    gdal.Translate(path + ".part", mem, format="GTiff", width=width, height=height, resampleAlg="nearest",
                   creationOptions=CO + (["INTERLEAVE=BAND"] if bands > 1 else []))
    os.rename(path + ".part", path)
    return path


mosaic_path("olinda_ndvi_20000.tif", 2.48, 1, 0.0)
mosaic_path("olinda_ndvi_12dates.tif", 4.96, 12, 0.01)
mosaic_path("olinda_ndvi_1date.tif", 4.96, 1, 0.0)

tracts = os.path.join(OUT, "olinda_tracts_x25.gpkg")
if not os.path.exists(tracts):
    dst = osr.SpatialReference()
    dst.ImportFromWkt(src.GetProjection())
    dst.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    vds = ogr.Open(os.path.join(SAMPLE, "olinda1.shp"))
    layer = vds.GetLayer()
    srs = layer.GetSpatialRef()
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ct = osr.CoordinateTransformation(srs, dst)
    base = []
    for f in layer:
        g = f.GetGeometryRef().Clone()
        g.Transform(ct)
        base.append((f.GetField("ID"), g))
    out = ogr.GetDriverByName("GPKG").CreateDataSource(tracts + ".part.gpkg")
    ol = out.CreateLayer("tracts", dst, ogr.wkbMultiPolygon)
    ol.CreateField(ogr.FieldDefn("zone", ogr.OFTString))
    ol.StartTransaction()
    x0, y0 = gt[0], gt[3]
    for i in range(K):
        for j in range(K):
            for tid, g in base:
                c = g.Clone()
                # Mirror like the raster: reflect the copy about its tile's centre line when odd.
                def move(px, py):
                    lx, ly = px - x0, y0 - py
                    if i % 2:
                        lx = tile_w - lx
                    if j % 2:
                        ly = tile_h - ly
                    return x0 + i * tile_w + lx, y0 - j * tile_h - ly
                geom = ogr.ForceToMultiPolygon(c)
                for p in range(geom.GetGeometryCount()):
                    poly = geom.GetGeometryRef(p)
                    for r in range(poly.GetGeometryCount()):
                        ring = poly.GetGeometryRef(r)
                        for k in range(ring.GetPointCount()):
                            ring.SetPoint_2D(k, *move(ring.GetX(k), ring.GetY(k)))
                feat = ogr.Feature(ol.GetLayerDefn())
                feat.SetField("zone", f"{tid}_{i}_{j}")
                feat.SetGeometry(geom)
                ol.CreateFeature(feat)
    ol.CommitTransaction()
    out = None
    os.rename(tracts + ".part.gpkg", tracts)
print("inputs ready in", OUT)
