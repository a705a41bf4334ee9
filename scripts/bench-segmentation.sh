#!/usr/bin/env bash
# Segmentation benchmark: one event at a time through the engine (JSON decoding excluded), with a
# naive full-history reference side by side in the same run, on one core.
#   scripts/bench-segmentation.sh [LEADS] [EVENTS_PER_LEAD]     (defaults 400 and 60)
# Reports per evaluation p50/p99 time and allocation calls, and signal-state bytes per lead, for
# the sample ruleset (config/segments.yaml) and a generated 20-segment ruleset. Release build.
# Allocations are counted by scripts/lib/malloc-count.c, built here and loaded with LD_PRELOAD.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bench=Benchmarks/segmentation-bench
leads=${1:-400}
events=${2:-60}

command -v cc >/dev/null || { echo "bench-segmentation: a C compiler (cc) is needed for the malloc counter" >&2; exit 1; }
mkdir -p "$bench/.build"
cc -O2 -shared -fPIC -o "$bench/.build/malloc-count.so" scripts/lib/malloc-count.c -ldl

swift build -c release --package-path "$bench" --product segmentation-bench
binary=$(swift build -c release --package-path "$bench" --show-bin-path)/segmentation-bench

pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi
echo "bench-segmentation: $(uname -m), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), pinned: ${pin[*]:-no}"
LD_PRELOAD="$root/$bench/.build/malloc-count.so" "${pin[@]}" "$binary" "$root/config/segments.yaml" "$leads" "$events"
