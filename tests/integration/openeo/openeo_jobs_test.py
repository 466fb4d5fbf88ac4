#!/usr/bin/env python3
"""openEO batch jobs, user-defined processes and validation, through the official openEO Python client
(`openeo`, pinned in tests/requirements.txt, run from .venv) against `sco serve`:
- a batch NDVI over a three-date series: one cloud-optimised GeoTIFF per date whose values equal
  numpy's, a results STAC item whose checksums match the downloaded files and whose signature
  `sco verify` accepts, logs, and results seen by their owner only;
- netCDF: one CF file with the three dates on its time axis and the series' values;
- the queue: one job at a time, fair between users (a second user's job runs before the first user's
  later ones), at most 3 jobs per user (429), a running job cancelled (its files gone);
- a node killed during a job: after the restart the job failed with the reason, the queued ones run;
- user-defined processes (PUT /process_graphs) called from a graph, private to their owner;
  /validation; bad bodies (JSON with line and column, unknown processes) refused at creation.

Usage: openeo_jobs_test.py SCO SAMPLE_DIR   (exits 77 when the client is not installed)
"""
import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from reference import Checks  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from node_fixture import Node, openeo_client, wait_status, with_gdal  # noqa: E402

check = Checks()
openeo, OpenEoApiError = openeo_client(check)

node = Node(sys.argv[1], sys.argv[2], "sco-openeo-jobs-")
node.populate()
TMP, CAT = node.TMP, node.CAT
node.add_big_scene(5000)


def request(method, url, token=None, body=None):
    req = urllib.request.Request(url, method=method, data=None if body is None else body.encode())
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def heavy(con):
    return con.load_collection("big").apply(lambda x: x * 2 + 1).apply(lambda x: x * 0.5)


