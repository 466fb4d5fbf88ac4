"""A real single-node Slurm cluster for the tests: Debian's munged, slurmctld and slurmd started in a
temporary folder with their own munge key, socket, ports and slurm.conf (no cgroups: linuxproc
process tracking), as root. `Cluster.start()` returns None, or why it cannot (not installed, not
root, a daemon that did not come up). The tests then run Slurm's commands with `cluster.env`."""
import os
import shutil
import socket
import subprocess
import tempfile
import time

from pg import free_port


class Cluster:
    def __init__(self):
        self.dir = None
        self.env = dict(os.environ)
        self.procs = []

    def start(self, cpus=2):
        for tool in ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "scontrol", "sinfo", "scancel"):
            if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
                return f"{tool} is not installed (apt-get install slurm-wlm munge)"
        if os.geteuid() != 0:
            return "the test cluster's daemons run as root"
        self.dir = tempfile.mkdtemp(prefix="sco-slurm-")
        d = self.dir
        for sub in ("state", "spool", "munge"):
            os.makedirs(os.path.join(d, sub))
        os.chmod(os.path.join(d, "munge"), 0o700)
        key = os.path.join(d, "munge", "munge.key")
        subprocess.run(["mungekey", "--create", f"--keyfile={key}"], check=True, capture_output=True)
        os.chmod(key, 0o600)
        sock = os.path.join(d, "munge", "munge.socket")
        subprocess.run(["munged", "--force", f"--socket={sock}", f"--key-file={key}", f"--pid-file={d}/munge/munged.pid",
                        f"--log-file={d}/munge/munged.log", f"--seed-file={d}/munge/munged.seed"], check=True, capture_output=True)
        host = socket.gethostname()
        conf = os.path.join(d, "slurm.conf")
        with open(conf, "w") as f:
            f.write(f"""ClusterName=scotest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={sock}
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MinJobAge=600
SchedulerType=sched/backfill
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
""")
        self.env = dict(os.environ, SLURM_CONF=conf)
        self.procs.append(subprocess.Popen(["slurmctld", "-D", "-f", conf], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(1.0)
        self.procs.append(subprocess.Popen(["slurmd", "-D", "-f", conf, "-N", host], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for _ in range(100):
            r = subprocess.run(["sinfo", "-h", "-o", "%T"], env=self.env, capture_output=True, text=True)
            if r.returncode == 0 and r.stdout.strip() in ("idle", "mixed", "allocated"):
                return None
            time.sleep(0.2)
        return f"the test cluster did not come up: {self.log()}"

    def log(self):
        out = []
        for name in ("slurmctld.log", "slurmd.log", "munge/munged.log"):
            p = os.path.join(self.dir or "", name)
            if os.path.exists(p):
                out.append(name + ": " + open(p).read()[-1500:])
        return "\n".join(out)

    def run(self, *args):
        return subprocess.run(list(args), env=self.env, capture_output=True, text=True)

    def job_state(self, slurm_id):
        r = self.run("scontrol", "show", "job", "-o", str(slurm_id))
        for word in r.stdout.split():
            if word.startswith("JobState="):
                return word.split("=", 1)[1]
        return None

    def stop(self):
        for p in reversed(self.procs):
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        if self.dir:
            subprocess.run(["munged", "--stop", f"--socket={os.path.join(self.dir, 'munge', 'munge.socket')}"], capture_output=True)
            shutil.rmtree(self.dir, ignore_errors=True)
