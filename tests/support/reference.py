"""Helpers of the reference tests (scripts that compare sco with values computed independently):
a check counter, and coverage fractions of zones estimated by GDAL's rasterizer on a finer grid."""
import sys

import numpy as np
from osgeo import gdal, ogr


class Checks:
    """Counts checks; finish() exits 1 when one failed, 77 (ctest's SKIP_RETURN_CODE) when a part was
    skipped for want of an optional dependency, else 0."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = []

    def skip(self, what):
        print("SKIP:", what)
        self.skipped.append(what)

    def __call__(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL:", what)

    def finish(self):
        print(f"{self.passed} checks passed, {self.failed} failed" + (f", {len(self.skipped)} parts skipped" if self.skipped else ""))
        sys.exit(1 if self.failed else 77 if self.skipped else 0)


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
