#!/usr/bin/env bash
# A long local fuzzing campaign for one target of the sanitized build (scripts/sanitize.sh builds it):
#   scripts/fuzz-campaign.sh TARGET [RUNS] [MAX_SECONDS]     e.g. scripts/fuzz-campaign.sh zones 1000000
# Runs build-san/fuzz/fuzz_TARGET from fuzz/corpus/TARGET into build-san/campaign/TARGET until RUNS
# executions (default 10^6) or MAX_SECONDS (default 4 h), under the same sanitizer options as the CI's
# short runs; the log is build-san/campaign-TARGET.log, inputs that fail are kept under
# build-san/artifacts/campaign-TARGET-*. SCO_FORK=N runs N worker processes. Afterwards SCO_MERGE=1 merges the grown corpus back into
# fuzz/corpus/TARGET (only inputs adding coverage), to be committed as the next run's seeds.
set -euo pipefail
root="${SCO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"  # SCO_ROOT: when run from a copy
build="${SCO_SAN_BUILD_DIR:-$root/build-san}"
target="${1:?usage: fuzz-campaign.sh TARGET [RUNS] [MAX_SECONDS]}"
runs="${2:-1000000}"
seconds="${3:-14400}"
binary="$build/fuzz/fuzz_$target"
[[ -x "$binary" ]] || { echo "fuzz-campaign: $binary not built (run scripts/sanitize.sh first)" >&2; exit 2; }
# Allocation stacks of 2 frames: recording GDAL's and PROJ's many allocations with full stacks took
# 40 % of a run's time (perf); a failing input is replayed afterwards with full stacks.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:allocator_may_return_null=1:max_allocation_size_mb=2048:malloc_context_size=2:quarantine_size_mb=64"
export LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
# The targets write each input to a file and read it back: in memory, not through the disk's journal.
[[ -d /dev/shm && -w /dev/shm ]] && export TMPDIR=/dev/shm
mkdir -p "$build/campaign/$target" "$build/artifacts"
if [[ "${SCO_MERGE:-0}" == 1 ]]; then
  exec "$binary" -merge=1 "$root/fuzz/corpus/$target" "$build/campaign/$target" -timeout=20 -rss_limit_mb=6144 \
    -malloc_limit_mb=4096 -max_len=16384
fi
fork=()
[[ -n "${SCO_FORK:-}" ]] && fork=(-fork="$SCO_FORK")  # N worker processes, executions summed (libFuzzer's fork mode)
set +e
"$binary" "$build/campaign/$target" "$root/fuzz/corpus/$target" "${fork[@]}" -runs="$runs" -max_total_time="$seconds" \
  -timeout=120 -rss_limit_mb=6144 -malloc_limit_mb=4096 -max_len=16384 -print_final_stats=1 \
  -artifact_prefix="$build/artifacts/campaign-$target-" >"$build/campaign-$target.log" 2>&1
rc=$?
echo "rc=$rc" >>"$build/campaign-$target.log"
grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb" "$build/campaign-$target.log" >&2
exit $rc
