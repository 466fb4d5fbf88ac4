#!/usr/bin/env bash
# One command from a fresh Debian 12 machine (as root): install, fetch sample data, build, run all tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/install-deps.sh"
bash "$root/scripts/fetch-data.sh"
bash "$root/scripts/build.sh"
# npm packages the tests use (offline JSON schemas); the lock file pins them.
(cd "$root/tests/tools" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
cd "${SCO_BUILD_DIR:-$root/build}"
ctest --output-on-failure --timeout 600 -j "$(nproc)" "$@"
