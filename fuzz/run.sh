#!/usr/bin/env bash
# Builds the libFuzzer targets (build-fuzz, clang) and runs each for a bounded
# time with its corpus. docs/testing.md explains the targets and the output.
#
#   fuzz/run.sh [SECONDS] [TARGET...]    SECONDS per target (default 60); targets
#                                        are corpus names (camera_config, ...); default all
# Environment:
#   FUZZ_BUILD_DIR=build-fuzz   where to build (made with CXX=clang++ -Dfuzz=true)
#   FUZZ_KEEP_GOING=1           fuzz on past crashes (libFuzzer -fork=1 -ignore_crashes=1):
#                               every crash is saved; the exit status still says there were some
#
# For each target: 1) replays fuzz/corpus/<t>/ and fuzz/regressions/<t>/ (every
# file, full length), 2) fuzzes for SECONDS, new inputs going to
# <build>/fuzz-corpus/<t>/ (the repo's seeds are read, never written).
# Crash files land in <build>/fuzz-artifacts/<t>/; the exit status is 1 when any
# target crashed, 0 when all ran clean.
set -uo pipefail

seconds=${1:-60}
shift || true
case "$seconds" in ''|*[!0-9]*) echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
case "$build" in /*) ;; *) build=$root/$build ;; esac

if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for d in "$root"/fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi

# Longest input the fuzzer makes up (the seeds themselves are replayed whole).
max_len_for() {
    case "$1" in
        route_path) echo 2048 ;;
        *) echo 8192 ;;
    esac
}

"$root/tools/deps.sh" fuzz >&2 || exit 2
if [ ! -f "$build/build.ninja" ]; then
    CXX=${CXX:-clang++} meson setup "$build" "$root" -Dfuzz=true --buildtype=debugoptimized >/dev/null || exit 2
fi
known=$(ninja -C "$build" -t targets all 2>/dev/null)
build_targets=()
enabled=()
for t in "${targets[@]}"; do
    if grep -q "^fuzz/fuzz_$t:" <<<"$known"; then
        build_targets+=("fuzz/fuzz_$t")
        enabled+=("$t")
    else
        echo "== $t: skipped (no fuzz_$t target in fuzz/meson.build)"
    fi
done
[ ${#enabled[@]} -gt 0 ] || { echo "no fuzz targets to run" >&2; exit 2; }
ninja -C "$build" "${build_targets[@]}" >/dev/null || { echo "build failed: ninja -C $build ${build_targets[*]}" >&2; exit 2; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
summary=()
for t in "${enabled[@]}"; do
    bin=$build/fuzz/fuzz_$t
    work=$build/fuzz-corpus/$t
    artifacts=$build/fuzz-artifacts/$t/
    log=$build/fuzz-logs/$t.log
    mkdir -p "$work" "$artifacts" "$(dirname "$log")"
    : >"$log"
    crashed=0

    inputs=()
    for f in "$root/fuzz/corpus/$t"/* "$root/fuzz/regressions/$t"/*; do [ -f "$f" ] && inputs+=("$f"); done
    if [ ${#inputs[@]} -gt 0 ]; then
        if ! "$bin" -timeout=10 "${inputs[@]}" >>"$log" 2>&1; then
            crashed=1
            # The batch stops at the first failure: try each input alone to name every failing one.
            for f in "${inputs[@]}"; do
                if ! out=$("$bin" -timeout=10 "$f" 2>&1); then
                    echo "== $t: input fails: ${f#"$root"/}"
                    grep -m2 -E 'ERROR: AddressSanitizer|runtime error|invariant violated|accepted a|terminate called|what\(\)' <<<"$out" | sed 's/^/   /'
                    echo "$out" >>"$log"
                fi
            done
        fi
    fi

    keep=()
    if [ "${FUZZ_KEEP_GOING:-0}" = 1 ]; then
        keep=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
    fi
    if [ $crashed = 0 ] || [ ${#keep[@]} -gt 0 ]; then
        echo "== $t: fuzzing for ${seconds}s"
        before=$(find "$artifacts" -type f | wc -l)
        "$bin" -max_total_time="$seconds" -max_len="$(max_len_for "$t")" -timeout=10 -rss_limit_mb=2048 \
            -artifact_prefix="$artifacts" -print_final_stats=1 "${keep[@]}" \
            "$work" "$root/fuzz/corpus/$t" >>"$log" 2>&1
        status=$?
        after=$(find "$artifacts" -type f | wc -l)
        if [ $status -ne 0 ] || [ "$after" -gt "$before" ]; then
            crashed=1
            echo "== $t: crashed (status $status); crash files:"
            find "$artifacts" -type f -newer "$log" -o -type f -name 'crash-*' | sort -u | head -20 | sed 's/^/   /'
            grep -m3 -E 'ERROR: |runtime error|invariant|accepted a|terminate called' "$log" | sed 's/^/   /'
        fi
    fi
    # The last progress line: executions, coverage, corpus size, speed.
    last=$(grep -E '^#[0-9]+.*cov:' "$log" | tail -1 | sed -E 's/^(#[0-9]+)[^c]*/\1 /')
    execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | tail -1 | awk '{print $2}')
    speed=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | tail -1 | awk '{print $2}')
    summary+=("$(printf '%-18s %s execs=%s exec/s=%s | %s' "$t" "$([ $crashed = 0 ] && echo clean || echo CRASH)" \
        "${execs:-?}" "${speed:-?}" "$last")")
    [ $crashed = 0 ] || failed+=("$t")
done

echo
echo "== summary (${seconds}s per target; logs in $build/fuzz-logs/)"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
    echo "crashes in: ${failed[*]} (failing seeds/regressions are named above; new crash files are in $build/fuzz-artifacts/<target>/)"
    exit 1
fi
exit 0
