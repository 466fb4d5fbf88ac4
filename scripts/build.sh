#!/usr/bin/env bash
# Configures and builds sco (Release) into build/. Extra arguments go to cmake's configure step.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SCO_BUILD_DIR:-$root/build}"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${SCO_BUILD_TYPE:-Release}" "$@" >/dev/null
cmake --build "$build" --parallel "$(nproc)"
# The web map: npm packages (pinned by web/package-lock.json) copied with the app into web/dist.
(cd "$root/web" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && node build.mjs >/dev/null)
