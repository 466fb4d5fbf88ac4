#!/usr/bin/python3
"""sco's openEO endpoint against openeo-processes-dask (+ openeo-pg-parser-networkx), the same process
graphs, one run, wall time and peak memory side by side:
- NDVI of a Sentinel-2-sized two-band scene (10980 x 10980 UInt16, bench/ndvi's input) to a
  cloud-optimised GeoTIFF (DEFLATE, overviews), and the same without compression and overviews;
- the temporal mean of a 36-date cube (36 x 2000 x 2000 Float32, from the Landsat sample's NIR);
- aggregate_spatial mean of the zonal benchmark's 20053 x 20226 Float32 NDVI over 11750 tracts;
- a tiny synchronous graph (NDVI of 64 x 64 cells): the median over 50 requests of capabilities then
  /result, over one keep-alive connection.
sco runs each graph through `sco serve` (POST /openeo/1.2/result with limits raised, sent by curl,
which saves the result to a file as a client does), a server per graph so that its peak RSS
(/usr/bin/time) is that graph's; processes-dask runs pgd_run.py under
/usr/bin/time with its own load_collection (rioxarray + Dask) and save_result. Both write the same
result files; their values are compared.

Setup: bash scripts/install-deps.sh --bench (makes bench/.venv-openeo from bench/openeo/requirements.txt).
Usage: /usr/bin/python3 bench/openeo/run.py [--markdown FILE] [--skip-pgd-zonal | --skip-pgd] [--pgd-timeout S]
"""
import argparse
import base64
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from osgeo import gdal, ogr

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from bench_common import emit_table, warm  # noqa: E402

gdal.UseExceptions()
OUT = os.path.join(ROOT, "bench", "out", "openeo")
PGD_PYTHON = os.environ.get("SCO_PGD_PYTHON", os.path.join(ROOT, "bench", ".venv-openeo", "bin", "python"))


