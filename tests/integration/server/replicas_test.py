#!/usr/bin/env python3
"""Replicated servers (issue 20, part 2): two `sco serve` processes of one node, its catalog and shared
state in a real PostgreSQL (tests/support/pg.py), behind a real nginx running docs/nginx-replicas.conf:
  - one rate limit for both replicas: a token's requests spread over both pass as often as on one;
  - a login through one replica is a token on the other; a token revoked by the command line is
    refused by both at the next request;
  - a job submitted through one replica (official openEO client) is listed, followed and cancelled
    through the other; its files are gone;
  - load through nginx, one replica killed with SIGKILL: the load continues through the other with no
    errors beyond the requests that were in flight on the dead one; the job that was running on the
    dead replica is marked failed by the survivor;
  - the audit log, written by both replicas, verifies as one chain.
Usage: replicas_test.py SCO SAMPLE_DIR PROJECT_DIR
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
sys.path.insert(0, os.path.join(HERE, "..", "openeo"))
from checks import Checks  # noqa: E402
from node_fixture import Node, openeo_client, wait_status  # noqa: E402
from pg import Cluster, free_port  # noqa: E402

SCO, SAMPLE, PROJECT = sys.argv[1], sys.argv[2], sys.argv[3]
check = Checks()
openeo, _ = openeo_client(check)
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
if not os.path.exists(NGINX):
    check.skip("nginx is not installed (scripts/install-deps.sh installs it)")
    check.finish()
cluster = Cluster()
why = cluster.start()
if why:
    check.skip(why)
    check.finish()

node = Node(SCO, SAMPLE, "sco-replicas-")
TMP, CAT = node.TMP, node.CAT
os.makedirs(CAT)
with open(os.path.join(CAT, "catalog.uri"), "w") as f:
    f.write(cluster.new_database() + "\n")
node.populate()
node.add_big_scene(4000)
check(not os.path.exists(os.path.join(CAT, "users.json")) and not os.path.exists(os.path.join(CAT, "audit.log")),
      "users and the audit log are in the database, not in the node's folder")

processes, nginx = [], []


class Replica:
    def __init__(self, name, *options):
        self.log = os.path.join(TMP, f"{name}.log")
        self.p = subprocess.Popen([SCO, "--catalog", CAT, "serve", "--port", "0", "--trust-proxy"] + list(options),
                                  stdout=subprocess.PIPE, stderr=open(self.log, "w"), text=True)
        processes.append(self.p)
        line = self.p.stdout.readline()
        self.port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", line).group(1))
        self.root = f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=60)

    def served(self):
        return sum(1 for line in open(self.log) if '"GET ' in line)


def request(method, url, token=None, timeout=30):
    req = urllib.request.Request(url, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def heavy(con):
    return con.load_collection("big").apply(lambda x: x * 2 + 1).apply(lambda x: x * 0.5).apply(lambda x: x * 3 - 1)


def shared_rate_limit():
    """5 per second, bursts of 10, for both replicas together: 30 quick requests alternating between them
    pass about 10 times (a limit per replica would pass 20)."""
    token = node.sco("token", "create", "--owner", "load", "--role", "reader").strip()
    a, b = Replica("rate-a", "--rate-limit", "5"), Replica("rate-b", "--rate-limit", "5")
    t0 = time.time()
    passed = sum(request("GET", (a, b)[k % 2].root + "/stac/collections", token)[0] == 200 for k in range(30))
    elapsed = time.time() - t0
    a.stop()
    b.stop()
    check(10 <= passed <= 11 + int(5 * elapsed), f"one rate limit for both replicas: {passed} of 30 passed in {elapsed:.2f} s")


def tokens_across(a, b):
    ana = openeo.connect(a.root).authenticate_basic("ana", Node.PASSWORDS["ana"])
    token = ana.auth.bearer.split("//", 1)[1]
    s, body = request("GET", b.root + "/openeo/1.2/me", token)
    check(s == 200 and json.loads(body)["user_id"] == "ana", f"a login through one replica is a token on the other: {s} {body[:120]}")
    other = node.sco("token", "create", "--owner", "ops", "--role", "admin").strip()
    ok_before = [request("GET", r.root + "/stac/collections", other)[0] for r in (a, b)]
    node.sco("token", "revoke", other[4:16])
    after = [request("GET", r.root + "/stac/collections", other)[0] for r in (a, b)]
    check(ok_before == [200, 200] and after == [401, 401], f"a revoked token is refused by both replicas at once: {ok_before} -> {after}")
    return token


def jobs_across(a, b):
    ana_a = openeo.connect(a.root).authenticate_basic("ana", Node.PASSWORDS["ana"])
    ana_b = openeo.connect(b.root).authenticate_basic("ana", Node.PASSWORDS["ana"])
    job = heavy(ana_a).create_job(out_format="GTiff", title="submitted through replica A")
    job.start_job()
    seen = wait_status(ana_b.job(job.job_id), ("running",), 60)
    check(job.job_id in [j["id"] for j in ana_b.list_jobs()] and seen == "running", f"the job is listed and followed through replica B: {seen}")
    t0 = time.time()
    ana_b.job(job.job_id).stop_job()
    status = ana_a.job(job.job_id).status()
    check(status == "canceled", f"cancelled through replica B, stopped by replica A: {status} after {time.time() - t0:.1f} s")
    check(not os.path.exists(os.path.join(CAT, "openeo", "jobs", job.job_id)), "the cancelled job left no file")
    return ana_a, ana_b


def nginx_in_front(a, b):
    prefix = os.path.join(TMP, "nginx")
    os.makedirs(os.path.join(prefix, "tmp"))
    os.chmod(prefix, 0o777)
    os.chmod(os.path.join(prefix, "tmp"), 0o777)
    port = free_port()
    site = open(os.path.join(PROJECT, "docs", "nginx-replicas.conf")).read()
    site = site.replace("127.0.0.1:8081", f"127.0.0.1:{a.port}").replace("127.0.0.1:8082", f"127.0.0.1:{b.port}")
    site = site.replace("listen 8080;", f"listen 127.0.0.1:{port};")
    with open(os.path.join(prefix, "site.conf"), "w") as f:
        f.write(site)
    with open(os.path.join(prefix, "nginx.conf"), "w") as f:
        f.write(f"""daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    include {prefix}/site.conf;
}}
""")
    p = subprocess.Popen([NGINX, "-p", prefix, "-c", os.path.join(prefix, "nginx.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    nginx.append(p)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2)
            break
        except Exception:
            time.sleep(0.05)
    return url


def load_and_kill(front, a, b, token, ana_a, ana_b):
    paths = ["/stac/collections", "/stac/search?collections=series&limit=2", "/openeo/1.2/jobs", "/openeo/1.2/me",
             "/stac/collections/series/items?limit=1"]
    results, stop = [], threading.Event()

    def client(k):
        n = k
        while not stop.is_set():
            t = time.time()
            try:
                s, _ = request("GET", front + paths[n % len(paths)], token, timeout=20)
            except Exception as e:  # noqa: BLE001 (a reset connection is an error the client sees)
                s = repr(e)[:80]
            results.append((t, time.time(), s))
            n += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    time.sleep(2.0)
    # A job running on A when it dies.
    doomed = heavy(ana_a).create_job(out_format="GTiff", title="running on the replica that dies")
    doomed.start_job()
    running = wait_status(ana_a.job(doomed.job_id), ("running",), 60)
    before = (a.served(), b.served())
    killed_at = time.time()
    a.p.send_signal(signal.SIGKILL)
    a.p.wait()
    time.sleep(4.0)
    stop.set()
    for t in threads:
        t.join()
    errors = [r for r in results if r[2] != 200]
    in_flight = [r for r in results if r[0] <= killed_at <= r[1]]
    after = [r for r in results if r[0] > killed_at]
    check(before[0] > 20 and before[1] > 20, f"both replicas served the load before the kill: {before}")
    print(f"load: {len(results)} requests, {len(after)} after the kill, {len(errors)} errors, {len(in_flight)} in flight at the kill; served before: {before}")
    check(len(errors) <= len(in_flight) and len(errors) <= 4,
          f"{len(results)} requests, {len(after)} after the kill: errors {len(errors)} ({errors[:4]}), in flight at the kill {len(in_flight)}")
    check(len(after) > 50 and all(r[2] == 200 for r in after if r[0] > killed_at + 1), "the load goes on through the surviving replica")
    status = wait_status(ana_b.job(doomed.job_id), ("error",), 30)
    check(running == "running" and status == "error", f"the job running on the killed replica is marked failed by the other: {running} -> {status}")


T0 = time.time()
try:
    shared_rate_limit()
    a, b = Replica("a"), Replica("b")
    token = tokens_across(a, b)
    ana_a, ana_b = jobs_across(a, b)
    front = nginx_in_front(a, b)
    load_and_kill(front, a, b, token, ana_a, ana_b)
    b.stop()
    v = node.sco("--json", "audit", "verify", ok=False)
    report = json.loads(v.stdout)
    check(v.returncode == 0 and report["ok"] and report["entries"] > 10, f"the audit log of both replicas verifies as one chain: {v.stdout[:300]}")
    print(f"replicas test: {time.time() - T0:.1f} s")
finally:
    for p in nginx:  # TERM: the master stops its workers too (KILL would leave them running)
        p.terminate()
        p.wait(timeout=30)
    for p in processes:
        if p.poll() is None:
            p.kill()
            p.wait()
    cluster.stop()
    node.remove()
check.finish()
