#!/usr/bin/env python3
"""sco's own COG writer (issue 21) against GDAL: every file passes GDAL's COG validator with its full
check (IFDs first, block order, leaders and trailers); the full resolution equals sco's plain GeoTIFF
output pixel for pixel; each overview equals the overview GDAL's COG driver makes of that GeoTIFF with
the same resampling (odd sizes, fractional weights, nodata holes, nearest and average, integers and
floats); reruns are byte-identical; every codec reads back; bad creation options and a full disk
leave no file.

Usage: cog_writer_test.py SCO SAMPLE_DIR   (with .venv's python for the rio-tiler part)
"""
import hashlib
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from reference import Checks  # noqa: E402

try:
    import numpy as np
    from osgeo import gdal, osr
    from osgeo_utils.samples import validate_cloud_optimized_geotiff as cog_validator
except ImportError as e:
    print(f"SKIP: {e}")
    sys.exit(77)

gdal.UseExceptions()
SCO, SAMPLE = sys.argv[1], sys.argv[2]
check = Checks()
TMP = tempfile.mkdtemp(prefix="sco-cog-")
L7 = os.path.join(SAMPLE, "L7_ETMs.tif")


def sco(*args):
    return subprocess.run([SCO, "-q"] + list(args), capture_output=True, text=True)


def calc(out, inputs, expr, *extra):
    args = ["calc"] + sum((["-i", i] for i in inputs), []) + ["-e", expr, "-o", out] + list(extra)
    r = sco(*args)
    if r.returncode != 0:
        raise SystemExit(f"sco {' '.join(args)} failed: {r.stderr}")


def valid_cog(path):
    _, errors, details = cog_validator.validate(path, full_check=True)
    return errors, details


def read(ds_or_band):
    return ds_or_band.ReadAsArray()


def same(a, b):
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def gdal_cog(src, dst, block, resampling):
    gdal.PushErrorHandler("CPLQuietErrorHandler")  # GDAL advises tiles of 128 or more; 64 keeps the samples' pyramids deep
    gdal.Translate(dst, src, format="COG", creationOptions=[f"BLOCKSIZE={block}", f"RESAMPLING={resampling}", "COMPRESS=NONE"])
    gdal.PopErrorHandler()


def compare_with_gdal(name, ours, plain, block, resampling, tolerance=0.0):
    """Pixels, georeferencing and each overview of `ours` against `plain` and GDAL's COG of it.
    `tolerance`: relative, for floats: float rounding (GDAL 3.6 averages in float32, even Float64)."""
    errors, _ = valid_cog(ours)
    check(errors == [], f"{name}: GDAL's COG validator (full check) finds no error {errors}")
    reference = os.path.join(TMP, name + "_gdal.tif")
    gdal_cog(plain, reference, block, resampling)
    a, p, g = gdal.Open(ours), gdal.Open(plain), gdal.Open(reference)
    ba, bp, bg = a.GetRasterBand(1), p.GetRasterBand(1), g.GetRasterBand(1)
    check(same(read(ba), read(bp)), f"{name}: the full resolution equals the plain GeoTIFF, pixel for pixel")
    check(a.GetGeoTransform() == p.GetGeoTransform(), f"{name}: the geotransform is the plain GeoTIFF's")
    sa, sp = osr.SpatialReference(a.GetProjection()), osr.SpatialReference(p.GetProjection())
    check(sa.IsSame(sp) == 1, f"{name}: the CRS is the plain GeoTIFF's")
    na, np_ = ba.GetNoDataValue(), bp.GetNoDataValue()
    check(na == np_ or (na != na and np_ != np_), f"{name}: nodata {na} is the plain GeoTIFF's {np_}")
    check(ba.GetBlockSize() == [block, block], f"{name}: tiles of {block} x {block}")
    sizes = [(ba.GetOverview(i).XSize, ba.GetOverview(i).YSize) for i in range(ba.GetOverviewCount())]
    gdal_sizes = [(bg.GetOverview(i).XSize, bg.GetOverview(i).YSize) for i in range(bg.GetOverviewCount())]
    check(sizes == gdal_sizes and len(sizes) > 0, f"{name}: overview levels {sizes} are GDAL's {gdal_sizes}")
    for i in range(min(len(sizes), len(gdal_sizes))):
        o, r = read(ba.GetOverview(i)).astype("f8"), read(bg.GetOverview(i)).astype("f8")
        both_nan = np.isnan(o) & np.isnan(r)
        diff = np.where(both_nan, 0.0, np.abs(o - r) / np.maximum(1.0, np.abs(r)))
        worst = float(np.nanmax(np.where(np.isnan(diff), np.inf, diff)))
        check(worst <= tolerance, f"{name}: overview {i} ({sizes[i][0]} x {sizes[i][1]}, {resampling}) equals GDAL's "
              f"(largest relative difference {worst:g}, allowed {tolerance:g}, {int((diff > 0).sum())} of {diff.size} pixels differ)")
    return a


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def leftovers(folder, keep):
    return sorted(f for f in os.listdir(folder) if f not in keep)


