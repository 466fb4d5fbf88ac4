#!/usr/bin/env bash
# One command from a fresh Debian 12 machine (as root): install, fetch sample data, build, run the demo,
# then serve the observatory on http://127.0.0.1:8080/ until Ctrl-C (set SCO_DEMO_SERVE=0 not to serve).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/install-deps.sh"
bash "$root/scripts/fetch-data.sh"
bash "$root/scripts/build.sh"
serve=()
if [[ "${SCO_DEMO_SERVE:-1}" != "0" ]]; then serve=(--serve); fi
exec "${SCO_BUILD_DIR:-$root/build}/apps/sco/sco" demo --data "$root/data/sample" "${serve[@]}" "$@"
