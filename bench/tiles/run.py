#!/usr/bin/python3
"""Tile and search throughput of `sco serve` under wrk (64 connections, 2 threads, 30 s each):
  - tiles at random positions and zooms 8..15 (the whole range of this raster) from a 10980 x 10980
    DEFLATE COG with overviews (built from the real Landsat sample by bench/ndvi/make_inputs.py),
    reprojected from UTM to Web Mercator, with the tile cache off (every request renders);
  - STAC searches (random bbox + datetime interval) on a catalog of 100000 generated items;
and, in the same run, on the same file and the same tiles: TiTiler (titiler.core's COG tiler, the
dynamic tiler users pick in Python, from bench/.venv; bench/tiles/titiler_app.py) served by uvicorn
with 2 workers under the same wrk load, and MapServer's mapserv CGI (one process per tile, as a web
server runs it). Both sco and TiTiler resample with nearest neighbour and rescale and colour the same
way (viridis). Reports requests/s, p50/p99 latency, errors, server peak memory (all processes).
Usage: bench/tiles/run.py [--sco PATH] [--seconds N] [--markdown FILE]"""
import argparse
import json
import math
import os
import random
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from bench_common import add_generated_items, emit_table, warm, partner_token  # noqa: E402
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "bench", "out", "tiles")
HALF = 20037508.342789244


def tile_of(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def make_cog():
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "ndvi", "make_inputs.py"), os.path.join(ROOT, "data", "sample"),
                    os.path.join(ROOT, "bench", "out", "ndvi")], check=True)
    cog = os.path.join(OUT, "s2size_nir_cog.tif")
    if not os.path.exists(cog):
        subprocess.run(["gdal_translate", "-q", "-b", "2", "-of", "COG", "-co", "COMPRESS=DEFLATE", "-co", "PREDICTOR=2",
                        "-co", "NUM_THREADS=2", os.path.join(ROOT, "bench", "out", "ndvi", "s2size_red_nir_deflate.tif"), cog], check=True)
    return cog


def make_catalog(sco, cog):
    cat = os.path.join(OUT, "catalog")
    if os.path.exists(os.path.join(cat, "catalog.sqlite")):
        return cat
    subprocess.run([sco, "-q", "--catalog", cat, "ingest", cog, "--collection", "s2size", "--datetime", "2020-07-01"], check=True)
    # 100000 generated items (random 0.1-degree boxes over the world, dates over 20 years).
    add_generated_items(os.path.join(cat, "catalog.sqlite"), 100000)
    return cat


def wrk(urls, seconds, script_dir, name, token=None):
    path_file = os.path.join(script_dir, f"{name}_paths.txt")
    with open(path_file, "w") as f:
        f.write("\n".join(u[u.index("/", len("http://")):] for u in urls) + "\n")
    lua = os.path.join(script_dir, f"{name}.lua")
    with open(lua, "w") as f:
        f.write(f"""paths = {{}}
for line in io.lines("{path_file}") do paths[#paths + 1] = line end
math.randomseed(7)
request = function() return wrk.format("GET", paths[math.random(#paths)]{{headers}}) end
""".replace("{headers}", f', {{["Authorization"] = "Bearer {token}"}}' if token else ""))
    r = subprocess.run(["wrk", "-t2", "-c64", f"-d{seconds}s", "--timeout", "10s", "--latency", "-s", lua, urls[0].split("/tiles")[0].split("/stac")[0]],
                       capture_output=True, text=True, check=True)
    text = r.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))

    def lat(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", text)
        v = float(m.group(1))
        return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v

    errors = 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors += int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    errors += sum(int(g) for g in m.groups()) if m else 0
    return rps, lat(50), lat(99), errors


def tile_load(base, rng, n=4000):
    """n tiles at random zooms 8..15 and positions over the COG (bounds from its TileJSON): the
    (z, x, y) list and the URLs."""
    tj = json.loads(subprocess.run(["curl", "-s", f"{base}/tiles/s2size/s2size_nir_cog/data/tilejson.json"], capture_output=True,
                                   text=True, check=True).stdout)
    w, s, e, n_ = tj["bounds"]
    tiles = []
    for _ in range(n):
        z = rng.randint(8, 15)
        x0, y0 = tile_of(w, n_, z)
        x1, y1 = tile_of(e, s, z)
        tiles.append((z, rng.randint(x0, x1), rng.randint(y0, y1)))
    return tiles, [f"{base}/tiles/s2size/s2size_nir_cog/data/{z}/{x}/{y}.png?rescale=0,10200&colormap=viridis" for z, x, y in tiles]


def search_load(base, rng, n=4000):
    """n STAC searches: a random 10-degree box and an 18-month interval over the generated items."""
    out = []
    for _ in range(n):
        lon, lat = rng.uniform(-170, 160), rng.uniform(-70, 60)
        y = rng.randint(2000, 2019)
        out.append(f"{base}/stac/search?collections=generated&bbox={lon:.3f},{lat:.3f},{lon + 10:.3f},{lat + 10:.3f}"
                   f"&datetime={y}-01-01T00:00:00Z/{y + 1}-06-30T00:00:00Z&limit=10")
    return out


def peak_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) / 1024


