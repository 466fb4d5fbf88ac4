"""Star-shaped zones over a raster's extent for tests and benchmarks: an N x N lattice of overlapping
14-point stars of several sizes (many cross row bands and tile columns), plus one zone covering the
whole raster. Written as GeoJSON in the raster's CRS."""
import json
import math

from osgeo import gdal


def write_star_zones(raster, out, n):
    ds = gdal.Open(raster)
    gt = ds.GetGeoTransform()
    x0, y0 = gt[0], gt[3]
    x1, y1 = x0 + gt[1] * ds.RasterXSize, y0 + gt[5] * ds.RasterYSize
    feats = []
    for i in range(n):
        for j in range(n):
            cx = x0 + (i + 0.5) * (x1 - x0) / n
            cy = y1 + (j + 0.5) * (y0 - y1) / n
            r = 0.8 * (x1 - x0) / n * (1 + (i * 7 + j * 3) % 5 / 4)
            pts = []
            for k in range(14):
                rk = r * (1 if k % 2 == 0 else 0.45)
                a = 2 * math.pi * k / 14 + i
                pts.append([cx + rk * math.cos(a), cy + rk * math.sin(a)])
            pts.append(pts[0])
            feats.append({"type": "Feature", "properties": {"id": f"z{i}_{j}"}, "geometry": {"type": "Polygon", "coordinates": [pts]}})
    feats.append({"type": "Feature", "properties": {"id": "all"},
                  "geometry": {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}})
    code = ds.GetSpatialRef().GetAuthorityCode(None)
    with open(out, "w") as f:
        json.dump({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{code}"}},
                   "features": feats}, f)
