#!/usr/bin/env python3
"""The openEO test suite's Sentinel-2 workflow area and period on the real L2A series (data/, from
../shared/data: Bolzano, June 2022), through the official openEO Python client: the series is
ingested band by band (`sco ingest --sensor sentinel2`, one item of 5 assets per date), the collection
is a data cube with bands B02, B03, B04, B08, SCL (common names in eo:bands), and load_collection
(bands B04, B08, the suite's bbox in EPSG:32632 and 2022-06-01/2022-07-01) -> ndvi -> median over t
equals numpy's median NDVI of the files over the same cells.

Usage: openeo_sentinel2_test.py SCO SAMPLE_DIR SOURCE_DIR (exits 77 without the client or the series)
"""
import os
import sys

import numpy as np
from osgeo import gdal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from reference import Checks  # noqa: E402
from s2_sample import series_folder  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from node_fixture import Node, openeo_client  # noqa: E402

gdal.UseExceptions()
check = Checks()
openeo, OpenEoApiError = openeo_client(check)
DATA = series_folder(sys.argv[3])
if not DATA:
    check.skip("the Sentinel-2 series is neither in data/ nor in ../shared/data")
    check.finish()

def read_nc(path):
    """{variable: (dimension names, values)} of a netCDF, and its t coordinate (days or labels)."""
    ds = gdal.OpenEx(path, gdal.OF_MULTIDIM_RASTER)
    root = ds.GetRootGroup()
    out = {}
    for name in root.GetMDArrayNames():
        a = root.OpenMDArray(name)
        if name in ("x", "y", "t") or a.GetDimensionCount() < 2:
            continue
        out[name] = ([d.GetName() for d in a.GetDimensions()], a.ReadAsArray().astype(np.float64))
    t = [float(v) for v in root.OpenMDArray("t").ReadAsArray()] if "t" in root.GetMDArrayNames() else None
    return out, t


def apply_dimension_checks(con, dates, band, origin, shape, area):
    """apply_dimension over the bands (quantiles, order, array_concat) and over t into bands
    (quantiles), and the L1 scalar processes (mod, sgn, between, sin), against numpy."""
    from openeo.processes import array_concat, between, mod, order, quantiles, sgn, sin

    r1, c1 = origin

    def cells(d, name):
        return band(d, name)[0][r1:r1 + shape[0], c1:c1 + shape[1]]

    def download(cube, name):
        path = os.path.join(node.TMP, name)
        cube.download(path, format="netCDF")
        return read_nc(path)[0]

    day = con.load_collection("s2-bolzano", bands=["B02", "B03", "B04"], temporal_extent=["2022-06-01", "2022-06-03"], spatial_extent=area)
    stack = np.array([cells(dates[0], b) for b in ("B02", "B03", "B04")])
    got = download(day.apply_dimension(dimension="bands", process=lambda d: quantiles(d, probabilities=[0.25, 0.5, 0.75])), "q.nc")
    want = np.quantile(stack, [0.25, 0.5, 0.75], axis=0)
    names = ("B02", "B03", "B04")  # 3 values for 3 bands: the labels stay (the process definition's rule)
    worst = max(float(np.max(np.abs(got[b][1][0] - want[k]))) for k, b in enumerate(names)) if sorted(got) == list(names) else float("inf")
    check(worst < 1e-2, f"apply_dimension quantiles over 3 bands: variables {sorted(got)}, worst |sco - numpy| {worst:.1e}")
    got = download(day.apply_dimension(dimension="bands", process=lambda d: quantiles(d, probabilities=[0.5, 0.9])), "q2.nc")
    want = np.quantile(stack, [0.5, 0.9], axis=0)
    worst = max(float(np.max(np.abs(got[str(k)][1][0] - want[k]))) for k in range(2)) if sorted(got) == ["0", "1"] else float("inf")
    check(worst < 1e-2, f"apply_dimension 2 quantiles over 3 bands, labelled 0 and 1: {sorted(got)}, worst {worst:.1e}")
    got = download(day.apply_dimension(dimension="bands", process=lambda d: order(d)), "order.nc")
    want = np.argsort(stack, axis=0, kind="stable")
    same = sorted(got) == ["B02", "B03", "B04"] and all(np.array_equal(got[b][1][0], want[k]) for k, b in enumerate(("B02", "B03", "B04")))
    check(same, f"apply_dimension order over 3 bands (labels kept: 3 values for 3 bands) equals numpy's stable argsort: {sorted(got)}")
    got = download(day.apply_dimension(dimension="bands", process=lambda d: array_concat(d, (d[2] - d[0]) / (d[2] + d[0]))), "concat.nc")
    with np.errstate(invalid="ignore", divide="ignore"):
        nd = (stack[2] - stack[0]) / (stack[2] + stack[0])
    ok = sorted(got) == ["0", "1", "2", "3"] and np.array_equal(got["1"][1][0], stack[1]) and float(np.nanmax(np.abs(got["3"][1][0] - nd))) < 1e-6
    check(ok, f"apply_dimension array_concat(bands, index): 4 values labelled 0-3: {sorted(got)}")
    for reducer, want in (("median", np.median(stack, axis=0)), ("sd", np.std(stack, axis=0, ddof=1)), ("product", np.prod(stack, axis=0))):
        got = download(day.reduce_dimension(dimension="bands", reducer=reducer), f"r-{reducer}.nc")
        worst = float(np.max(np.abs(got["var"][1][0] - want) / np.maximum(1, np.abs(want)))) if "var" in got else float("inf")
        check(worst < 1e-5, f"reduce_dimension over 3 bands by {reducer}: worst relative |sco - numpy| {worst:.1e}")
    red = con.load_collection("s2-bolzano", bands=["B04"], temporal_extent=["2022-06-01", "2022-07-01"], spatial_extent=area)
    got = download(red.apply_dimension(dimension="t", target_dimension="bands", process=lambda d: quantiles(d, probabilities=[0.1, 0.5])), "tq.nc")
    series = np.array([cells(d, "B04") for d in dates])
    want = np.quantile(series, [0.1, 0.5], axis=0)
    ok = sorted(got) == ["0", "1"] and got["0"][0] == ["y", "x"] and all(float(np.max(np.abs(got[str(k)][1] - want[k]))) < 1e-2 for k in range(2))
    check(ok, f"apply_dimension quantiles over t into bands: {sorted(got)}, dims {got.get('0', ([],))[0]}")
    one = con.load_collection("s2-bolzano", bands=["B04"], temporal_extent=["2022-06-01", "2022-06-03"], spatial_extent=area)
    b04 = cells(dates[0], "B04")
    for name, process, want in (("mod", lambda x: mod(x, 7), np.mod(b04, 7)), ("sgn", lambda x: sgn(x - 1000), np.sign(b04 - 1000)),
                                ("between", lambda x: between(x, 500, 1500), ((b04 >= 500) & (b04 <= 1500)).astype(np.float64)),
                                ("sin", lambda x: sin(x / 1000), np.sin(b04 / 1000))):
        got = download(one.apply(process), f"{name}.nc")
        worst = float(np.max(np.abs(got["B04"][1][0] - want))) if "B04" in got else float("inf")
        check(worst < 1e-5, f"apply {name}: worst |sco - numpy| {worst:.1e}")


