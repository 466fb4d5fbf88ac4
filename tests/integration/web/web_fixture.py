"""What the web map's browser tests share: the check that Chromium and the built map are there (SKIP
otherwise), and `sco serve` with the map on a free port."""
import os
import re
import subprocess
import sys


def require_browser(source):
    if not os.path.exists("/usr/bin/chromium") or not os.path.isdir(os.path.join(source, "web", "dist")):
        print("SKIP: needs /usr/bin/chromium and the built web map (scripts/build.sh)")
        sys.exit(77)


def serve(sco, catalog, source):
    """`sco serve` of `catalog` with the built map; returns the process and its root URL."""
    server = subprocess.Popen([sco, "--catalog", catalog, "serve", "--port", "0", "--web", os.path.join(source, "web", "dist")],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = int(re.search(r":(\d+)/", server.stdout.readline()).group(1))
    return server, f"http://127.0.0.1:{port}"
