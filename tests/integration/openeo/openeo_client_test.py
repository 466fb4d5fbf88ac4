#!/usr/bin/env python3
"""The node as an openEO back-end, through the official openEO Python client (`openeo`, pinned in
tests/requirements.txt, run from .venv): synchronous processing (NDVI equal to `sco index ndvi`, a
temporal mean equal to numpy's, bad graphs with their openEO codes), discovery through /.well-known/openeo, the capabilities, the
collections as data cubes with the sample scene's bands, HTTP Basic logins of `sco user` users
(Argon2id-hashed passwords, tokens sent back as Bearer basic//TOKEN), /me, and visibility: a private
collection exists only for an admin.

Usage: openeo_client_test.py SCO SAMPLE_DIR   (exits 77 when the client is not installed)
"""
import json
import os
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from reference import Checks  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from node_fixture import Node, openeo_client, with_gdal  # noqa: E402

check = Checks()
openeo, OpenEoApiError = openeo_client(check)

node = Node(sys.argv[1], sys.argv[2], "sco-openeo-")
SCO, SAMPLE, TMP, CAT, sco = node.SCO, node.SAMPLE, node.TMP, node.CAT, node.sco
node.populate()
scene = node.scene
ref_ndvi = os.path.join(TMP, "ndvi_ref.tif")
sco("index", "ndvi", "--input", scene, "--sensor", "landsat7", "-o", ref_ndvi)

