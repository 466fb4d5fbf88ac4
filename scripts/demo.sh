#!/usr/bin/env bash
# One command from a fresh Debian 12 machine (as root): install, fetch sample data, build, run the demo.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/install-deps.sh"
bash "$root/scripts/fetch-data.sh"
bash "$root/scripts/build.sh"
exec "${SCO_BUILD_DIR:-$root/build}/apps/sco/sco" demo --data "$root/data/sample" "$@"