def tree_peak_mib(pid):
    """Peak RSS of a process and its children (uvicorn's workers), summed."""
    kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return peak_mib(pid) + sum(peak_mib(int(k)) for k in kids)


# TiTiler's recommended GDAL settings (its deployment examples) that apply to a local file; the
# block cache split between the 2 workers.
TITILER_ENV = dict(os.environ, GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR", GDAL_CACHEMAX="512", VSI_CACHE="TRUE",
                   PYTHONWARNINGS="ignore")


def titiler_tiles(cog, tiles, seconds):
    """TiTiler under uvicorn with 2 workers: the same tiles, rescale and colour map; warmed 5 s."""
    python = os.path.join(ROOT, "bench", ".venv", "bin", "python")
    if not os.path.exists(python):
        sys.exit("bench/tiles: TiTiler's environment is missing; run: bash scripts/install-deps.sh --bench")
    port = 18766
    server = subprocess.Popen([python, "-m", "uvicorn", "--app-dir", HERE, "titiler_app:app", "--workers", "2",
                               "--port", str(port), "--log-level", "warning", "--no-access-log"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=TITILER_ENV)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            time.sleep(0.2)
            if subprocess.run(["curl", "-s", "-o", "/dev/null", f"{base}/cog/info?url={cog}"]).returncode == 0:
                break
        urls = [f"{base}/cog/tiles/WebMercatorQuad/{z}/{x}/{y}.png?url={cog}&rescale=0,10200&colormap_name=viridis"
                for z, x, y in tiles]
        wrk(urls, 5, OUT, "titiler_warmup")
        result = wrk(urls, seconds, OUT, "titiler_tiles")
        return result + (tree_peak_mib(server.pid),)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sco", default=os.path.join(ROOT, "build", "apps", "sco", "sco"))
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--markdown", default=None)
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    cog = make_cog()
    cat = make_catalog(args.sco, cog)
    port = 18765
    token = partner_token(args.sco, cat)
    server = subprocess.Popen([args.sco, "--quiet", "--catalog", cat, "serve", "--port", str(port), "--tile-cache-mb", "0", "--rate-limit", "0"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    base = f"http://127.0.0.1:{port}"
    try:
        rng = random.Random(1)
        tiles, urls = tile_load(base, rng)
        warm(cog)
        wrk(urls, 5, OUT, "warmup")  # opens datasets and overviews, fills the page cache: not measured
        t_rps, t_p50, t_p99, t_err = wrk(urls, args.seconds, OUT, "tiles")
        print(("sco tiles", t_rps, t_p50, t_p99, t_err), flush=True)
        searches = search_load(base, rng)
        # Searches get the same 5 s warm-up as tiles (the catalog's pages back in the page cache after
        # the tile load): not measured.
        wrk(searches, 5, OUT, "search_warmup")
        s_rps, s_p50, s_p99, s_err = wrk(searches, args.seconds, OUT, "search")
        print(("sco search", s_rps, s_p50, s_p99, s_err), flush=True)
        # Authorization cost: the same loads with a partner token checked on every request.
        ta_rps, ta_p50, ta_p99, ta_err = wrk(urls, args.seconds, OUT, "tiles_token", token)
        sa_rps, sa_p50, sa_p99, sa_err = wrk(searches, args.seconds, OUT, "search_token", token)
        print(("with token", ta_rps, sa_rps), flush=True)
        peak = peak_mib(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)

    tt_rps, tt_p50, tt_p99, tt_err, tt_peak = titiler_tiles(cog, tiles, args.seconds)
    print(("titiler tiles", tt_rps, tt_p50, tt_p99, tt_err, tt_peak), flush=True)

    # MapServer: mapserv as CGI, one process per tile (as a web server runs it), same tiles.
    mapfile = os.path.join(OUT, "s2size.map")
    with open(mapfile, "w") as f:
        f.write(f"""MAP
  NAME "s2size"
  EXTENT -20037508.34 -20037508.34 20037508.34 20037508.34
  SIZE 256 256
  PROJECTION "init=epsg:3857" END
  IMAGETYPE "png"
  LAYER
    NAME "nir"
    TYPE RASTER
    STATUS ON
    DATA "{cog}"
    PROJECTION "init=epsg:31985" END
    PROCESSING "SCALE=0,10200"
  END
END
""")
    config = os.path.join(OUT, "mapserver.conf")
    with open(config, "w") as f:
        f.write('CONFIG\n  ENV\n    MS_MAP_PATTERN "."\n  END\nEND\n')
    env = dict(os.environ, MAPSERVER_CONFIG_FILE=config, REQUEST_METHOD="GET")
    sample = tiles[:200]
    t0 = time.time()
    bad = 0
    for z, x, y in sample:
        env["QUERY_STRING"] = f"map={mapfile}&mode=tile&tilemode=gmap&tile={x}+{y}+{z}&layers=nir"
        out = subprocess.run(["mapserv"], env=env, capture_output=True).stdout
        bad += 0 if b"\x89PNG" in out[:200] else 1
    ms_per_tile = (time.time() - t0) / len(sample) * 1000
    ms_rps_2cores = 2 * 1000 / ms_per_tile
    lines = [
        f"10980 x 10980 UInt16 DEFLATE COG (UTM 25S) -> Web Mercator PNG tiles, zooms 8..15, wrk 64 connections, {args.seconds} s",
        "",
        "| what | requests/s | p50 | p99 | errors | server peak memory |",
        "|---|---|---|---|---|---|",
        f"| sco tiles (cache off) | {t_rps:.0f} | {t_p50:.1f} ms | {t_p99:.1f} ms | {t_err} | {peak:.0f} MiB |",
        f"| TiTiler 2.4.0 (titiler.core, uvicorn 2 workers), same tiles | {tt_rps:.0f} | {tt_p50:.1f} ms | {tt_p99:.1f} ms | {tt_err} | {tt_peak:.0f} MiB |",
        f"| sco STAC search, 100000 items (bbox + datetime) | {s_rps:.0f} | {s_p50:.1f} ms | {s_p99:.1f} ms | {s_err} | (same process) |",
        f"| sco tiles with a token checked | {ta_rps:.0f} | {ta_p50:.1f} ms | {ta_p99:.1f} ms | {ta_err} | |",
        f"| sco STAC search with a token checked | {sa_rps:.0f} | {sa_p50:.1f} ms | {sa_p99:.1f} ms | {sa_err} | |",
        f"| MapServer mapserv CGI, same tiles (200, one process each) | {1000 / ms_per_tile:.1f} per core, {ms_rps_2cores:.1f} on 2 cores | {ms_per_tile:.0f} ms | | {bad} | |",
        "",
        f"sco tiles / TiTiler: {t_rps / tt_rps:.1f}x the throughput, p99 {t_p99:.0f} ms vs {tt_p99:.0f} ms, peak memory {peak:.0f} vs {tt_peak:.0f} MiB "
        "(non-2xx answers count as errors: tiles at the edge of the raster's bounds that a server calls empty)",
        f"sco tiles / MapServer (2 cores each): {t_rps / ms_rps_2cores:.1f}x; authorization cost: tiles {100 * (1 - ta_rps / t_rps):+.1f}%, "
        f"search {100 * (1 - sa_rps / s_rps):+.1f}% of throughput",
    ]
    emit_table(lines, args.markdown)


if __name__ == "__main__":
    main()