# Synchronous requests up to 2 million cells (the series' 3 dates x 6 bands x 122848 pixels are more).
root = node.start("--openeo-sync-max-cells", "2000000")
try:

    # Discovery from the server's root, as clients and the Web Editor do.
    con = openeo.connect(root)
    caps = con.capabilities()
    check(caps.api_version() == "1.2.0", f"api_version {caps.api_version()}")
    check(con.root_url.rstrip("/").endswith("/openeo/1.2"), f"the client found the versioned API: {con.root_url}")
    check(caps.supports_endpoint("/credentials/basic", "GET"), "the capabilities list /credentials/basic")
    check(caps.supports_endpoint("/jobs", "POST") and caps.supports_endpoint("/jobs/{job_id}/results", "DELETE"), "the capabilities list batch jobs")
    check(not caps.supports_endpoint("/services", "POST"), "the capabilities list no endpoint the node does not have (secondary services)")

    # Collections as data cubes, filtered by visibility.
    ids = con.list_collection_ids()
    check("landsat7-olinda" in ids and "internal" not in ids, f"anonymous collections: {ids}")
    meta = con.describe_collection("landsat7-olinda")
    dims = meta.get("cube:dimensions", {})
    check(set(dims) == {"x", "y", "t", "bands"}, f"cube dimensions {sorted(dims)}")
    check(dims.get("bands", {}).get("values") == ["B1", "B2", "B3", "B4", "B5", "B7"], f"Landsat-7 bands: {dims.get('bands')}")
    west, east = dims["x"]["extent"]
    check(-35.0 < west < east < -34.7, f"x extent over Olinda: {dims['x']['extent']}")
    check(dims["t"]["extent"][0].startswith("2021-01-01"), f"t extent {dims['t']['extent']}")
    cube_meta = con.collection_metadata("landsat7-olinda")
    check(cube_meta.band_names == ["B1", "B2", "B3", "B4", "B5", "B7"], f"the client reads the bands: {cube_meta.band_names}")
    eo = con.describe_collection("landsat7-olinda").get("summaries", {}).get("eo:bands", [])
    check([b.get("common_name") for b in eo][2:4] == ["red", "nir"], f"summaries give eo:bands with common names: {eo[2:4]}")
    try:
        con.describe_collection("internal")
        check(False, "a private collection is described to anonymous callers")
    except OpenEoApiError as e:
        check(e.http_status_code == 404 and e.code == "CollectionNotFound", f"private collection: {e.http_status_code} {e.code}")

    # Logins: a wrong password is refused; the reader sees what readers see; the admin all.
    try:
        openeo.connect(root).authenticate_basic("ana", "wrong password")
        check(False, "a wrong password logs in")
    except OpenEoApiError as e:
        check(e.http_status_code == 403 and e.code == "CredentialsInvalid", f"wrong password: {e.http_status_code} {e.code}")
    reader = openeo.connect(root).authenticate_basic("rui", "another long one")
    check(reader.describe_account()["user_id"] == "rui", "/me of the reader")
    check("internal" not in reader.list_collection_ids(), "a reader does not see private collections")
    admin = openeo.connect(root).authenticate_basic("ana", "correct horse battery")
    check(admin.describe_account()["user_id"] == "ana", "/me of the admin")
    check("internal" in admin.list_collection_ids(), "the admin sees the private collection")
    check(admin.describe_collection("internal")["id"] == "internal", "the admin describes it")
    # Processing, synchronously: NDVI over a box of Olinda equals `sco index ndvi` on the same cells.
    box = {"west": -34.88, "south": -8.03, "east": -34.84, "north": -7.99}
    check(any(p["id"] == "ndvi" for p in admin.list_processes()), "ndvi among the processes")
    got_path = os.path.join(TMP, "ndvi_openeo.tif")
    admin.load_collection("landsat7-olinda", spatial_extent=box, bands=["B3", "B4"]).ndvi().download(got_path, format="GTiff")
    cmp = with_gdal("""
got, ref = gdal.Open(V["got"]), gdal.Open(V["ref"])
a, b = got.GetRasterBand(1).ReadAsArray(), window(got, ref, 1)
same = a.shape == b.shape and bool(np.array_equal(np.nan_to_num(a, nan=-9), np.nan_to_num(b, nan=-9)))
print(json.dumps({"shape": list(a.shape), "same": same, "pixels": int(a.size)}))
""", got=got_path, ref=ref_ndvi)
    check(cmp["pixels"] > 1000 and cmp["same"], f"NDVI of a {cmp['shape']} window equals sco index ndvi cell by cell: {cmp}")
    # GTiff options (GET /file_formats): no compression, no overviews; an unknown option refused.
    plain_path = os.path.join(TMP, "ndvi_plain.tif")
    admin.load_collection("landsat7-olinda", spatial_extent=box, bands=["B3", "B4"]).ndvi().save_result(
        format="GTiff", options={"COMPRESS": "NONE", "OVERVIEWS": "NONE"}).download(plain_path)
    info = with_gdal("""
ds = gdal.Open(V["path"])
print(json.dumps({"compression": ds.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE"), "overviews": ds.GetRasterBand(1).GetOverviewCount(),
                  "layout": ds.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE")}))
""", path=plain_path)
    check(info["compression"] is None and info["overviews"] == 0 and info["layout"] == "COG", f"GTiff options COMPRESS=NONE, OVERVIEWS=NONE: {info}")
    try:
        admin.load_collection("landsat7-olinda", spatial_extent=box, bands=["B4"]).save_result(format="GTiff", options={"PHOTOMETRIC": "RGB"}).download(os.path.join(TMP, "bad.tif"))
        check(False, "an unknown GTiff option is accepted")
    except OpenEoApiError as e:
        check(e.code == "FormatArgumentInvalid" and "PHOTOMETRIC" in e.message, f"an unknown GTiff option: {e.code} {e.message}")
    # A temporal mean of B4 over the three dates: (1 + 0.5 + 0.25) / 3 of the scene's NIR, floored per date.
    mean_path = os.path.join(TMP, "mean_openeo.tif")
    admin.load_collection("series", bands=["B4"]).reduce_dimension(dimension="t", reducer="mean").download(mean_path, format="GTiff")
    diff = with_gdal("""
scene, mean = gdal.Open(V["scene"]), gdal.Open(V["mean"])  # the bindings crash if a band outlives its dataset
nir = scene.GetRasterBand(4).ReadAsArray().astype(np.float64)
m = mean.GetRasterBand(1).ReadAsArray().astype(np.float64)
expected = (np.floor(nir) + np.floor(nir * 0.5) + np.floor(nir * 0.25)) / 3
print(json.dumps({"diff": float(np.nanmax(np.abs(m - expected))) if m.shape == expected.shape else None,
                  "layout": mean.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE"), "compression": mean.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE"),
                  "band": mean.GetRasterBand(1).GetDescription(), "overviews": mean.GetRasterBand(1).GetOverviewCount()}))
""", scene=os.path.join(SAMPLE, "L7_ETMs.tif"), mean=mean_path)
    check(diff["diff"] is not None and diff["diff"] < 1e-4, f"temporal mean of B4 over three dates: max difference {diff['diff']}")
    # Written by the reduction itself as the result (save_result its only user): still save_result's COG.
    check(diff["layout"] == "COG" and diff["compression"] == "DEFLATE" and diff["band"] == "B4",
          f"the temporal mean is a COG with DEFLATE and its band named: {diff}")
    # apply, compiled to one band-math expression; filter_temporal and filter_bbox.
    apply_path = os.path.join(TMP, "apply.tif")
    admin.load_collection("series", bands=["B4"]).filter_temporal(["2021-02-01", "2021-03-01"]).filter_bbox(box).apply(
        lambda x: x * 0.5 + 1).download(apply_path, format="GTiff")
    d = with_gdal("""
scene, got = gdal.Open(V["scene"]), gdal.Open(V["got"])
a = got.GetRasterBand(1).ReadAsArray().astype(np.float64)
nir = window(got, scene, 4).astype(np.float64)
print(json.dumps({"shape": list(a.shape), "diff": float(np.max(np.abs(a - (np.floor(nir * 0.5) * 0.5 + 1))))}))
""", scene=os.path.join(SAMPLE, "L7_ETMs.tif"), got=apply_path)
    check(d["shape"][0] * d["shape"][1] > 1000 and d["diff"] < 1e-6, f"apply(x * 0.5 + 1) on February's B4 in the box: {d}")
    # Band math as the client writes it: reduce_dimension over bands, the callback compiled to one
    # expression. (B4 - B3) / (B4 + B3) equals `sco index ndvi`; a mask where B4 > 60 becomes nodata.
    bm_path = os.path.join(TMP, "bandmath.tif")
    c = admin.load_collection("landsat7-olinda", spatial_extent=box, bands=["B3", "B4"])
    ((c.band("B4") - c.band("B3")) / (c.band("B4") + c.band("B3"))).download(bm_path, format="GTiff")
    masked_path = os.path.join(TMP, "masked.tif")
    b4 = admin.load_collection("landsat7-olinda", spatial_extent=box, bands=["B4"])
    b4.mask(b4.band("B4") > 60).download(masked_path, format="GTiff")
    r = with_gdal("""
got, ref, m, scene = gdal.Open(V["got"]), gdal.Open(V["ref"]), gdal.Open(V["masked"]), gdal.Open(V["scene"])
a, b = got.GetRasterBand(1).ReadAsArray(), window(got, ref, 1)
nir = window(got, scene, 4).astype(np.float64)
mv = m.GetRasterBand(1).ReadAsArray()
expected = np.where(nir > 60, np.nan, nir)
print(json.dumps({"same": bool(a.shape == b.shape and np.allclose(np.nan_to_num(a, nan=-9), np.nan_to_num(b, nan=-9), atol=1e-6)),
                  "masked": int(np.isnan(mv).sum()), "expected": int((nir > 60).sum()),
                  "mask_same": bool(np.array_equal(np.nan_to_num(mv, nan=-9), np.nan_to_num(expected, nan=-9)))}))
""", got=bm_path, ref=ref_ndvi, masked=masked_path, scene=scene)
    check(r["same"], "reduce_dimension over bands ((B4 - B3) / (B4 + B3)) equals sco index ndvi")
    check(r["mask_same"] and 0 < r["masked"] == r["expected"], f"mask(B4 > 60): {r['masked']} cells masked, {r['expected']} expected")

    # aggregate_temporal_period over the series (one date a month): by month, each month's own values;
    # by year, the mean of the three. Saved as netCDF (one file, CF time axis).
    per_month, per_year = os.path.join(TMP, "month.nc"), os.path.join(TMP, "year.nc")
    admin.load_collection("series", bands=["B4"]).aggregate_temporal_period("month", reducer="mean").download(per_month, format="netCDF")
    admin.load_collection("series", bands=["B4"]).aggregate_temporal_period("year", reducer="mean").download(per_year, format="netCDF")
    # resample_spatial to UTM 25S at 60 m, bilinear, equal to gdalwarp's warp of the same cells.
    warped = os.path.join(TMP, "warped.tif")
    admin.load_collection("landsat7-olinda", bands=["B4"]).resample_spatial(resolution=60, projection=32725, method="bilinear").download(warped, format="GTiff")
    t = with_gdal("""
def cube(path):
    ds = gdal.OpenEx(path, gdal.OF_MULTIDIM_RASTER)
    rg = ds.GetRootGroup()
    return rg.OpenMDArray("t").ReadAsArray().tolist(), rg.OpenMDArray("B4").ReadAsArray().astype(np.float64)
mt, mv = cube(V["month"])
yt, yv = cube(V["year"])
scene = gdal.Open(V["scene"])
nir = scene.GetRasterBand(4).ReadAsArray().astype(np.float64)
steps = [np.floor(nir * f) for f in (1.0, 0.5, 0.25)]
got = gdal.Open(V["warped"])
g = got.GetGeoTransform()
b4 = gdal.Translate("/vsimem/b4.vrt", scene, bandList=[4], format="VRT")
# gdalwarp with its defaults (the band's type, the approximate transformer) onto the same cells, as a
# VRT like sco's (GDAL's warp straight to a GeoTIFF chunks the source otherwise: up to 4 DN apart when
# this downsampling bilinear kernel spans chunk edges)
ref = gdal.Warp("/vsimem/ref.vrt", b4, format="VRT", dstSRS="EPSG:32725", width=got.RasterXSize, height=got.RasterYSize,
                outputBounds=(g[0], g[3] + got.RasterYSize * g[5], g[0] + got.RasterXSize * g[1], g[3]), resampleAlg="bilinear")
a, b = got.GetRasterBand(1).ReadAsArray(), ref.GetRasterBand(1).ReadAsArray().astype(np.float32)
ok = np.isfinite(a)
print(json.dumps({"month_t": mt, "month_diff": max(float(np.max(np.abs(mv[k] - steps[k]))) for k in range(3)),
                  "year_t": yt, "year_diff": float(np.max(np.abs(yv[0] - sum(steps) / 3))),
                  "warp_res": [g[1], g[5]], "warp_cells": int(ok.sum()), "warp_diff": float(np.max(np.abs(a[ok] - b[ok]))) if ok.any() else None}))
""", month=per_month, year=per_year, scene=scene, warped=warped)
    check(t["month_t"] == [18628.0, 18659.0, 18687.0] and t["month_diff"] == 0, f"aggregate_temporal_period by month: {t['month_t']}, {t['month_diff']}")
    check(t["year_t"] == [18628.0] and t["year_diff"] < 1e-4, f"aggregate_temporal_period by year: the mean of the three ({t['year_diff']})")
    check(t["warp_res"] == [60.0, -60.0] and t["warp_cells"] > 10000 and t["warp_diff"] == 0,
          f"resample_spatial to EPSG:32725 at 60 m equals gdalwarp: {t['warp_cells']} cells, max difference {t['warp_diff']}")

    # aggregate_spatial: the Olinda tracts (as GeoJSON, WGS 84) equal `sco zonal` on the same file.
    tracts = os.path.join(TMP, "tracts.geojson")
    with_gdal("""
gdal.VectorTranslate(V["out"], V["shp"], format="GeoJSON", dstSRS="EPSG:4326")
""", out=tracts, shp=os.path.join(SAMPLE, "olinda1.shp"))
    fc = json.load(open(tracts))
    zonal_path = os.path.join(TMP, "zonal_openeo.json")
    admin.load_collection("landsat7-olinda", bands=["B4"]).aggregate_spatial(geometries=fc, reducer="mean").download(zonal_path, format="JSON")
    rows = {r["id"]: r for r in json.load(open(zonal_path))}
    ref = json.loads(sco("--json", "zonal", "--raster", scene + ":4", "--zones", tracts, "--stats", "mean"))["zones"]
    check(len(rows) == len(ref) == len(fc["features"]) > 400, f"one row per tract: {len(rows)} vs {len(ref)}")
    # Equal to the last bits of a double: the cube is read through a VRT whose blocks order the sums differently.
    def same(a, b):
        return a is None and b is None or a is not None and b is not None and abs(a - b) <= 1e-12 * max(1.0, abs(b))
    differ = [(z["fid"], rows.get(str(z["fid"]), {}).get("B4"), z["mean"]) for z in ref if not same(rows.get(str(z["fid"]), {}).get("B4"), z["mean"])]
    check(not differ, f"aggregate_spatial mean equals sco zonal for every tract (differ: {differ[:5]})")
    # A built-in indicator as a predefined process: sco_urban_ndbi over the tracts equals `sco run urban.ndbi`.
    check(any(p["id"] == "sco_heat_trend" for p in admin.list_processes()), "the built-in indicators are processes (sco_heat_trend)")
    ind_path = os.path.join(TMP, "ndbi_openeo.json")
    admin.datacube_from_process("sco_urban_ndbi", scene=admin.load_collection("landsat7-olinda"), geometries=fc, sensor="landsat7").download(ind_path, format="JSON")
    sco("run", "urban.ndbi", "--input", "scene=" + scene, "--aoi", tracts, "--param", "sensor=landsat7", "--out", os.path.join(TMP, "ndbi_run"), "--no-register")
    run_rows = {str(f["properties"]["fid"]): f["properties"]
                for f in json.load(open(next(os.path.join(TMP, "ndbi_run", n) for n in sorted(os.listdir(os.path.join(TMP, "ndbi_run"))) if n.endswith(".geojson"))))["features"]}
    api_rows = {r["id"]: r for r in json.load(open(ind_path))}
    columns = [k for k in next(iter(api_rows.values())) if k not in ("id", "class")]
    differ = [(i, k) for i, r in api_rows.items() for k in columns
              if not same(r[k], run_rows.get(i, {}).get(k)) and not (r[k] is None and run_rows.get(i, {}).get(k) is None)]
    check(all(r.get("class") == run_rows[i]["class"] for i, r in api_rows.items()), "the districts' classes (a text column) too")
    check(len(api_rows) == len(run_rows) > 400 and columns and not differ, f"sco_urban_ndbi equals sco run urban.ndbi: {len(api_rows)} districts, columns {columns}, differ {differ[:5]}")
    geo_path = os.path.join(TMP, "zonal_openeo.geojson")
    admin.load_collection("landsat7-olinda", bands=["B4"]).aggregate_spatial(geometries=fc, reducer="max").download(geo_path, format="GeoJSON")
    gj = json.load(open(geo_path))
    check(gj["type"] == "FeatureCollection" and len(gj["features"]) == len(ref) and "B4" in gj["features"][0]["properties"], "GeoJSON vector cube")
    # Bad graphs: openEO error codes, the node named.
    for graph, status, code in [
        ({"a": {"process_id": "no_such_process", "arguments": {}, "result": True}}, 400, "ProcessUnsupported"),
        ({"l": {"process_id": "load_collection", "arguments": {"id": "nope"}},
          "s": {"process_id": "save_result", "arguments": {"data": {"from_node": "l"}, "format": "GTiff"}, "result": True}}, 404, "CollectionNotFound"),
        ({"l": {"process_id": "load_collection", "arguments": {"id": "series", "bands": ["B4"]}},
          "s": {"process_id": "save_result", "arguments": {"data": {"from_node": "l"}, "format": "GTiff"}, "result": True}}, 400, "DataCubeTooLarge"),
        ({"l": {"process_id": "load_collection", "arguments": {"id": "series"}},
          "s": {"process_id": "save_result", "arguments": {"data": {"from_node": "l"}, "format": "GTiff"}, "result": True}}, 400, "ProcessGraphComplexity"),
        ({"l": {"process_id": "load_collection", "arguments": {}},
          "s": {"process_id": "save_result", "arguments": {"data": {"from_node": "l"}, "format": "GTiff"}, "result": True}}, 400, "ProcessArgumentRequired"),
        ({"a": {"process_id": "ndvi", "arguments": {"data": {"from_node": "b"}}},
          "b": {"process_id": "ndvi", "arguments": {"data": {"from_node": "a"}}, "result": True}}, 400, "ProcessGraphInvalid")]:
        try:
            admin.download(graph, os.path.join(TMP, "bad.tif"))
            check(False, f"{code}: accepted")
        except OpenEoApiError as e:
            check(e.http_status_code == status and e.code == code, f"{code}: got {e.http_status_code} {e.code} {e.message}")
    try:
        con.load_collection("landsat7-olinda", bands=["B4"]).download(os.path.join(TMP, "anon.tif"), format="GTiff")
        check(False, "an anonymous caller processes")
    except OpenEoApiError as e:
        check(e.http_status_code == 401, f"anonymous /result: {e.http_status_code}")
    # The same API answers browsers: CORS exposes the headers openEO clients read.
    with urllib.request.urlopen(root + "/openeo/1.2/", timeout=10) as r:
        exposed = r.headers.get("Access-Control-Expose-Headers", "")
    check(all(h in exposed for h in ("Location", "OpenEO-Identifier", "OpenEO-Costs", "Link")), f"exposed headers: {exposed}")
    # Logins are audited; passwords are never stored in clear.
    audit = open(os.path.join(CAT, "audit.log")).read()
    check(audit.count('"openeo.login"') == 2, "two logins audited")
    users = open(os.path.join(CAT, "users.json")).read()
    check("correct horse" not in users and "$argon2id$" in users, "passwords stored as Argon2id hashes only")
    removed = subprocess.run([SCO, "--catalog", CAT, "user", "remove", "rui"], capture_output=True, text=True)
    check(removed.returncode == 0, f"sco user remove: {removed.stderr}")
    try:
        reader.describe_account()
        check(False, "a removed user's login token still works")
    except OpenEoApiError as e:
        check(e.http_status_code == 401, f"removed user's token: {e.http_status_code}")
finally:
    log = node.stop()
    node.remove()
# Under the sanitizers (scripts/sanitize.sh), the server's own reports count too (leaks at exit).
check("Sanitizer" not in log, "the server ran without a sanitizer report: " + log[log.find("Sanitizer") - 200:][:2000])
check.finish()
