#!/usr/bin/env python3
"""The node as an openEO back-end, through the official openEO Python client (`openeo`, pinned in
tests/requirements.txt, run from .venv): discovery through /.well-known/openeo, the capabilities, the
collections as data cubes with the sample scene's bands, HTTP Basic logins of `sco user` users
(Argon2id-hashed passwords, tokens sent back as Bearer basic//TOKEN), /me, and visibility: a private
collection exists only for an admin.

Usage: openeo_client_test.py SCO SAMPLE_DIR   (exits 77 when the client is not installed)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from reference import Checks  # noqa: E402

check = Checks()
try:
    import openeo
    from openeo.rest import OpenEoApiError
except ImportError:
    check.skip("the openEO Python client is not installed (scripts/install-deps.sh puts it in .venv)")
    check.finish()

SCO, SAMPLE = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="sco-openeo-")
CAT = os.path.join(TMP, "catalog")


def sco(*args, stdin=None):
    r = subprocess.run([SCO, "--catalog", CAT] + list(args), input=stdin, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"sco {' '.join(args)} failed: {r.stderr}")
    return r.stdout


scene = os.path.join(TMP, "olinda_2021-01-01.tif")
shutil.copy(os.path.join(SAMPLE, "L7_ETMs.tif"), scene)
sco("ingest", scene, "--collection", "landsat7-olinda", "--sensor", "landsat7")
hidden = os.path.join(TMP, "hidden_2021-02-01.tif")
shutil.copy(os.path.join(SAMPLE, "L7_ETMs.tif"), hidden)
sco("ingest", hidden, "--collection", "internal", "--visibility", "private")
sco("user", "add", "ana", "--role", "admin", "--password-stdin", stdin="correct horse battery\n")
sco("user", "add", "rui", "--role", "reader", "--password-stdin", stdin="another long one\n")

server = subprocess.Popen([SCO, "--catalog", CAT, "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
try:
    port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", server.stdout.readline()).group(1))
    root = f"http://127.0.0.1:{port}"

    # Discovery from the server's root, as clients and the Web Editor do.
    con = openeo.connect(root)
    caps = con.capabilities()
    check(caps.api_version() == "1.2.0", f"api_version {caps.api_version()}")
    check(con.root_url.rstrip("/").endswith("/openeo/1.2"), f"the client found the versioned API: {con.root_url}")
    check(caps.supports_endpoint("/credentials/basic", "GET"), "the capabilities list /credentials/basic")
    check(not caps.supports_endpoint("/jobs", "POST"), "the capabilities list no endpoint the node does not have")

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
    server.terminate()
    server.wait(timeout=10)
    shutil.rmtree(TMP, ignore_errors=True)
check.finish()
