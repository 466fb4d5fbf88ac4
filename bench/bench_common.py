"""Helpers shared by the benchmark scripts: warm a file into the page cache, time a command."""
import json
import os
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
