"""Helpers shared by the benchmark scripts: warm a file into the page cache, time a command."""
import json
import os
import random
import sqlite3
import subprocess
import tempfile


def warm(path):
    """Reads the file once so that the timed run starts from a warm page cache."""
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def timed(cmd, env_extra=None):
    """Runs cmd under /usr/bin/time; returns (wall seconds, peak RSS in MiB)."""
    env = dict(os.environ)
    env.update(env_extra or {})
    with tempfile.NamedTemporaryFile("r") as t:
        r = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", t.name] + cmd, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr[-2000:]}")
        wall, kb = t.read().split()[-2:]
        return float(wall), int(kb) / 1024.0


def emit_table(lines, markdown_path=None):
    """Prints the markdown table and writes it to markdown_path when given."""
    table = "\n".join(lines)
    print("\n" + table)
    if markdown_path:
        with open(markdown_path, "w") as f:
            f.write(table + "\n")


def partner_token(sco, catalog, owner="bench"):
    """A new partner token on the node at `catalog` (sco token create), for loads that check one."""
    out = subprocess.run([sco, "--json", "--catalog", catalog, "token", "create", "--owner", owner, "--role", "partner"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["token"]


def add_generated_items(catalog_sqlite, n, collection="generated", seed=42):
    """n generated items (random 0.1-degree boxes over the world, dates over 2000-2020) in a collection
    of their own, written into a node's catalog.sqlite with sco's own schema in one transaction."""
    db = sqlite3.connect(catalog_sqlite)
    rng = random.Random(seed)
    db.execute("INSERT INTO collections(id, doc) VALUES(?, ?)",
               (collection, json.dumps({"type": "Collection", "stac_version": "1.0.0", "id": collection, "description": "generated",
                                        "license": "proprietary", "links": [],
                                        "extent": {"spatial": {"bbox": [[-180, -80, 180, 80]]},
                                                   "temporal": {"interval": [["2000-01-01T00:00:00Z", "2020-12-31T00:00:00Z"]]}}}),))
    for k in range(n):
        w, s = rng.uniform(-180, 179.9), rng.uniform(-80, 79.9)
        day = f"{rng.randint(2000, 2020)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T00:00:00Z"
        item = {"type": "Feature", "stac_version": "1.0.0", "id": f"g{k}", "collection": collection, "bbox": [w, s, w + 0.1, s + 0.1],
                "geometry": {"type": "Polygon", "coordinates": [[[w, s], [w + 0.1, s], [w + 0.1, s + 0.1], [w, s + 0.1], [w, s]]]},
                "properties": {"datetime": day}, "assets": {}, "links": []}
        cur = db.execute("INSERT INTO items(collection, id, start_dt, end_dt, checksum, doc) VALUES(?, ?, ?, ?, ?, ?)",
                         (collection, f"g{k}", day, day, str(k), json.dumps(item)))
        db.execute("INSERT INTO items_bbox(key, minx, maxx, miny, maxy, mint, maxt) VALUES(?, ?, ?, ?, ?, julianday(?) - 1, julianday(?) + 1)",
                   (cur.lastrowid, w, w + 0.1, s, s + 0.1, day, day))
    db.commit()
    db.close()