root = node.start("--openeo-jobs", "1", "--openeo-jobs-per-user", "3")
try:
    ana = openeo.connect(root).authenticate_basic("ana", Node.PASSWORDS["ana"])
    rui = openeo.connect(root).authenticate_basic("rui", Node.PASSWORDS["rui"])
    ana_token = ana.auth.bearer.split("//", 1)[1]
    rui_token = rui.auth.bearer.split("//", 1)[1]

    # A batch NDVI over three dates: a GeoTIFF per date.
    job = ana.load_collection("series", bands=["B3", "B4"]).ndvi().create_job(out_format="GTiff", title="NDVI of the series")
    check(job.status() == "created", f"a new job is created: {job.status()}")
    job.start_and_wait(max_poll_interval=0.5, print=lambda *a, **k: None)
    check(job.status() == "finished", f"the job finished: {job.status()}")
    results = job.get_results()
    meta = results.get_metadata()
    tifs = sorted(k for k in meta["assets"] if k.endswith(".tif"))
    check(tifs == ["result-2021-01-01.tif", "result-2021-02-01.tif", "result-2021-03-01.tif"], f"one GeoTIFF per date: {tifs}")
    check(meta["type"] == "Feature" and "provenance.json" in meta["assets"] and "signature" in json.dumps(meta), "the results are a signed STAC item")
    out_dir = os.path.join(TMP, "results")
    files = results.download_files(out_dir)
    bad_sums = [k for k, a in meta["assets"].items()
                if "1220" + hashlib.sha256(open(os.path.join(out_dir, k), "rb").read()).hexdigest() != a["file:checksum"]]
    check(len(meta["assets"]) == 4 and len(files) >= 4 and not bad_sums, f"the 4 downloaded files match their checksums (bad: {bad_sums})")
    d = with_gdal("""
scene = gdal.Open(V["scene"])
red = scene.GetRasterBand(3).ReadAsArray().astype(np.float64)
nir = scene.GetRasterBand(4).ReadAsArray().astype(np.float64)
worst = 0.0
for k, f in enumerate([1.0, 0.5, 0.25]):
    got = gdal.Open(V["dir"] + f"/result-2021-0{k + 1}-01.tif")
    a = got.GetRasterBand(1).ReadAsArray().astype(np.float64)
    n = np.floor(nir * f)
    with np.errstate(invalid="ignore", divide="ignore"):
        e = (n - red) / (n + red)
    ok = np.isfinite(e)
    worst = max(worst, float(np.max(np.abs(a[ok] - e[ok]))))
    assert got.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE") == "COG"
print(json.dumps(worst))
""", scene=node.scene, dir=out_dir)
    check(d is not None and d < 1e-6, f"each date's NDVI equals numpy's (max difference {d}); each file is a COG")
    item_file = os.path.join(TMP, "item.json")
    json.dump(meta, open(item_file, "w"))
    v = node.sco("--json", "verify", item_file, "--token", ana_token, "--from", root, ok=False)
    check(v.returncode == 0 and json.loads(v.stdout)["verified"] == 1, f"sco verify accepts the signature and the fetched files: {v.stdout} {v.stderr}")
    logs = job.logs()
    check(any("ndvi" in e["message"] for e in logs) and logs[-1]["message"].startswith("finished"), f"the logs tell each node: {[e['message'] for e in logs]}")
    # The results are their owner's: neither another user nor an anonymous caller sees them.
    asset_url = meta["assets"]["result-2021-01-01.tif"]["href"]
    check(request("GET", asset_url, rui_token)[0] in (403, 404) and request("GET", asset_url)[0] == 401, "another user's results are refused")
    check("openeo-ana" in ana.list_collection_ids() and "openeo-ana" not in rui.list_collection_ids(), "the results collection is the owner's only")
    check(request("GET", f"{root}/openeo/1.2/jobs/{job.job_id}", rui_token)[0] == 404, "another user's job does not exist for them")
    check(job.job_id not in [j["id"] for j in rui.list_jobs()] and job.job_id in [j["id"] for j in ana.list_jobs()], "job lists are per user")

    # netCDF: one file, CF time axis.
    nc_job = ana.load_collection("series", bands=["B4"]).create_job(out_format="netCDF")
    nc_job.start_and_wait(max_poll_interval=0.5, print=lambda *a, **k: None)
    nc_dir = os.path.join(TMP, "nc")
    nc_job.get_results().download_files(nc_dir)
    nc = with_gdal("""
ds = gdal.OpenEx(V["path"], gdal.OF_MULTIDIM_RASTER)
rg = ds.GetRootGroup()
t = rg.OpenMDArray("t")
b4 = rg.OpenMDArray("B4").ReadAsArray()
units = t.GetUnit()
scene = gdal.Open(V["scene"])
nir = scene.GetRasterBand(4).ReadAsArray().astype(np.float64)
diff = max(float(np.max(np.abs(b4[k] - np.floor(nir * f)))) for k, f in enumerate([1.0, 0.5, 0.25]))
print(json.dumps({"t": t.ReadAsArray().tolist(), "units": units, "shape": list(b4.shape), "diff": diff}))
""", path=os.path.join(nc_dir, "result.nc"), scene=node.scene)
    check(nc["t"] == [18628.0, 18659.0, 18687.0] and nc["units"].startswith("days since 1970-01-01"), f"netCDF time axis: {nc['t']} {nc['units']}")
    check(nc["shape"][0] == 3 and nc["diff"] == 0, f"netCDF values equal the series' B4: {nc}")

    # The queue: one slot. ana starts three heavy jobs, then rui one: rui's runs second.
    ana_jobs = [heavy(ana).create_job(out_format="GTiff", title=f"heavy {k}") for k in range(3)]
    for j in ana_jobs:
        j.start()
    extra = heavy(ana).create_job(out_format="GTiff")
    try:
        extra.start()
        check(False, "a fourth job of one user is queued")
    except OpenEoApiError as e:
        check(e.http_status_code == 429 and e.code == "TooManyJobs", f"the fourth job: {e.http_status_code} {e.code}")
    rui_job = heavy(rui).create_job(out_format="GTiff")
    rui_job.start()
    check(wait_status(ana_jobs[0], {"running", "finished"}) == "running", "the first job runs")
    # Cancel the running job: canceled, its folder gone; then rui's job runs, not ana's second.
    ana_jobs[0].stop()
    check(ana_jobs[0].status() == "canceled", f"cancelled while running: {ana_jobs[0].status()}")
    check(not os.path.exists(os.path.join(CAT, "openeo", "jobs", ana_jobs[0].job_id)), "a cancelled job leaves no file")
    check(wait_status(rui_job, {"running", "finished"}) in ("running", "finished") and ana_jobs[1].status() == "queued",
          f"the other user's job runs next (rui: {rui_job.status()}, ana's second: {ana_jobs[1].status()})")
    # Killed mid-job: after the restart the running job failed with the reason, the queued ones run.
    # Whichever job runs at that moment (on a fast machine rui's may already be done).
    running, end = None, time.time() + 120
    while running is None and time.time() < end:
        running = next((j for j in (rui_job, ana_jobs[1], ana_jobs[2]) if j.status() == "running"), None)
    check(running is not None, "a job is running when the node is killed")
    node.kill()
    root = node.start("--openeo-jobs", "1")
    ana = openeo.connect(root).authenticate_basic("ana", Node.PASSWORDS["ana"])
    rui = openeo.connect(root).authenticate_basic("rui", Node.PASSWORDS["rui"])
    killed = (rui if running is rui_job else ana).job(running.job_id)
    check(killed.status() == "error" and "node stopped" in killed.logs()[-1]["message"], f"the killed job failed with the reason: {killed.logs()[-1]}")
    check(not os.path.exists(os.path.join(CAT, "openeo", "jobs", running.job_id)), "its partial files are gone")
    for j in ana_jobs[1:]:
        if j.job_id != running.job_id:
            check(wait_status(ana.job(j.job_id), {"finished", "error"}, 300) == "finished", f"a queued job resumed after the restart and finished")
    ana.job(ana_jobs[2].job_id).delete()
    check(request("GET", f"{root}/openeo/1.2/jobs/{ana_jobs[2].job_id}", ana.auth.bearer.split("//", 1)[1])[0] == 404, "a deleted job is gone")

    # User-defined processes: ana's "ndvi_mean" (NDVI, then the mean over time) called from a graph.
    udp = {"process_graph": {
        "n": {"process_id": "ndvi", "arguments": {"data": {"from_parameter": "data"}}},
        "m": {"process_id": "reduce_dimension", "arguments": {"data": {"from_node": "n"}, "dimension": "t",
                                                               "reducer": {"process_graph": {"mean": {"process_id": "mean", "arguments": {"data": {"from_parameter": "data"}}, "result": True}}}},
              "result": True}},
        "parameters": [{"name": "data", "description": "a cube with red and nir", "schema": {"type": "object", "subtype": "datacube"}}],
        "summary": "mean NDVI"}
    ana.save_user_defined_process("ndvi_mean", udp["process_graph"], parameters=udp["parameters"], summary="mean NDVI")
    check([p["id"] for p in ana.list_user_defined_processes()] == ["ndvi_mean"], "the process is listed for its owner")
    check(rui.list_user_defined_processes() == [], "and not for another user")
    via_udp = os.path.join(TMP, "udp.tif")
    ana.datacube_from_process("ndvi_mean", data=ana.load_collection("series", bands=["B3", "B4"])).download(via_udp, format="GTiff")
    direct = os.path.join(TMP, "direct.tif")
    ana.load_collection("series", bands=["B3", "B4"]).ndvi().reduce_dimension("t", reducer="mean").download(direct, format="GTiff")
    same = with_gdal("""
da, db = gdal.Open(V["a"]), gdal.Open(V["b"])  # the bindings crash if a band outlives its dataset
a, b = da.GetRasterBand(1).ReadAsArray(), db.GetRasterBand(1).ReadAsArray()
print(json.dumps(bool(a.shape == b.shape and np.array_equal(np.nan_to_num(a, nan=-9), np.nan_to_num(b, nan=-9)))))
""", a=via_udp, b=direct)
    check(same, "a graph calling the user-defined process equals the same graph written out")
    try:
        rui.datacube_from_process("ndvi_mean", data=rui.load_collection("series", bands=["B3", "B4"])).download(os.path.join(TMP, "x.tif"), format="GTiff")
        check(False, "another user calls ana's process")
    except OpenEoApiError as e:
        check(e.code == "ProcessUnsupported", f"another user's process is unknown to them: {e.code}")

    # Validation and bad bodies.
    good = ana.load_collection("series", bands=["B4"]).reduce_dimension("t", reducer="max").flat_graph()
    check(ana.validate_process_graph(good) == [], "a valid graph validates")
    errs = ana.validate_process_graph({"a": {"process_id": "nope", "arguments": {}, "result": True}})
    check(len(errs) == 1 and errs[0]["code"] == "ProcessUnsupported", f"an unknown process: {errs}")
    status, _, body = request("POST", f"{root}/openeo/1.2/jobs", ana.auth.bearer.split("//", 1)[1], '{"process":\n {"process_graph": {,}}}')
    err = json.loads(body)
    check(status == 400 and err["code"] == "JsonInvalid" and "line 2" in err["message"], f"malformed JSON: {status} {err}")
    status, headers, body = request("POST", f"{root}/openeo/1.2/jobs", ana.auth.bearer.split("//", 1)[1],
                                    json.dumps({"process": {"process_graph": {"a": {"process_id": "nope", "arguments": {}, "result": True}}}}))
    check(status == 400 and json.loads(body)["code"] == "ProcessUnsupported", f"a job with an unknown process is refused at creation: {status}")
    status, headers, body = request("POST", f"{root}/openeo/1.2/jobs", ana.auth.bearer.split("//", 1)[1], json.dumps({"process": {"process_graph": good}}))
    check(status == 201 and headers.get("OpenEO-Identifier") and headers.get("Location", "").endswith("/jobs/" + headers.get("OpenEO-Identifier", "")),
          f"201 with Location and OpenEO-Identifier: {status} {headers.get('Location')}")
    audit = open(os.path.join(CAT, "audit.log")).read()
    check(all(f'"{e}"' in audit for e in ("openeo.job.create", "openeo.job.start", "openeo.job.register", "openeo.job.delete")), "jobs are audited")
finally:
    log = node.stop()
    node.remove()
check("Sanitizer" not in log, "the server ran without a sanitizer report: " + log[log.find("Sanitizer") - 200:][:2000])
check.finish()
