"""A real PostgreSQL server for the Python tests (as tests/support/pg_cluster.hpp for the C++ ones):
Debian's initdb and pg_ctl, a cluster in a temporary folder run as the `postgres` user when the tests
run as root, on a free local port. `Cluster.start()` returns None and the reason when PostgreSQL or
PostGIS is not installed."""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Cluster:
    def __init__(self):
        self.dir = None
        self.port = None
        self.bin = None
        self.count = 0

    def start(self, settings="-c fsync=off"):
        """Starts the server; `settings` are postgres -c options (the tests turn fsync off)."""
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            return "PostgreSQL is not installed"
        self.bin = os.path.dirname(bins[-1])
        version = self.bin.split("/")[-2]
        if not os.path.exists(f"/usr/share/postgresql/{version}/extension/postgis.control"):
            return f"PostGIS for PostgreSQL {version} is not installed"
        self.dir = tempfile.mkdtemp(prefix="sco-pg-")
        self.owner = None
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.owner = "postgres"
        self.port = free_port()
        self._run(f"{self.bin}/initdb -D {self.dir}/data -U sco -A trust --no-sync -E UTF8 --locale=C.UTF-8 > {self.dir}/initdb.log 2>&1")
        self._run(f"{self.bin}/pg_ctl -D {self.dir}/data -l {self.dir}/log -w -o \"-p {self.port} -k {self.dir} "
                  f"-c listen_addresses=127.0.0.1 {settings} -c max_connections=200\" start > /dev/null")
        return None

    def new_database(self):
        self.count += 1
        name = f"t{self.count}"
        subprocess.run([f"{self.bin}/psql", "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", "sco", "-d", "postgres", "-c",
                        f"CREATE DATABASE {name}"], check=True, capture_output=True)
        return f"postgresql://sco@127.0.0.1:{self.port}/{name}"

    def stop(self):
        if self.dir:
            self._run(f"{self.bin}/pg_ctl -D {self.dir}/data -m immediate -w stop > /dev/null", check=False)
            shutil.rmtree(self.dir, ignore_errors=True)

    def _run(self, cmd, check=True):
        if self.owner:
            cmd = ["runuser", "-u", self.owner, "--", "sh", "-c", cmd]
        else:
            cmd = ["sh", "-c", cmd]
        subprocess.run(cmd, check=check)