def make_inputs(sco):
    sample = os.path.join(ROOT, "data", "sample")
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "ndvi", "make_inputs.py"), sample, os.path.join(ROOT, "bench", "out", "ndvi")], check=True)
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "zonal", "make_inputs.py"), sco, sample, os.path.join(ROOT, "bench", "out", "zonal")], check=True)
    cube_dir = os.path.join(OUT, "cube36")
    os.makedirs(cube_dir, exist_ok=True)
    src = gdal.Open(os.path.join(sample, "L7_ETMs.tif"))
    nir = src.GetRasterBand(4).ReadAsArray().astype(np.float32)
    big = np.tile(nir, (2000 // nir.shape[0] + 1, 2000 // nir.shape[1] + 1))[:2000, :2000]
    for k in range(36):
        path = os.path.join(cube_dir, f"nir_{2020 + k // 12}-{k % 12 + 1:02}-01.tif")
        if os.path.exists(path):
            continue
        ds = gdal.GetDriverByName("GTiff").Create(path + ".part.tif", 2000, 2000, 1, gdal.GDT_Float32, ["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512"])
        ds.SetGeoTransform([288776.25, 28.5, 0, 9120760.75, 0, -28.5])
        ds.SetProjection(src.GetProjection())
        ds.GetRasterBand(1).WriteArray(big * (1 + 0.01 * k))
        ds = None
        os.rename(path + ".part.tif", path)
    # In WGS 84 without a "crs" member (RFC 7946): openeo-pg-parser-networkx reads any "crs" as a bbox's.
    tracts = os.path.join(OUT, "tracts_x25_wgs84.geojson")
    if not os.path.exists(tracts):
        gdal.VectorTranslate(tracts, os.path.join(ROOT, "bench", "out", "zonal", "olinda_tracts_x25.gpkg"), format="GeoJSON", dstSRS="EPSG:4326",
                             layerCreationOptions=["RFC7946=YES"])
    return cube_dir, tracts


def setup_catalog(sco, cube_dir):
    cat = os.path.join(OUT, "catalog")
    s2 = os.path.join(ROOT, "bench", "out", "ndvi", "s2size_red_nir.tif")
    ndvi20k = os.path.join(ROOT, "bench", "out", "zonal", "olinda_ndvi_20000.tif")
    for path, coll, extra in ((s2, "s2", ["--datetime", "2022-06-01"]), (cube_dir, "cube36", []), (ndvi20k, "ndvi20k", ["--datetime", "2021-01-01"])):
        subprocess.run([sco, "--quiet", "--catalog", cat, "ingest", path, "--collection", coll] + extra, check=True)
    if subprocess.run([sco, "--catalog", cat, "user", "list"], capture_output=True, text=True).stdout.find("bench") < 0:
        subprocess.run([sco, "--catalog", cat, "user", "add", "bench", "--role", "admin", "--password-stdin"], input="bench password 1\n", text=True, check=True)
    collections = {
        "s2": {"bands": ["b1", "b2"], "items": [{"datetime": "2022-06-01T00:00:00Z", "path": s2}]},
        "cube36": {"bands": ["b1"], "items": [{"datetime": re.search(r"(\d{4}-\d\d-\d\d)", n).group(1) + "T00:00:00Z", "path": os.path.join(cube_dir, n)}
                                              for n in sorted(os.listdir(cube_dir)) if n.endswith(".tif") and ".part" not in n]},
        "ndvi20k": {"bands": ["b1"], "items": [{"datetime": "2021-01-01T00:00:00Z", "path": ndvi20k}]},
    }
    with open(os.path.join(OUT, "collections.json"), "w") as f:
        json.dump(collections, f)
    return cat, os.path.join(OUT, "collections.json")


def graphs(tracts):
    def save(node, fmt, options=None):
        args = {"data": {"from_node": node}, "format": fmt}
        if options:
            args["options"] = options
        return {"save": {"process_id": "save_result", "arguments": args, "result": True}}

    mean = {"process_graph": {"m": {"process_id": "mean", "arguments": {"data": {"from_parameter": "data"}}, "result": True}}}
    fc = json.load(open(tracts))
    return {
        "NDVI, 10980 x 10980": {"load": {"process_id": "load_collection", "arguments": {"id": "s2", "spatial_extent": None, "temporal_extent": None}},
                                "ndvi": {"process_id": "ndvi", "arguments": {"data": {"from_node": "load"}, "nir": "b2", "red": "b1"}}, **save("ndvi", "GTiff")},
        "NDVI, 10980 x 10980, no compression, no overviews": {
            "load": {"process_id": "load_collection", "arguments": {"id": "s2", "spatial_extent": None, "temporal_extent": None}},
            "ndvi": {"process_id": "ndvi", "arguments": {"data": {"from_node": "load"}, "nir": "b2", "red": "b1"}},
            **save("ndvi", "GTiff", {"COMPRESS": "NONE", "OVERVIEWS": "NONE"})},
        "temporal mean, 36 x 2000 x 2000": {"load": {"process_id": "load_collection", "arguments": {"id": "cube36", "spatial_extent": None, "temporal_extent": None}},
                                            "mean": {"process_id": "reduce_dimension", "arguments": {"data": {"from_node": "load"}, "dimension": "t", "reducer": mean}},
                                            **save("mean", "GTiff")},
        "aggregate_spatial mean, 20053 x 20226, 11750 tracts": {
            "load": {"process_id": "load_collection", "arguments": {"id": "ndvi20k", "spatial_extent": None, "temporal_extent": None}},
            "agg": {"process_id": "aggregate_spatial", "arguments": {"data": {"from_node": "load"}, "geometries": fc, "reducer": mean}}, **save("agg", "JSON")},
    }


class Server:
    """`sco serve` under /usr/bin/time: its peak RSS is read when it stops."""

    def __init__(self, sco, cat):
        self.time_file = tempfile.NamedTemporaryFile("r", suffix=".time")
        self.proc = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", self.time_file.name, sco, "--catalog", cat, "serve", "--port", "0",
                                      "--openeo-sync-max-cells", "100000000000", "--openeo-sync-max-memory-mb", "20000", "--openeo-sync-max-seconds", "100000",
                                      "--timeout", "3600", "--max-body", str(64 << 20)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        self.port = int(re.search(r":(\d+)/", line).group(1))
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=3600)
        self.conn.request("GET", "/openeo/1.2/credentials/basic", headers={"Authorization": "Basic " + base64.b64encode(b"bench:bench password 1").decode()})
        self.token = json.loads(self.conn.getresponse().read())["access_token"]

    def post(self, graph):
        self.conn.request("POST", "/openeo/1.2/result", body=json.dumps({"process": {"process_graph": graph}}),
                          headers={"Authorization": "Bearer basic//" + self.token, "Content-Type": "application/json"})
        r = self.conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError(f"/result: {r.status} {body[:500]}")
        return body

    def download(self, graph, path):
        """POST /result with curl, the result written to `path` as a client saves it (http.client's read of
        a 500 MB body into memory alone takes 0.4 s, curl's 0.23 s: the client, not the node)."""
        body = os.path.join(OUT, "request.json")
        with open(body, "w") as f:
            json.dump({"process": {"process_graph": graph}}, f)
        r = subprocess.run(["curl", "-s", "-S", "-o", path, "-w", "%{http_code}", "-X", "POST", "-H", "Authorization: Bearer basic//" + self.token,
                            "-H", "Content-Type: application/json", "--data-binary", "@" + body, f"http://127.0.0.1:{self.port}/openeo/1.2/result"],
                           capture_output=True, text=True)
        if r.stdout != "200":
            raise RuntimeError(f"/result: {r.stdout} {r.stderr} {open(path, 'rb').read(500) if os.path.exists(path) else ''}")

    def get(self, path):
        self.conn.request("GET", path, headers={"Authorization": "Bearer basic//" + self.token})
        return self.conn.getresponse().read()

    def stop(self):
        # SIGTERM to sco itself (the child of /usr/bin/time), so that time writes its peak when it ends.
        with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
            for child in f.read().split():
                os.kill(int(child), 15)
        self.proc.wait(timeout=120)
        self.time_file.seek(0)
        return int(self.time_file.read().split()[-1]) / 1024.0


def run_pgd(graph, collections, timeout):
    """(wall, peak MiB, values or the reason it failed); (None, None, None) past the timeout."""
    with tempfile.TemporaryDirectory() as tmp:
        gfile = os.path.join(tmp, "graph.json")
        json.dump(graph, open(gfile, "w"))
        tfile, efile = os.path.join(tmp, "time"), os.path.join(tmp, "stderr")
        t0 = time.time()
        # Its own session: Dask's and joblib's worker processes go with it, whatever happens.
        with open(efile, "w") as err:
            proc = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", tfile, PGD_PYTHON, os.path.join(HERE, "pgd_run.py"), gfile, collections, tmp],
                                    stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
            try:
                rc = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                rc = None
            finally:
                try:
                    os.killpg(proc.pid, 9)
                except ProcessLookupError:
                    pass
        wall = time.time() - t0
        if rc is None:
            return None, None, None
        peak = int(open(tfile).read().split()[-1]) / 1024.0
        if rc != 0:
            why = "killed (out of memory)" if "signal 9" in open(tfile).read() else "failed: " + open(efile).read()[-300:].replace("\n", " ")
            return wall, peak, why
        out = os.path.join(tmp, "result.tif")
        if os.path.exists(out):
            ds = gdal.Open(out)  # kept while its band is read: the bindings crash otherwise
            values = ds.GetRasterBand(1).ReadAsArray()
            ds = None
        else:
            values = json.load(open(os.path.join(tmp, "result.json")))
        return wall, peak, values


def sco_values(body, fmt):
    if fmt == "JSON":
        return [r.get("b1") for r in json.loads(body)]
    gdal.FileFromMemBuffer("/vsimem/sco.tif", body)
    ds = gdal.Open("/vsimem/sco.tif")
    a = ds.GetRasterBand(1).ReadAsArray()
    ds = None
    gdal.Unlink("/vsimem/sco.tif")
    return a


def agree(a, b):
    if b is None:
        return "-"
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        return f"shapes {a.shape} / {b.shape}"
    ok = np.isfinite(a) & np.isfinite(b)
    return f"max |diff| {np.max(np.abs(a[ok] - b[ok])):.2g}" if ok.any() else "no common values"


def tiny_latency(sco, cat):
    s = Server(sco, cat)
    graph = {"load": {"process_id": "load_collection", "arguments": {"id": "s2", "spatial_extent": {"west": 288776.25, "south": 9120760.75 - 640, "east": 288776.25 + 640,
                                                                                                       "north": 9120760.75, "crs": 32725}, "temporal_extent": None}},
             "ndvi": {"process_id": "ndvi", "arguments": {"data": {"from_node": "load"}, "nir": "b2", "red": "b1"}},
             "save": {"process_id": "save_result", "arguments": {"data": {"from_node": "ndvi"}, "format": "GTiff"}, "result": True}}
    times = []
    for i in range(55):
        t0 = time.perf_counter()
        s.get("/openeo/1.2/")
        s.post(graph)
        if i >= 5:
            times.append((time.perf_counter() - t0) * 1000)
    s.stop()
    return statistics.median(times), min(times), max(times)


def transfer_floor(sco, cat):
    """The s2 item's 507 MB asset (the size of the NDVI results) sent by the same server to curl into a new
    file, median of 3: what any synchronous result of that size costs, whoever computes it."""
    s = Server(sco, cat)
    href = list(json.loads(s.get("/stac/collections/s2/items"))["features"][0]["assets"].values())[0]["href"]
    path, times = os.path.join(OUT, "asset.tif"), []
    for _ in range(3):
        if os.path.exists(path):
            os.remove(path)
        t0 = time.time()
        subprocess.run(["curl", "-s", "-S", "-f", "-o", path, "-H", "Authorization: Bearer basic//" + s.token, href], check=True)
        times.append(time.time() - t0)
    size = os.path.getsize(path)
    os.remove(path)
    s.stop()
    return statistics.median(times), size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sco", default=os.path.join(ROOT, "build", "apps", "sco", "sco"))
    ap.add_argument("--markdown")
    ap.add_argument("--pgd-timeout", type=float, default=1800)
    ap.add_argument("--skip-pgd-zonal", action="store_true")
    ap.add_argument("--skip-pgd", action="store_true", help="time sco alone (no processes-dask run)")
    ap.add_argument("--tiny-only", action="store_true", help="only the tiny graph's latency")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    cube_dir, tracts = make_inputs(args.sco)
    cat, collections = setup_catalog(args.sco, cube_dir)
    if args.tiny_only:
        med, lo, hi = tiny_latency(args.sco, cat)
        print(f"tiny graph: median {med:.1f} ms (min {lo:.1f}, max {hi:.1f})")
        return
    lines = ["| graph | sco | processes-dask | dask / sco | sco peak | dask peak | dask / sco memory | results |", "|---|---|---|---|---|---|---|---|"]
    for name, graph in graphs(tracts).items():
        fmt = graph["save"]["arguments"]["format"]
        for item in json.load(open(collections))[graph["load"]["arguments"]["id"]]["items"]:
            warm(item["path"])
        s = Server(args.sco, cat)
        result = os.path.join(OUT, "result.json" if fmt == "JSON" else "result.tif")
        t0 = time.time()
        s.download(graph, result)
        sco_wall = time.time() - t0
        sco_peak = s.stop()
        with open(result, "rb") as f:
            mine = sco_values(f.read(), fmt)
        os.remove(result)
        skipped = args.skip_pgd or (args.skip_pgd_zonal and fmt == "JSON")
        if skipped:
            wall, peak, theirs = None, None, None
        else:
            wall, peak, theirs = run_pgd(graph, collections, args.pgd_timeout)
        failed = isinstance(theirs, str)
        if skipped:
            ratio = "- (not run)"
        elif wall is None:
            ratio = f"> {args.pgd_timeout / sco_wall:.0f}x (stopped at {args.pgd_timeout:.0f} s)"
        elif failed:
            ratio = f"- ({theirs} after {wall:.0f} s)"
        else:
            ratio = f"**{wall / sco_wall:.1f}x**"
        mem = (f"> {peak / sco_peak:.0f}x" if failed else f"{peak / sco_peak:.1f}x") if peak else "-"
        lines.append(f"| {name} | {sco_wall:.2f} s | {f'{wall:.2f} s' if wall and not failed else '-'} | {ratio} | {sco_peak:.0f} MiB | "
                     f"{f'{peak:.0f} MiB' if peak else '-'} | {mem} | {'-' if failed else agree(mine, theirs)} |")
        print(lines[-1], flush=True)
    floor, size = transfer_floor(args.sco, cat)
    lines.append(f"| transfer floor: a {size / 1e6:.0f} MB asset of the same node to curl, into a new file, median of 3 | {floor:.2f} s | | | | | | |")
    med, lo, hi = tiny_latency(args.sco, cat)
    lines.append(f"| tiny graph (capabilities + /result, NDVI of 64 x 64), median of 50 | {med:.1f} ms (min {lo:.1f}, max {hi:.1f}) | | | | | | |")
    emit_table(lines, args.markdown)


if __name__ == "__main__":
    main()
