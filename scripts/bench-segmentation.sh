#!/usr/bin/env bash
# Segmentation benchmark: one event at a time through the engine (JSON decoding excluded), with a
# naive full-history reference side by side in the same run, on one core.
#   [REPS=N] [BASELINE=GIT-REF] scripts/bench-segmentation.sh [LEADS] [EVENTS_PER_LEAD]   (defaults 400 and 60)
# Reports per evaluation p50/p99 time and allocation calls, and signal-state bytes per lead, for
# the sample ruleset (config/segments.yaml) and a generated 20-segment ruleset. Release build.
# Allocations are counted by scripts/lib/malloc-count.c, built here and loaded with LD_PRELOAD.
#
# REPS runs the benchmark N times and prints, per row, the median over the runs of each figure
# (the machine is shared: a single run's p50 moves by 10-20%).
# BASELINE builds the same benchmark program against the engine of another commit (exported with
# `git archive` under Benchmarks/segmentation-bench/.build/baseline-src, so the worktree is not
# touched), checks that both engines give byte-identical decisions and lead states on the whole
# workload (`--digest`), and alternates baseline and current runs so both see the same load.
# SEGMENTATION_BENCH_ENGINE_ONLY=1 skips the reference evaluators (for profiling).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bench=Benchmarks/segmentation-bench
leads=${1:-400}
events=${2:-60}
reps=${REPS:-1}
baseline=${BASELINE:-}

command -v cc >/dev/null || { echo "bench-segmentation: a C compiler (cc) is needed for the malloc counter" >&2; exit 1; }
mkdir -p "$bench/.build"
cc -O2 -shared -fPIC -o "$bench/.build/malloc-count.so" scripts/lib/malloc-count.c -ldl

swift build -c release --package-path "$bench" --product segmentation-bench
binary=$(swift build -c release --package-path "$bench" --show-bin-path)/segmentation-bench

base_binary=
if [[ -n "$baseline" ]]; then
    sha=$(git rev-parse --short "$baseline")
    src="$root/$bench/.build/baseline-src/$sha"
    if [[ ! -d "$src" ]]; then
        mkdir -p "$src"
        git archive "$sha" | tar -x -C "$src"
    fi
    # The same benchmark program (current sources) against the baseline engine.
    rm -rf "$src/$bench/Sources"
    cp -a "$bench/Sources" "$src/$bench/Sources"
    swift build -c release --package-path "$src/$bench" --product segmentation-bench
    base_binary=$(swift build -c release --package-path "$src/$bench" --show-bin-path)/segmentation-bench
    current_digest=$("$binary" --digest "$root/config/segments.yaml" "$leads" "$events")
    base_digest=$("$base_binary" --digest "$root/config/segments.yaml" "$leads" "$events")
    echo "baseline $sha $base_digest"
    echo "current         $current_digest"
    if [[ "$current_digest" == "$base_digest" ]]; then echo "output: byte-identical to the baseline"; else echo "output: DIFFERS from the baseline"; fi
fi

pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi
echo "bench-segmentation: $(uname -m), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), pinned: ${pin[*]:-no}, reps $reps"
run() {  # run LABEL BINARY: one benchmark run, its table printed, its rows kept with the label
    local out
    out=$(LD_PRELOAD="$root/$bench/.build/malloc-count.so" "${pin[@]}" "$2" "$root/config/segments.yaml" "$leads" "$events")
    if [[ $reps -eq 1 && -z "$baseline" ]]; then grep -v '^ROW' <<<"$out"; else echo "$1: $(grep '^signal state per lead, sample' <<<"$out")"; fi
    grep '^ROW' <<<"$out" | sed "s/^ROW/$1/" >>"$rows"
}
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
for ((r = 1; r <= reps; r++)); do
    [[ $reps -gt 1 || -n "$baseline" ]] && echo "--- run $r of $reps"
    if [[ -n "$base_binary" ]]; then run baseline "$base_binary"; fi
    run current "$binary"
done
if [[ $reps -gt 1 || -n "$baseline" ]]; then
    python3 - "$rows" <<'PY'
import sys, statistics, collections
rows = collections.OrderedDict()
for line in open(sys.argv[1]):
    label, ruleset, evaluator, *figures = line.rstrip("\n").split("\t")
    rows.setdefault((ruleset, evaluator, label), []).append([float(f) for f in figures])
print("\nmedians over runs (µs per evaluation; allocation calls per evaluation)")
print(f"{'ruleset':<24} {'evaluator':<24} {'build':<9} {'runs':>4} {'p50':>7} {'p99':>8} {'cpu p50':>8} {'allocs p50':>10} {'allocs mean':>11}")
medians = {}
order = {}
for key in rows: order.setdefault(key[:2], len(order))
for (ruleset, evaluator, label), runs in sorted(rows.items(), key=lambda kv: (order[kv[0][:2]], kv[0][2])):
    m = [statistics.median(column) for column in zip(*runs)]
    medians[(ruleset, evaluator, label)] = m
    print(f"{ruleset:<24} {evaluator:<24} {label:<9} {len(runs):>4} {m[0]:>7.2f} {m[1]:>8.2f} {m[2]:>8.2f} {m[3]:>10.0f} {m[4]:>11.1f}")
for (ruleset, evaluator, label), m in medians.items():
    if label == "current" and (ruleset, evaluator, "baseline") in medians:
        b = medians[(ruleset, evaluator, "baseline")]
        print(f"{ruleset} / {evaluator}: p50 baseline/current {b[0] / m[0]:.2f}x, cpu p50 {b[2] / m[2]:.2f}x, allocs p50 {b[3]:.0f} -> {m[3]:.0f}")
PY
fi
