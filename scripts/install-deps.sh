#!/usr/bin/env bash
# Installs the Debian 12 packages sco builds, tests and benchmarks with. Skips apt when all are present.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libgdal-dev gdal-bin libproj-dev libgeos-dev libsqlite3-dev libsodium-dev libcpp-httplib-dev libssl-dev zlib1g-dev libdeflate-dev libzstd-dev openssl
  libpq-dev postgresql postgresql-15-postgis-3 nginx
  libopenmpi-dev openmpi-bin slurm-wlm munge
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
    --bench) packages+=(otb-bin python3-rasterio hyperfine wrk mapserver-bin curl valgrind) ;;
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

# Python packages pinned in a requirements file, in a virtual environment made from Debian's
# interpreter; reinstalled only when the requirements change. python_env DIR REQUIREMENTS WHAT [venv options]
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python_env() {
  local dir="$1" req="$2" what="$3"
  shift 3
  local stamp="$dir/.requirements.sha256" want
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [[ ! -x "$dir/bin/python" || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "install-deps: $what into $dir" >&2
    /usr/bin/python3 -m venv "$@" "$dir"
    "$dir/bin/pip" install -q --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
  fi
}

# The tests' packages (real clients: the openEO Python client, exactextract, pyMannKendall...), with
# --system-site-packages so that python3-gdal and Debian's numpy stay visible.
python_env "${SCO_VENV:-$root/.venv}" "$root/tests/requirements.txt" "Python test packages" --system-site-packages
# The STIX / TAXII peers (medallion, taxii2-client, stix2, stix2-validator) in their own environment:
# they need newer jsonschema and attrs than Debian's, which the other tests' environment keeps.
python_env "$root/.venv-intel" "$root/tests/requirements-intel.txt" "STIX/TAXII peers"
# The official openEO conformance suite in its own environment (numpy 2, newer xarray), and the official
# openEO process definitions it checks processes against: the copy the openeo-processes-dask wheel
# ships (the definitions are not on a registry of their own), its JSON files only, no code.
python_env "$root/.venv-openeo-suite" "$root/tests/requirements-openeo-suite.txt" "openeo-test-suite"
if [[ ! -f "$root/.venv-openeo-suite/assets/processes/load_collection.json" ]]; then
  echo "install-deps: openEO process definitions into .venv-openeo-suite/assets/processes" >&2
  defs="$(mktemp -d)"
  "$root/.venv-openeo-suite/bin/pip" download -q --disable-pip-version-check --no-deps -d "$defs" openeo-processes-dask==2026.6.1
  "$root/.venv-openeo-suite/bin/python" - "$defs"/openeo_processes_dask-2026.6.1-py3-none-any.whl "$root/.venv-openeo-suite/assets/processes" <<'EOF'
import os, sys, zipfile
prefix = "openeo_processes_dask/specs/openeo-processes/"
os.makedirs(sys.argv[2] + ".part", exist_ok=True)
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in z.namelist():
        rest = name[len(prefix):]
        if name.startswith(prefix) and rest.endswith(".json") and rest.count("/") <= 1 and not rest.startswith(("tests/", "meta/")):
            target = os.path.join(sys.argv[2] + ".part", rest)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(z.read(name))
os.rename(sys.argv[2] + ".part", sys.argv[2])
EOF
  rm -rf "$defs"
fi

if [[ " $* " == *" --bench "* ]]; then
  # The benchmarks' anchors: exactextract and TiTiler beside Debian's numpy and GDAL bindings;
  # openeo-processes-dask in an environment of its own: it brings its own numpy, xarray and Dask,
  # which must not shadow Debian's.
  python_env "$root/bench/.venv" "$root/bench/requirements.txt" "exactextract and TiTiler" --system-site-packages
  python_env "$root/bench/.venv-openeo" "$root/bench/openeo/requirements.txt" "openeo-processes-dask"
fi
