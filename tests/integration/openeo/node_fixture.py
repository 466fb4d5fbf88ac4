"""A sco node for the openEO tests: a temporary catalog with the Olinda Landsat 7 scene
("landsat7-olinda"), a private copy ("internal"), a series of three dates whose NIR (B4) is the
scene's scaled by 1, 0.5 and 0.25 ("series"), two users (ana, admin; rui, reader), and the server."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time


# Defined for every with_gdal snippet: the cells of `band` of the open dataset `ref` under the grid of
# `got` (same cell size, `got` inside `ref`).
GDAL_PRELUDE = """import json, sys
import numpy as np
from osgeo import gdal
V = json.loads(sys.argv[1])
def window(got, ref, band):
    g, r = got.GetGeoTransform(), ref.GetGeoTransform()
    col, row = int(round((g[0] - r[0]) / r[1])), int(round((g[3] - r[3]) / r[5]))
    return ref.GetRasterBand(band).ReadAsArray(col, row, got.RasterXSize, got.RasterYSize)
"""


def openeo_client(check):
    """The openEO Python client (openeo, OpenEoApiError); SKIP when it is not installed."""
    try:
        import openeo
        from openeo.rest import OpenEoApiError
    except ImportError:
        check.skip("the openEO Python client is not installed (scripts/install-deps.sh puts it in .venv)")
        check.finish()
    return openeo, OpenEoApiError


def with_gdal(code, **values):
    """Runs `code` in Debian's python3 (GDAL and numpy): the client's wheels (shapely, pyproj) bring their
    own GEOS and PROJ, which crash GDAL's Python bindings in the same process. `code` prints JSON."""
    r = subprocess.run(["/usr/bin/python3", "-X", "faulthandler", "-c", GDAL_PRELUDE + code,
                        json.dumps(values)], capture_output=True, text=True,
                       env={k: v for k, v in os.environ.items() if k not in ("PROJ_DATA", "PROJ_LIB", "GDAL_DATA")})  # pyproj points these at its own
    if r.returncode != 0:
        raise SystemExit(f"GDAL helper failed ({r.returncode}): {r.stderr}")
    return json.loads(r.stdout) if r.stdout.strip() else None


def wait_status(job, wanted, seconds=120):
    """Polls an openEO job until its status is one of `wanted` (or the time is up); the last status."""
    end = time.time() + seconds
    while time.time() < end:
        s = job.status()
        if s in wanted:
            return s
        time.sleep(0.1)
    return job.status()


class Node:
    PASSWORDS = {"ana": "correct horse battery", "rui": "another long one"}

    def __init__(self, sco_binary, sample_dir, prefix):
        self.SCO, self.SAMPLE = sco_binary, sample_dir
        self.TMP = tempfile.mkdtemp(prefix=prefix)
        self.CAT = os.path.join(self.TMP, "catalog")
        self.server = None

    def sco(self, *args, stdin=None, ok=True):
        r = subprocess.run([self.SCO, "--catalog", self.CAT] + list(args), input=stdin, capture_output=True, text=True)
        if ok and r.returncode != 0:
            raise SystemExit(f"sco {' '.join(args)} failed: {r.stderr}")
        return r.stdout if ok else r

    def populate(self):
        self.scene = os.path.join(self.TMP, "olinda_2021-01-01.tif")
        shutil.copy(os.path.join(self.SAMPLE, "L7_ETMs.tif"), self.scene)
        self.sco("ingest", self.scene, "--collection", "landsat7-olinda", "--sensor", "landsat7")
        hidden = os.path.join(self.TMP, "hidden_2021-02-01.tif")
        shutil.copy(os.path.join(self.SAMPLE, "L7_ETMs.tif"), hidden)
        self.sco("ingest", hidden, "--collection", "internal", "--visibility", "private")
        self.series_dir = os.path.join(self.TMP, "series")
        os.makedirs(self.series_dir)
        with_gdal("""
src = gdal.Open(V["scene"])
nir = src.GetRasterBand(4).ReadAsArray().astype(np.float64)
for k, f in enumerate([1.0, 0.5, 0.25]):
    out = gdal.GetDriverByName("GTiff").CreateCopy(V["dir"] + f"/olinda_2021-0{k + 1}-01.tif", src)
    out.GetRasterBand(4).WriteArray(np.floor(nir * f).astype(np.uint8))
    out = None
""", scene=os.path.join(self.SAMPLE, "L7_ETMs.tif"), dir=self.series_dir)
        self.sco("ingest", self.series_dir, "--collection", "series", "--sensor", "landsat7")
        self.sco("user", "add", "ana", "--role", "admin", "--password-stdin", stdin=self.PASSWORDS["ana"] + "\n")
        self.sco("user", "add", "rui", "--role", "reader", "--password-stdin", stdin=self.PASSWORDS["rui"] + "\n")

    def add_big_scene(self, size):
        """A two-band size x size scene of random values, collection "big": jobs over it run for seconds,
        long enough to be cancelled or killed."""
        big = os.path.join(self.TMP, "big_2021-01-01.tif")
        with_gdal("""
rng = np.random.default_rng(7)
n = V["size"]
ds = gdal.GetDriverByName("GTiff").Create(V["path"], n, n, 2, gdal.GDT_UInt16, ["TILED=YES"])
ds.SetGeoTransform([-35.0, 1e-5, 0, -7.9, 0, -1e-5])
ds.SetProjection("EPSG:4326")
for b in (1, 2):
    ds.GetRasterBand(b).WriteArray(rng.integers(1, 10000, size=(n, n), dtype=np.uint16))
ds = None
""", path=big, size=size)
        self.sco("ingest", big, "--collection", "big")

    def start(self, *options):
        """Starts `sco serve` on a free port; returns its root URL."""
        self.server = subprocess.Popen([self.SCO, "--catalog", self.CAT, "serve", "--port", "0"] + list(options),
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", self.server.stdout.readline()).group(1))
        self.root = f"http://127.0.0.1:{port}"
        return self.root

    def stop(self):
        """Stops the server (SIGTERM); returns its standard error."""
        self.server.terminate()
        self.server.wait(timeout=60)
        return self.server.stderr.read()

    def kill(self):
        self.server.kill()
        self.server.wait(timeout=30)
        return self.server.stderr.read()

    def remove(self):
        shutil.rmtree(self.TMP, ignore_errors=True)
