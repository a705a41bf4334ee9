#!/usr/bin/env bash
# Instructions per `Engine.evaluate`, counted by callgrind, for a base commit and the worktree in one
# run: a load-independent A/B of the rule engine (wall time on this shared machine moves by 10-50 %).
#   [BASE=GIT-REF] [EVENTS=60] scripts/bench-engine-instructions.sh
# Builds the segmentation benchmark (Benchmarks/segmentation-bench, release) against the worktree's
# engine and, exported with `git archive` as scripts/bench-segmentation.sh does, against BASE's
# (default: main). Both run the same benchmark program on the worktree's config/segments.yaml and
# on the generated 20-segment ruleset, one ruleset per run (SEGMENTATION_BENCH_PART), under
# `valgrind --tool=callgrind` collecting only inside `Engine.evaluate(state:event:now:)`.
# Hashing is made deterministic (SWIFT_DETERMINISTIC_HASHING), so a figure repeats exactly.
# Each figure is the difference of two runs (60 and 20 leads of EVENTS events) divided by the
# evaluations between them, so set-up, warm-up and the program's own work cancel out.
# It first checks that both engines give byte-identical decisions and states (`--digest`).
# Callgrind files of the larger runs stay in Benchmarks/segmentation-bench/.build/callgrind/ for
# `callgrind_annotate --inclusive=yes FILE | head -60`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bench=Benchmarks/segmentation-bench
base=${BASE:-main}
events=${EVENTS:-60}
small=20 large=60   # both at least 20: the sample part warms up on the first 20 journeys either way
symbol='$s12Segmentation6EngineV8evaluate5state5event3nowAA10EvaluationVAA9LeadStateV_AA5EventVSgAA9TimestampVtF'
command -v valgrind >/dev/null || { echo "bench-engine-instructions: valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
out="$root/$bench/.build/callgrind"
mkdir -p "$out"

# The benchmark against the worktree's engine.
swift build -c release --package-path "$bench" --product segmentation-bench
current=$(swift build -c release --package-path "$bench" --show-bin-path)/segmentation-bench

# The same benchmark program against BASE's engine (as scripts/bench-segmentation.sh BASELINE=).
sha=$(git rev-parse --short "$base")
src="$root/$bench/.build/baseline-src/$sha"
if [[ ! -d "$src" ]]; then mkdir -p "$src"; git archive "$sha" | tar -x -C "$src"; fi
rm -rf "$src/$bench/Sources"
cp -a "$bench/Sources" "$src/$bench/Sources"
swift build -c release --package-path "$src/$bench" --product segmentation-bench
baseline=$(swift build -c release --package-path "$src/$bench" --show-bin-path)/segmentation-bench

# valgrind 3.19 cannot read Swift's DWARF 5: count on copies without debug info.
strip --strip-debug -o "$out/base" "$baseline"
strip --strip-debug -o "$out/current" "$current"

digest_base=$("$out/base" --digest "$root/config/segments.yaml" 40 "$events")
digest_current=$("$out/current" --digest "$root/config/segments.yaml" 40 "$events")
if [[ "$digest_base" == "$digest_current" ]]; then echo "output: byte-identical to $sha (40 leads x $events events, sample ruleset)"
else echo "output: DIFFERS from $sha"; echo "  base    $digest_base"; echo "  current $digest_current"; fi

count() {  # count BUILD PART LEADS: instructions collected inside Engine.evaluate
    local file="$out/$1-$2-$3.out"
    SWIFT_DETERMINISTIC_HASHING=1 SEGMENTATION_BENCH_ENGINE_ONLY=1 SEGMENTATION_BENCH_PART="$2" valgrind --tool=callgrind --toggle-collect="$symbol" \
        --callgrind-out-file="$file" "$out/$1" "$root/config/segments.yaml" "$3" "$events" >/dev/null 2>"$out/$1-$2-$3.log"
    awk '/^summary:/ {print $2}' "$file"
}
echo "instructions per Engine.evaluate (callgrind; ($large - $small) leads x $events events, load average $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-10s %12s %12s %9s\n' ruleset "base $sha" current change
for part in sample generated; do
    declare -A per
    for build in base current; do
        a=$(count "$build" "$part" "$small"); b=$(count "$build" "$part" "$large")
        per[$build]=$(( (b - a) / ((large - small) * events) ))
    done
    printf '%-10s %12d %12d %8.1f%%\n' "$part" "${per[base]}" "${per[current]}" \
        "$(python3 -c "print(100 * (${per[current]} - ${per[base]}) / ${per[base]})")"
    unset per
done
