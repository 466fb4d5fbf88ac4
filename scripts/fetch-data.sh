#!/usr/bin/env bash
# Fetches sco's real sample data from Debian packages (apt-get download + dpkg -x), copies only the
# data files named in data/manifest.tsv into data/sample/, and checks each SHA-256.
# Idempotent: files already present with the right checksum are kept.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
manifest="$root/data/manifest.tsv"
dest="${SCO_SAMPLE_DIR:-$root/data/sample}"
mkdir -p "$dest"

missing=()
while IFS=$'\t' read -r sum pkg path name; do
  [[ -z "$sum" || "$sum" == \#* ]] && continue
  if [[ -f "$dest/$name" ]] && echo "$sum  $dest/$name" | sha256sum --check --status; then
    continue
  fi
  missing+=("$pkg")
done <"$manifest"

if ((${#missing[@]})); then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  pkgs=($(printf '%s\n' "${missing[@]}" | sort -u))
  echo "fetch-data: downloading ${pkgs[*]}" >&2
  # _apt cannot write into a root-owned mktemp dir; make it world-writable for the download.
  chmod 777 "$work"
  (cd "$work" && apt-get download "${pkgs[@]}" >/dev/null 2>"$work/apt.err") || {
    echo "fetch-data: apt-get download failed (run 'apt-get update' first?):" >&2
    cat "$work/apt.err" >&2
    exit 1
  }
  for deb in "$work"/*.deb; do dpkg -x "$deb" "$work/x"; done
  while IFS=$'\t' read -r sum pkg path name; do
    [[ -z "$sum" || "$sum" == \#* ]] && continue
    [[ -f "$work/x/$path" ]] || continue
    # -p keeps the package's timestamps: a bound on when the data was made (sco demo uses it).
    cp -p "$work/x/$path" "$dest/$name.part"
    mv "$dest/$name.part" "$dest/$name"
  done <"$manifest"
fi

status=0
while IFS=$'\t' read -r sum pkg path name; do
  [[ -z "$sum" || "$sum" == \#* ]] && continue
  if ! echo "$sum  $dest/$name" | sha256sum --check --status 2>/dev/null; then
    echo "fetch-data: checksum mismatch or missing file: $dest/$name (package $pkg, $path)" >&2
    status=1
  fi
done <"$manifest"
[[ $status -eq 0 ]] && echo "fetch-data: sample data verified in $dest" >&2
exit $status