def dimension_processes(con, dates, band, origin, shape):
    """drop_dimension, rename_labels, aggregate_temporal (sd), aggregate_temporal_period (week),
    merge_cubes and apply_kernel on the series, against numpy / SciPy over the same cells."""
    import datetime
    from scipy import ndimage

    r1, c1 = origin
    area = {"west": 679720, "south": 5151080, "east": 680680, "north": 5151920, "crs": 32632}
    june = con.load_collection("s2-bolzano", bands=["B04"], temporal_extent=["2022-06-01", "2022-07-01"], spatial_extent=area)
    red = {d: band(d, "B04")[0][r1:r1 + shape[0], c1:c1 + shape[1]] for d in dates}
    day = [datetime.date(int(d[:4]), int(d[4:6]), int(d[6:8])) for d in dates]
    epoch = datetime.date(1970, 1, 1)

    def download(cube, name):
        path = os.path.join(node.TMP, name)
        cube.download(path, format="netCDF")
        return read_nc(path)

    # sd over explicit intervals (sample sd, n - 1), each step dated at its interval's start
    intervals = [["2022-06-01", "2022-06-11"], ["2022-06-11", "2022-06-21"]]
    got, t = download(june.aggregate_temporal(intervals=intervals, reducer="sd"), "sd.nc")
    want = [np.std([red[d] for d, x in zip(dates, day) if lo <= x.isoformat() < hi], axis=0, ddof=1) for lo, hi in intervals]
    worst = max(float(np.nanmax(np.abs(got["B04"][1][i] - want[i]))) for i in range(2)) if "B04" in got else float("inf")
    starts = [(datetime.date.fromisoformat(lo) - epoch).days for lo, _ in intervals]
    check(worst < 1e-2 and list(t) == starts, f"aggregate_temporal sd: worst |sco - numpy| {worst:.1e} (B04 up to 1e4), t {list(t) if t is not None else None}")
    # ISO weeks: one step per week holding a date, dated at its Monday, the sum of its steps
    got, t = download(june.aggregate_temporal_period(period="week", reducer="sum"), "week.nc")
    weeks = {}
    for d, x in zip(dates, day):
        weeks.setdefault(x - datetime.timedelta(days=x.weekday()), []).append(red[d])
    mondays = sorted(weeks)
    worst = max(float(np.max(np.abs(got["B04"][1][i] - np.sum(weeks[m], axis=0)))) for i, m in enumerate(mondays)) if "B04" in got else float("inf")
    check(list(t) == [(m - epoch).days for m in mondays] and worst == 0, f"weeks: t {list(t)} for Mondays {mondays}, worst {worst}")
    # first and last over t: the first and the last date's cells
    for reducer, d in (("first", dates[0]), ("last", dates[-1])):
        got, _ = download(june.reduce_dimension(dimension="t", reducer=reducer), f"t-{reducer}.nc")
        check("B04" in got and np.array_equal(got["B04"][1], red[d]), f"reduce_dimension t by {reducer}: the cells of {d}")
    # merge_cubes of two cubes reduced over t, the overlap resolved by subtract: mean - median, no t
    mean, median = june.reduce_dimension(dimension="t", reducer="mean"), june.reduce_dimension(dimension="t", reducer="median")
    got, t = download(mean.merge_cubes(median, overlap_resolver="subtract"), "merged.nc")
    stack = np.array([red[d] for d in dates])
    dims, values = got.get("B04", ([], None))
    worst = float(np.max(np.abs(values - (stack.mean(axis=0) - np.median(stack, axis=0))))) if values is not None else float("inf")
    check(dims == ["y", "x"] and t is None and worst < 1e-2, f"merge_cubes mean - median: dims {dims}, t {t}, worst {worst:.1e}")
    # dimension_labels as a graph's result: a JSON array
    labels = june.dimension_labels("t").execute()
    check(isinstance(labels, list) and [x[:10] for x in labels] == [x.isoformat() for x in day], f"dimension_labels t: {labels}")
    # drop_dimension t of a one-day cube; rename_labels of its band
    one = con.load_collection("s2-bolzano", bands=["B04"], temporal_extent=["2022-06-01", "2022-06-03"], spatial_extent=area)
    got, t = download(one.drop_dimension(name="t").rename_labels(dimension="bands", target=["red"], source=["B04"]), "dropped.nc")
    dims, values = got.get("red", ([], None))
    check(dims == ["y", "x"] and t is None and values is not None and np.array_equal(values, red[dates[0]]),
          f"drop_dimension t, B04 renamed red: variables {list(got)}, dims {dims}")
    apply_dimension_checks(con, dates, band, origin, shape, area)
    # apply_kernel against SciPy's correlate: a constant border (openEO's default, 0) and reflect
    kernel = [[0, 1, 0], [1, 2, 1], [0, 1, 0]]
    for border, mode in ((0, "constant"), ("reflect", "reflect"), ("reflect_pixel", "mirror"), ("wrap", "wrap"), ("replicate", "nearest")):
        got, _ = download(one.apply_kernel(kernel=kernel, factor=0.5, border=border), f"kernel-{mode}.nc")
        want = 0.5 * ndimage.correlate(red[dates[0]], np.array(kernel, dtype=np.float64), mode=mode, cval=0.0)
        worst = float(np.max(np.abs(got["B04"][1][0] - want))) if "B04" in got else float("inf")
        check(worst < 1e-2, f"apply_kernel border {border}: worst |sco - SciPy| {worst:.1e}")


