#!/usr/bin/env bash
# Installs the Debian 12 packages sco builds, tests and benchmarks with. Skips apt when all are present.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libgdal-dev gdal-bin libproj-dev libgeos-dev libsqlite3-dev libsodium-dev libcpp-httplib-dev libssl-dev zlib1g-dev libdeflate-dev libzstd-dev openssl
  libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libtbb-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3-gdal python3-numpy python3-jsonschema python3-venv python3-pip time
  chromium
)
# npm (for test tools and, later, the web map): Debian's nodejs + npm unless a node with npm is present.
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
for arg in "$@"; do
  case "$arg" in
    --bench) packages+=(otb-bin python3-rasterio hyperfine wrk mapserver-bin curl) ;;
    --sanitize) packages+=(clang libclang-rt-14-dev) ;;  # libFuzzer and the sanitizer runtimes for clang
    *) echo "install-deps: unknown option $arg (--bench, --sanitize)" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The tests' Python packages (real clients: the openEO Python client...), pinned in
# tests/requirements.txt, in a virtual environment made from Debian's interpreter so that
# python3-gdal and numpy stay visible; reinstalled only when the requirements change.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${SCO_VENV:-$root/.venv}"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$root/tests/requirements.txt" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "install-deps: Python test packages into $venv" >&2
  /usr/bin/python3 -m venv --system-site-packages "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$root/tests/requirements.txt"
  echo "$want" > "$stamp"
fi

# The benchmarks' anchors from PyPI: exactextract and TiTiler (bench/requirements.txt) in bench/.venv,
# beside Debian's numpy and GDAL bindings; openeo-processes-dask (bench/openeo) in an environment of
# its own (below).
if [[ " $* " == *" --bench "* ]]; then
  avenv="$root/bench/.venv"
  astamp="$avenv/.requirements.sha256"
  awant="$(sha256sum "$root/bench/requirements.txt" | cut -d' ' -f1)"
  if [[ ! -x "$avenv/bin/python" || ! -f "$astamp" || "$(cat "$astamp")" != "$awant" ]]; then
    echo "install-deps: exactextract and TiTiler into $avenv" >&2
    /usr/bin/python3 -m venv --system-site-packages "$avenv"
    "$avenv/bin/pip" install -q --disable-pip-version-check -r "$root/bench/requirements.txt"
    echo "$awant" > "$astamp"
  fi
fi

# bench/openeo's anchor (openeo-processes-dask), in its own environment:
# they bring their own numpy, xarray and Dask, which must not shadow Debian's in the tests'.
if [[ " $* " == *" --bench "* ]]; then
  bvenv="$root/bench/.venv-openeo"
  bstamp="$bvenv/.requirements.sha256"
  bwant="$(sha256sum "$root/bench/openeo/requirements.txt" | cut -d' ' -f1)"
  if [[ ! -x "$bvenv/bin/python" || ! -f "$bstamp" || "$(cat "$bstamp")" != "$bwant" ]]; then
    echo "install-deps: openeo-processes-dask into $bvenv" >&2
    /usr/bin/python3 -m venv "$bvenv"
    "$bvenv/bin/pip" install -q --disable-pip-version-check -r "$root/bench/openeo/requirements.txt"
    echo "$bwant" > "$bstamp"
  fi
fi
