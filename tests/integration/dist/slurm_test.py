#!/usr/bin/env python3
"""openEO batch jobs run on a real Slurm cluster (issue 20, part 4): `sco serve --executor slurm` on a
single-node cluster that this test starts (Debian's slurm-wlm and munge, tests/support/slurm.py),
driven through the official openEO Python client:
- a batch NDVI is submitted with sbatch (the job's log names the Slurm job), runs `sco job run` on the
  cluster, finishes, and its results equal numpy's; Slurm reports the job COMPLETED;
- a job cancelled through openEO is cancelled in Slurm (scancel: CANCELLED) and leaves no file;
- a Slurm job killed from outside (scancel --signal=KILL) makes the openEO job fail with Slurm's state;
- a job that fails on the cluster (an input gone) fails the openEO job with the error `sco job run` met;
- `sco job run` of an unknown or unstarted job is refused; `sco serve --executor slurm` without a
  reachable Slurm stops at start with one line.

Usage: slurm_test.py SCO SAMPLE_DIR   (with .venv's python; exits 77 without Slurm or the client)
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
sys.path.insert(0, os.path.join(HERE, "..", "openeo"))
from reference import Checks  # noqa: E402
from node_fixture import Node, openeo_client, wait_status, with_gdal  # noqa: E402
from slurm import Cluster  # noqa: E402

check = Checks()
openeo, OpenEoApiError = openeo_client(check)
cluster = Cluster()
why = cluster.start()
if why:
    cluster.stop()
    print(f"SKIP: {why}")
    sys.exit(77)

node = Node(sys.argv[1], sys.argv[2], "sco-slurm-")


def slurm_id(job, seconds=10):
    """The Slurm job named in the openEO job's log (waited for up to `seconds`)."""
    end = time.time() + seconds
    while True:
        for e in job.logs():
            if e["message"].startswith("submitted to Slurm as job "):
                return e["message"].rsplit(" ", 1)[1]
        if time.time() > end:
            return None
        time.sleep(0.1)