node = Node(sys.argv[1], sys.argv[2], "sco-openeo-s2-")
node.sco("ingest", DATA, "--collection", "s2-bolzano", "--sensor", "sentinel2")
node.sco("user", "add", "ana", "--role", "admin", "--password-stdin", stdin=Node.PASSWORDS["ana"] + "\n")
root = node.start()
try:
    con = openeo.connect(root)
    con.authenticate_basic("ana", Node.PASSWORDS["ana"])
    meta = con.describe_collection("s2-bolzano")
    bands = meta.get("cube:dimensions", {}).get("bands", {}).get("values")
    check(bands == ["B02", "B03", "B04", "B08", "SCL"], f"the collection's bands: {bands}")
    common = {b.get("name"): b.get("common_name") for b in meta.get("summaries", {}).get("eo:bands", [])}
    check(common.get("B04") == "red" and common.get("B08") == "nir", f"eo:bands common names: {common}")
    t = meta["cube:dimensions"]["t"]["extent"]
    check(t[0].startswith("2022-06-02") and t[1].startswith("2022-06-30"), f"t extent {t}")

    cube = con.load_collection("s2-bolzano", bands=["B04", "B08"], temporal_extent=["2022-06-01", "2022-07-01"],
                               spatial_extent={"west": 679720, "south": 5151080, "east": 680680, "north": 5151920, "crs": 32632})
    out = os.path.join(node.TMP, "ndvi_median.tif")
    cube.ndvi(nir="B08", red="B04").reduce_dimension(dimension="t", reducer="median").download(out, format="GTiff")
    ds = gdal.Open(out)
    got = ds.GetRasterBand(1).ReadAsArray().astype(np.float64)
    gt = ds.GetGeoTransform()
    ds = None
    dates = sorted(d for d in os.listdir(DATA) if d.isdigit())

    def band(d, name):
        b = gdal.Open(os.path.join(DATA, d, name + ".tif"))
        a = b.ReadAsArray().astype(np.float64)
        g = b.GetGeoTransform()
        b = None
        return a, g

    ndvis = []
    for d in dates:
        (red, g), (nir, _) = band(d, "B04"), band(d, "B08")
        with np.errstate(invalid="ignore", divide="ignore"):
            ndvis.append((nir - red) / (nir + red))
    full = np.median(np.array(ndvis), axis=0)
    c0, r0 = round((gt[0] - g[0]) / g[1]), round((gt[3] - g[3]) / g[5])
    ref = full[r0:r0 + got.shape[0], c0:c0 + got.shape[1]]
    check(got.shape == ref.shape and got.shape[0] >= 84 and got.shape[1] >= 96, f"the suite's bbox as cells: {got.shape} at ({c0}, {r0})")
    worst = float(np.nanmax(np.abs(got - ref))) if got.shape == ref.shape else float("inf")
    check(worst < 1e-6, f"median NDVI over t equals numpy's: worst {worst:.1e}")
    print(f"12 dates, {got.shape[1]} x {got.shape[0]} cells, worst |sco - numpy| {worst:.1e}")
    # The extent's CRS as the openEO test suite sends it ("EPSG:32632", a string): the same cells.
    by_text = con.load_collection("s2-bolzano", bands=["B04"], temporal_extent=["2022-06-01", "2022-06-03"],
                                  spatial_extent={"west": 679720, "south": 5151080, "east": 680680, "north": 5151920, "crs": "EPSG:32632"})
    out2 = os.path.join(node.TMP, "b04.tif")
    by_text.download(out2, format="GTiff")
    ds2 = gdal.Open(out2)
    b04 = ds2.GetRasterBand(1).ReadAsArray().astype(np.float64)
    gt2 = ds2.GetGeoTransform()
    ds2 = None
    red0, g0 = band(dates[0], "B04")
    c1, r1 = round((gt2[0] - g0[0]) / g0[1]), round((gt2[3] - g0[3]) / g0[5])
    check(b04.shape == got.shape and np.array_equal(b04, red0[r1:r1 + b04.shape[0], c1:c1 + b04.shape[1]]),
          f"crs given as 'EPSG:32632': the same {got.shape} cells of 2022-06-02's B04: {b04.shape}")
    # A cube whose bands were reduced: one netCDF variable "var" over (t, y, x), as other back-ends write it
    # (what the openEO test suite's readers expect); its values the day's NDVI.
    two = con.load_collection("s2-bolzano", bands=["B04", "B08"], temporal_extent=["2022-06-01", "2022-06-03"],
                              spatial_extent={"west": 679720, "south": 5151080, "east": 680680, "north": 5151920, "crs": 32632})
    nd = two.reduce_dimension(dimension="bands", reducer=lambda d: (d.array_element(1) - d.array_element(0)) / (d.array_element(1) + d.array_element(0)))
    nc = os.path.join(node.TMP, "ndvi.nc")
    nd.download(nc, format="netCDF")
    ds3 = gdal.OpenEx(nc, gdal.OF_MULTIDIM_RASTER)
    var = ds3.GetRootGroup().OpenMDArray("var")
    dims = [d.GetName() for d in var.GetDimensions()] if var else []
    day = var.ReadAsArray()[0].astype(np.float64) if var else None
    ds3 = None
    nir0, _ = band(dates[0], "B08")
    with np.errstate(invalid="ignore", divide="ignore"):
        want = ((nir0 - red0) / (nir0 + red0))[r1:r1 + b04.shape[0], c1:c1 + b04.shape[1]]
    same = day is not None and day.shape == want.shape and float(np.nanmax(np.abs(day - want))) < 1e-6
    check(dims == ["t", "y", "x"] and same, f"bands reduced: netCDF variable 'var' over {dims}, the day's NDVI: {same}")
    dimension_processes(con, dates, band, (r1, c1), b04.shape)
    try:
        con.load_collection("s2-bolzano", bands=["B04"], spatial_extent={"west": 0, "south": 0, "east": 1, "north": 1, "crs": "EPSG:nope"}
                            ).download(os.path.join(node.TMP, "bad.tif"), format="GTiff")
        check(False, "a crs that is no CRS is refused")
    except OpenEoApiError as e:
        check(e.http_status_code == 400 and e.code == "ProcessArgumentInvalid" and "crs" in e.message, f"a crs that is no CRS: {e}")
finally:
    node.stop()
    node.remove()
check.finish()
