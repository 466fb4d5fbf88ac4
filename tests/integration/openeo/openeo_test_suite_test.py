#!/usr/bin/env python3
"""The official openEO conformance suite (openeo-test-suite 0.2.2 from PyPI, in .venv-openeo-suite)
run against a real `sco serve`: the real Sentinel-2 L2A series over Bolzano (June 2022: the very
area and month of the suite's workflow tests) ingested as the collection the suite loads
(SENTINEL2_L2A), a Basic login, and three of its parts:

  collections   every collection a valid STAC Collection (stac-validator, with the STAC schemas of
                ../shared/schemas: suite_offline.py) and openEO's collection metadata;
  processes     the functional metadata of every offered process against the official process
                definitions (parameters, schemas, optionality, returns, categories); the suite's
                "optional" non-functional part, which wants the definitions' descriptions word for
                word, is not run: sco describes its processes in its own words;
  workflows     L1-L3 process graphs downloaded through the official Python client and checked by
                the suite with xarray / rioxarray.

Every test of these parts must pass, except those listed in openeo_test_suite_known.txt with the
reason; a listed test that passes fails this script too, so that the list stays true. The suite's
general compliance part needs the openeo-api repository's openapi.yaml and its per-process
processing part the openeo-processes repository's tests/*.json5: neither is in the wheel nor on any
registry reachable here, so they are not run (said in the output).

Usage: openeo_test_suite_test.py SCO SOURCE_DIR SUITE_VENV   (exits 77 without the suite, its
process definitions or the series)
"""
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
from checks import Checks  # noqa: E402
from s2_sample import series_folder  # noqa: E402

sys.path.insert(0, HERE)
from node_fixture import Node  # noqa: E402

check = Checks()
sco, source, venv = sys.argv[1], sys.argv[2], sys.argv[3]
pytest_bin = os.path.join(venv, "bin", "pytest")
specs = os.path.join(venv, "assets", "processes")
schemas = os.path.join(os.path.dirname(source), "shared", "schemas")
data = series_folder(source)
for ok, what in ((os.access(pytest_bin, os.X_OK), f"openeo-test-suite is not installed in {venv} (scripts/install-deps.sh)"),
                 (os.path.isdir(specs), f"the openEO process definitions are not in {specs} (scripts/install-deps.sh)"),
                 (os.path.isdir(schemas), f"the STAC schemas are not in {schemas}"),
                 (data is not None, "the Sentinel-2 series is neither in data/ nor in ../shared/data")):
    if not ok:
        check.skip(what)
if check.skipped:
    check.finish()

PARTS = {"collections": ["openeo_test_suite.tests.collections"],
         "processes": ["openeo_test_suite.tests.processes.metadata"],
         "workflows": ["openeo_test_suite.tests.workflows"]}


def known_failures():
    known = {}
    for line in open(os.path.join(HERE, "openeo_test_suite_known.txt")):
        line = line.strip()
        if line and not line.startswith("#"):
            test, _, why = line.partition(" ")
            known[test] = why.strip()
    return known


def outcomes(junit):
    """{test id: (outcome, message)} from pytest's JUnit XML."""
    result = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        test = case.get("classname", "").rsplit(".", 1)[-1] + "::" + case.get("name", "")
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            el = case.find(tag)
            if el is not None:
                outcome, message = {"failure": "failed", "error": "failed", "skipped": "skipped"}[tag], (el.get("message") or "")[:300]
                break
        result[test] = (outcome, message)
    return result


node = Node(sco, "", "sco-openeo-suite-")
node.sco("ingest", data, "--collection", "SENTINEL2_L2A", "--sensor", "sentinel2")
node.sco("user", "add", "ana", "--role", "admin", "--password-stdin", stdin=Node.PASSWORDS["ana"] + "\n")
log = open(os.path.join(node.TMP, "server.log"), "w")
server = subprocess.Popen([sco, "--catalog", node.CAT, "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=log, text=True)
port = None
for _ in range(100):
    line = server.stdout.readline()
    if "http://127.0.0.1:" in line:
        port = line.split("http://127.0.0.1:")[1].split("/")[0]
        break
check(port is not None, "sco serve announced its address")
work = tempfile.mkdtemp(prefix="suite-", dir=node.TMP)
os.makedirs(os.path.join(work, "assets"))
os.symlink(specs, os.path.join(work, "assets", "processes"))  # where the suite looks for the definitions
env = dict(os.environ, OPENEO_AUTH_METHOD="basic", OPENEO_AUTH_BASIC_USERNAME="ana", OPENEO_AUTH_BASIC_PASSWORD=Node.PASSWORDS["ana"],
           PYTHONPATH=HERE, SCO_SHARED_SCHEMAS=schemas, MPLBACKEND="Agg")
results = {}
try:
    for part, modules in PARTS.items():
        junit = os.path.join(work, part + ".xml")
        started = time.time()
        r = subprocess.run([pytest_bin, "-p", "openeo_test_suite.lib.pytest_plugin", "-p", "suite_offline", "--pyargs", *modules,
                            "--openeo-backend-url", f"http://127.0.0.1:{port}/openeo/1.2", "--s2-collection", "SENTINEL2_L2A",
                            "-m", "not optional", "--experimental", "-p", "no:cacheprovider", "-q", "--tb=short", "--junitxml", junit],
                           cwd=work, env=env, capture_output=True, text=True, timeout=900)
        if not os.path.exists(junit):
            check(False, f"{part}: the suite did not run (exit {r.returncode}): {r.stdout[-2000:]} {r.stderr[-2000:]}")
            continue
        got = outcomes(junit)
        results.update(got)
        counts = {o: sum(1 for v in got.values() if v[0] == o) for o in ("passed", "failed", "skipped")}
        print(f"{part}: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped ({time.time() - started:.0f} s)")
finally:
    server.terminate()
    server.wait(timeout=60)
    log.close()

known = known_failures()
for test, (outcome, message) in sorted(results.items()):
    if outcome == "skipped":
        print(f"  skipped {test}: {message}")
    elif test in known:
        check(outcome == "failed", f"{test} passes now: take it out of openeo_test_suite_known.txt")
        if outcome == "failed":
            print(f"  known failure {test}: {known[test]}")
    else:
        check(outcome == "passed", f"{test} {outcome}: {message}")
check(not [t for t in known if t not in results], f"known failures the suite no longer has: {[t for t in known if t not in results]}")
check(sum(1 for v in results.values() if v[0] == "passed") >= 50, "at least 50 of the suite's tests ran and passed")
print("not run: general compliance (needs openeo-api's openapi.yaml), per-process processing (needs openeo-processes' "
      "tests/*.json5): neither ships in the wheel nor on a registry reachable here")
if check.failed:
    print(open(os.path.join(node.TMP, "server.log")).read()[-3000:])
node.remove()
check.finish()
