#!/usr/bin/env bash
# The CI's second and third steps, on their own build (build-san/, clang):
#   1. sco, its tests and the libFuzzer targets built with AddressSanitizer, UndefinedBehaviorSanitizer
#      (and libFuzzer's coverage hooks, harmless elsewhere); the whole test suite run there: any
#      sanitizer report fails the test that triggered it (halt_on_error);
#   2. each fuzz target (fuzz/: band-math expressions, recipes, STAC JSON, query strings, the tile
#      DEFLATE encoder, CF time axes, the raster metadata read at ingest, vector zones) run for
#      SCO_FUZZ_SECONDS (default 30; 0 skips) from the seeds in fuzz/corpus. A crash, a report, a
#      leak or a broken property stops with the input saved in build-san/artifacts/ (replay:
#      build-san/fuzz/fuzz_NAME build-san/artifacts/fuzz_NAME-crash-...).
# SCO_SKIP_TESTS=1 runs only the fuzzers. Extra arguments go to ctest (e.g. -R stac_server).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SCO_SAN_BUILD_DIR:-$root/build-san}"
seconds="${SCO_FUZZ_SECONDS:-30}"
bash "$root/scripts/install-deps.sh" --sanitize
bash "$root/scripts/fetch-data.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DSCO_FUZZ=ON -DSCO_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --parallel "$(nproc)"
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:allocator_may_return_null=1"
export LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

if [[ "${SCO_SKIP_TESTS:-0}" != 1 ]]; then
  (cd "$root/web" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && node build.mjs >/dev/null)
  (cd "$root/tests/tools" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  (cd "$build" && ctest --output-on-failure --timeout 1500 -j "$(nproc)" "$@")
fi

if [[ "$seconds" != 0 ]]; then
  # An allocation over 2 GiB fails as it would on a loaded machine (NULL, not a fuzzer's "out of
  # memory"): libnetcdf sizes buffers from a file's header before checking it against the file.
  export ASAN_OPTIONS="$ASAN_OPTIONS:max_allocation_size_mb=2048"
  mkdir -p "$build/artifacts"
  for t in fuzz_expression fuzz_recipe fuzz_stac_json fuzz_query fuzz_deflate fuzz_cf_time fuzz_raster_metadata fuzz_zones fuzz_stix; do
    name="${t#fuzz_}"
    work="$build/corpus/$name"  # grows across runs; the committed seeds stay as they are
    mkdir -p "$work"
    echo "fuzz: $t for ${seconds}s" >&2
    seeds=("$root/fuzz/corpus/$name")
    [[ "$name" == recipe ]] && seeds+=("$root/recipes")  # the built-in recipes are seeds too
    if ! "$build/fuzz/$t" "$work" "${seeds[@]}" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
      -max_len=16384 -malloc_limit_mb=4096 -artifact_prefix="$build/artifacts/$t-" -print_final_stats=1 >"$build/$t.log" 2>&1; then
      tail -60 "$build/$t.log" >&2
      echo "fuzz: $t FAILED (input saved under $build/artifacts/)" >&2
      exit 1
    fi
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$build/$t.log" | tr '\n' ' ' >&2
    echo >&2
  done
  echo "fuzz: every target ran ${seconds}s clean" >&2
fi