# 1. Float NDVI of the real Landsat sample (349 x 352, striped input: rows of tiles cut into tiles),
#    tiles of 64: odd sizes, so fractional AVERAGE weights, and NaN where a + b == 0.
ndvi, ndvi_plain = os.path.join(TMP, "ndvi.tif"), os.path.join(TMP, "ndvi_plain.tif")
inputs, expr = [f"n={L7}:4", f"r={L7}:3"], "(n - r) / (n + r)"
calc(ndvi, inputs, expr, "--co", "BLOCKSIZE=64")
calc(ndvi_plain, inputs, expr, "--format", "GTiff")
ds = compare_with_gdal("ndvi", ndvi, ndvi_plain, 64, "AVERAGE", 1e-7)
check(ds.GetMetadataItem("OVERVIEW_RESAMPLING") == "AVERAGE", "the overviews' resampling is recorded in the file's metadata")
ds = None
first = sha256(ndvi)
calc(ndvi, inputs, expr, "--co", "BLOCKSIZE=64")
check(sha256(ndvi) == first, "a rerun writes the same bytes")
_, details = valid_cog(ndvi)
check(details["ifd_offsets"]["main"] < details["data_offsets"]["overview_0"] < details["data_offsets"]["main"],
      "IFDs first, then the overviews' tiles, then the full resolution's")

# 2. Integers: nearest by default, average when asked (rounded half up), as GDAL.
band, band_plain = os.path.join(TMP, "band.tif"), os.path.join(TMP, "band_plain.tif")
calc(band_plain, [f"a={L7}:1"], "a * 200", "--type", "uint16", "--format", "GTiff")
calc(band, [f"a={L7}:1"], "a * 200", "--type", "uint16", "--co", "BLOCKSIZE=64")
compare_with_gdal("uint16_nearest", band, band_plain, 64, "NEAREST")
calc(band, [f"a={L7}:1"], "a * 200", "--type", "uint16", "--co", "BLOCKSIZE=64", "--co", "RESAMPLING=AVERAGE")
compare_with_gdal("uint16_average", band, band_plain, 64, "AVERAGE")

# 3. Exact halving with nodata holes, float64 (a raster made here: 1024 x 768, 15% nodata).
rng = np.random.default_rng(21)
values = rng.normal(20.0, 5.0, (768, 1024))
values[rng.random(values.shape) < 0.15] = -9999.0
made = os.path.join(TMP, "made.tif")
d = gdal.GetDriverByName("GTiff").Create(made, 1024, 768, 1, gdal.GDT_Float64, ["TILED=YES"])
d.SetGeoTransform([500000, 10, 0, 4000000, 0, -10])
srs = osr.SpatialReference()
srs.ImportFromEPSG(32632)
d.SetProjection(srs.ExportToWkt())
d.GetRasterBand(1).SetNoDataValue(-9999.0)
d.GetRasterBand(1).WriteArray(values)
d = None
holes, holes_plain = os.path.join(TMP, "holes.tif"), os.path.join(TMP, "holes_plain.tif")
calc(holes, [f"v={made}"], "v", "--type", "float64", "--nodata", "-9999", "--co", "BLOCKSIZE=128")
calc(holes_plain, [f"v={made}"], "v", "--type", "float64", "--nodata", "-9999", "--format", "GTiff")
compare_with_gdal("float64_holes", holes, holes_plain, 128, "AVERAGE", 1e-6)

