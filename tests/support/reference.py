"""Helpers of the reference tests (scripts that compare sco with values computed independently):
a check counter, and coverage fractions of zones estimated by GDAL's rasterizer on a finer grid."""

import numpy as np
from osgeo import gdal, ogr

from checks import Checks  # noqa: F401  (the counter, kept importable from here)


def supersampled_fractions(raster_path, zones_path, factor):
    """Coverage estimate of each zone over the raster's cells, an array [zone, row, col]: the zones
    (reprojected by GDAL to the raster's CRS) burnt into a grid `factor` times finer, then counted."""
    src = gdal.Open(raster_path)
    gt = src.GetGeoTransform()
    w, h = src.RasterXSize, src.RasterYSize
    fine = gdal.GetDriverByName("MEM").Create("", w * factor, h * factor, 1, gdal.GDT_Int32)
    fine.SetGeoTransform([gt[0], gt[1] / factor, 0, gt[3], 0, gt[5] / factor])
    fine.SetProjection(src.GetProjection())
    vec = ogr.Open(zones_path)  # the bindings crash if a layer outlives its datasource
    layer = vec.GetLayer()
    n = layer.GetFeatureCount()
    mem = ogr.GetDriverByName("Memory").CreateDataSource("")
    out = mem.CreateLayer("z", layer.GetSpatialRef(), ogr.wkbUnknown)
    out.CreateField(ogr.FieldDefn("k", ogr.OFTInteger))
    for i, f in enumerate(layer):
        g = ogr.Feature(out.GetLayerDefn())
        g.SetField("k", i + 1)
        g.SetGeometry(f.GetGeometryRef().Clone())
        out.CreateFeature(g)
    gdal.RasterizeLayer(fine, [1], out, options=["ATTRIBUTE=k"])
    labels = fine.GetRasterBand(1).ReadAsArray().reshape(h, factor, w, factor)
    fractions = np.zeros((n, h, w))
    for k in range(1, n + 1):
        fractions[k - 1] = (labels == k).sum(axis=(1, 3)) / float(factor * factor)
    return fractions