try:
    node.populate()
    # Without Slurm's configuration the executor refuses to start, in one line.
    r = subprocess.run([node.SCO, "--catalog", node.CAT, "serve", "--port", "0", "--executor", "slurm"], capture_output=True, text=True,
                       env={k: v for k, v in os.environ.items() if k != "SLURM_CONF"} | {"SLURM_CONF": "/nonexistent/slurm.conf"}, timeout=60)
    check(r.returncode == 4 and r.stderr.count("\n") == 1 and "Slurm does not answer" in r.stderr, f"no Slurm: one line, exit 4: {r.returncode} {r.stderr!r}")
    r = subprocess.run([node.SCO, "--catalog", node.CAT, "job", "run", "nope"], capture_output=True, text=True)
    check(r.returncode == 3 and "no openEO job 'nope'" in r.stderr, f"sco job run of an unknown job: {r.returncode} {r.stderr.strip()}")

    os.environ.update(cluster.env)  # the server runs Slurm's commands against the test cluster
    root = node.start("--executor", "slurm", "--openeo-jobs", "2")
    ana = openeo.connect(root).authenticate_basic("ana", Node.PASSWORDS["ana"])

    # 1. A batch NDVI through Slurm.
    job = ana.load_collection("series", bands=["B3", "B4"]).ndvi().create_job(out_format="GTiff", title="NDVI on Slurm")
    job.start()
    status = wait_status(job, ("finished", "error", "canceled"))
    check(status == "finished", f"the job ran on Slurm and finished: {status} {[e['message'] for e in job.logs()]} {cluster.log()[-800:]}")
    sid = slurm_id(job)
    # The job's record says finished just before its process exits: Slurm says COMPLETED a moment later.
    state = None
    for _ in range(300):
        state = cluster.job_state(sid) if sid else None
        if state not in ("RUNNING", "COMPLETING"):
            break
        time.sleep(0.1)
    check(sid is not None and state == "COMPLETED", f"Slurm ran it as job {sid}: {state}")
    out_dir = os.path.join(node.TMP, "results")
    job.get_results().download_files(out_dir)
    worst = with_gdal("""
scene = gdal.Open(V["scene"])
red = scene.GetRasterBand(3).ReadAsArray().astype(np.float64)
nir = scene.GetRasterBand(4).ReadAsArray().astype(np.float64)
worst = 0.0
for k, f in enumerate([1.0, 0.5, 0.25]):
    got = gdal.Open(V["dir"] + f"/result-2021-0{k + 1}-01.tif")  # kept open while its band is read
    a = got.GetRasterBand(1).ReadAsArray().astype(np.float64)
    n = np.floor(nir * f)
    with np.errstate(invalid="ignore", divide="ignore"):
        e = (n - red) / (n + red)
    ok = np.isfinite(e)
    worst = max(worst, float(np.max(np.abs(a[ok] - e[ok]))))
print(json.dumps(worst))
""", scene=node.scene, dir=out_dir) if status == "finished" else None
    check(worst is not None and worst < 1e-6, f"the NDVI computed on the cluster equals numpy's (max difference {worst})")
    slurm_log = os.path.join(node.CAT, "openeo", "jobs", job.job_id, "slurm.log")
    check(not os.path.exists(os.path.join(node.CAT, "openeo", "jobs", job.job_id, "work")), "no work files left after the job")

    # 2. Cancelled through openEO: scancel.
    held = cluster.run("scontrol", "update", "PartitionName=debug", "State=DOWN")  # jobs stay PENDING: cancel is certain to find it
    job2 = ana.load_collection("series", bands=["B3", "B4"]).ndvi().create_job(out_format="GTiff")
    job2.start()
    sid2 = slurm_id(job2)
    check(sid2 is not None and cluster.job_state(sid2) == "PENDING", f"the second job waits in Slurm: {sid2} {cluster.job_state(sid2) if sid2 else None}")
    job2.stop()
    status2 = wait_status(job2, ("canceled", "error", "finished"), 60)
    check(status2 == "canceled" and cluster.job_state(sid2) == "CANCELLED", f"cancelled through openEO and in Slurm: {status2} {cluster.job_state(sid2) if sid2 else None}")
    check(not os.path.exists(os.path.join(node.CAT, "openeo", "jobs", job2.job_id)), "a cancelled job leaves no file")

    # 3. Killed from outside (as an out-of-memory kill would): the job fails with Slurm's state.
    job3 = ana.load_collection("series", bands=["B3", "B4"]).ndvi().create_job(out_format="GTiff")
    job3.start()
    sid3 = slurm_id(job3)
    cluster.run("scancel", str(sid3))  # not through openEO
    cluster.run("scontrol", "update", "PartitionName=debug", "State=UP")
    status3 = wait_status(job3, ("error", "canceled", "finished"), 60)
    logs3 = [e["message"] for e in job3.logs()]
    check(status3 in ("canceled", "error") and any(f"Slurm job {sid3}" in m for m in logs3),
          f"a Slurm job ended from outside ends the openEO job, saying so: {status3} {logs3[-1:]}")

    # 4. A job that fails on the cluster (an input file gone since it was catalogued): the error it met.
    os.remove(os.path.join(node.series_dir, "olinda_2021-03-01.tif"))
    bad = ana.load_collection("series", bands=["B3", "B4"]).ndvi().create_job(out_format="GTiff")
    bad.start()
    status4 = wait_status(bad, ("error", "finished", "canceled"), 120)
    last = [e["message"] for e in bad.logs()][-1:]
    check(status4 == "error" and "olinda_2021-03-01.tif" in (last[0] if last else ""), f"the cluster's error is the job's: {status4} {last}")
finally:
    if node.server:
        node.stop()
    cluster.stop()
    node.remove()
check.finish()