# 3b. rio-tiler (TiTiler's reader, from tests/requirements.txt in .venv) opens the file: its
#     overviews, a preview, and the full resolution equal to GDAL's reading.
try:
    from rio_tiler.io import Reader
except ImportError:
    check.skip("rio-tiler is not installed (scripts/install-deps.sh puts it in .venv)")
else:
    with Reader(ndvi) as src:
        info = src.info()
        check(list(info.overviews) == [2, 4, 8], f"rio-tiler sees the overviews 2, 4, 8 ({info.overviews})")
        preview = src.preview(max_size=64)
        check(preview.data.shape == (1, 64, 64) or max(preview.data.shape[1:]) == 64, f"rio-tiler makes a preview {preview.data.shape}")
        full = src.read()
        theirs = np.where(full.mask == 0, np.nan, full.data[0].astype("f8"))
        ours = read(gdal.Open(ndvi_plain)).astype("f8")
        check(np.array_equal(theirs, ours, equal_nan=True), "rio-tiler reads the full resolution as GDAL reads the plain GeoTIFF")

# 4. Codecs: each file valid and read back equal; LZW through GDAL's COG driver.
for co in (["COMPRESS=ZSTD"], ["COMPRESS=NONE"], ["LEVEL=9"], ["PREDICTOR=NO"], ["COMPRESS=LZW"], ["BIGTIFF=YES"]):
    out = os.path.join(TMP, "codec.tif")
    calc(out, inputs, expr, *sum((["--co", c] for c in co + ["BLOCKSIZE=64"]), []))
    errors, _ = valid_cog(out)
    ds = gdal.Open(out)
    structure = ds.GetMetadata("IMAGE_STRUCTURE")
    check(errors == [] and same(read(ds), read(gdal.Open(ndvi_plain))),
          f"{' '.join(co)}: a valid COG ({structure.get('COMPRESSION', 'NONE')}), pixels equal")
    ds = None

# 5. Bad input: one line naming the option, exit 2, nothing left behind.
for co, word in (("FOO=1", "FOO"), ("COMPRESS=BOGUS", "BOGUS"), ("BLOCKSIZE=100", "BLOCKSIZE"), ("LEVEL=99", "LEVEL")):
    folder = os.path.join(TMP, "bad_" + word)
    os.makedirs(folder)
    r = sco("calc", "-i", inputs[0], "-i", inputs[1], "-e", expr, "-o", os.path.join(folder, "x.tif"), "--co", co)
    lines = r.stderr.strip().splitlines()
    check(r.returncode == 2 and len(lines) == 1 and word in lines[0] and leftovers(folder, []) == [],
          f"--co {co}: exit {r.returncode}, one line naming {word} ({r.stderr.strip()}), no file left")

# 6. A disk that fills while writing: exit 4, no file (a 300 KiB tmpfs; root only).
small = os.path.join(TMP, "small")
os.makedirs(small)
if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", small], capture_output=True).returncode != 0:
    check.skip("a full disk: cannot mount a small tmpfs here")
else:
    try:
        r = sco("calc", "-i", f"v={made}", "-e", "v", "--type", "float64", "-o", os.path.join(small, "full.tif"))
        check(r.returncode == 4 and "disk is full" in r.stderr and leftovers(small, []) == [],
              f"a full disk: exit {r.returncode} ({r.stderr.strip()}), no file left {leftovers(small, [])}")
    finally:
        subprocess.run(["umount", small])

check.finish()
