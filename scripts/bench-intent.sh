#!/usr/bin/env bash
# High-intent events vs product views (issue 23, target 5: pricing requests from new leads at 64
# connections ≥ 0.5× the product-view rate of the same run, p99 < 50 ms). Per run, against one
# `leadrouter serve` (release, config/segments.yaml) on a PostgreSQL with fsync and synchronous
# commit on: wrk sends CONNS connections × DURATION s of "Product Viewed" for random users of
# 1..LEADS (scripts/bench/ingest-event.lua), then the same of "Pricing Requested" from new leads
# (scripts/bench/ingest-pricing.lua: segment entry, status change, sales assignment by round robin
# with capacity). While each runs, pg_stat_activity is sampled every 100 ms for backends waiting
# on a Lock; deadlocks come from pg_stat_database. Prints per build the medians over REPS of
# events/s and p99 of both, the ratio pricing/product-view of each run, lock waiters, deadlocks.
#
# With BASE_BIN set (another build, e.g. main's), runs alternate base/new per rep, each build on
# its own database in one PostgreSQL. Both servers run all the time; only one gets load at once.
#
#   scripts/bench-intent.sh                                       # REPS=3 DURATION=10 CONNS=64
#   BASE_BIN=/tmp/base/leadrouter BIN=… REPS=3 scripts/bench-intent.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/bench.sh

REPS=${REPS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
LEADS=${LEADS:-20000}
export LEADS

ensure_packages wrk libssl-dev zlib1g-dev libpq-dev pkg-config postgresql
bench_leadrouter release
bench_cluster_start
bench_workdir bench-intent
ROOT_URL=$DATABASE_URL

declare -A BINS=([new]=$BIN)
BUILDS=(new)
if [ -n "${BASE_BIN:-}" ]; then BINS[base]=$BASE_BIN; BUILDS=(base new); fi

declare -A PORTS KEYS URLS
for build in "${BUILDS[@]}"; do
    psql "$ROOT_URL" -qc "CREATE DATABASE intent_$build" >/dev/null
    URLS[$build]="${ROOT_URL%/*}/intent_$build"
    PORTS[$build]=$(free_port)
    DATABASE_URL=${URLS[$build]} bench_serve "${BINS[$build]}" "${PORTS[$build]}" "$WORK/$build.log" \
        --migrate --rules config/segments.yaml --log-level warning --worker-threads 96
    KEYS[$build]=$(DATABASE_URL=${URLS[$build]} "${BINS[$build]}" keys create --name bench-ingest --scopes ingest | tail -n 1)
done

RESULTS="$WORK/results.tsv"
: >"$RESULTS"

one() {  # one BUILD SCENARIO SCRIPT LABEL → "events/s p50 p99 non2xx lockwaiters kinds"
    local build=$1 db=${URLS[$1]} out locks
    : >"$WORK/locks-$4.tsv"
    bench_lock_waiters "$db" "$WORK/locks-$4.tsv" &
    local sampler=$!
    out=$(KEY=${KEYS[$build]} RUN="$4" wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s "$3" "http://127.0.0.1:${PORTS[$build]}/v1/events")
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
    echo "$out" >"$WORK/wrk-$4.txt"
    locks=$(awk -F'\t' '{n += $1; if ($2 != "-") kinds[$2]++} END {k = ""; for (x in kinds) k = k x " "; printf "%.2f\t%s", (NR ? n / NR : 0), (k == "" ? "-" : k)}' "$WORK/locks-$4.tsv")
    printf "%s\t%s\n" "$(wrk_figures <<<"$out")" "$locks"
}

run() {  # run BUILD LABEL: product views, then pricing requests; one row in RESULTS
    local build=$1 db=${URLS[$1]} views pricing d0 d1
    d0=$(psql "$db" -Atqc "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
    views=$(one "$build" views scripts/bench/ingest-event.lua "$2-views")
    pricing=$(one "$build" pricing scripts/bench/ingest-pricing.lua "$2-pricing")
    d1=$(psql "$db" -Atqc "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
    printf "%s\t%s\t%s\t%s\n" "$build" "$views" "$pricing" $((d1 - d0)) >>"$RESULTS"
    tail -n 1 "$RESULTS" >&2
}

echo "warm-up…" >&2
for build in "${BUILDS[@]}"; do DURATION=5 run "$build" "warm-$build"; done
: >"$RESULTS"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for rep in $(seq 1 "$REPS"); do
    for build in "${BUILDS[@]}"; do
        echo "rep $rep/$REPS: $build (load average $(cut -d' ' -f1 /proc/loadavg))" >&2
        run "$build" "$rep-$build"
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
for build in "${BUILDS[@]}"; do
    echo "$build items per owner: $(psql "${URLS[$build]}" -Atc "SELECT string_agg(coalesce(owner_id, 'unassigned') || '=' || n, ' ' ORDER BY owner_id) FROM (SELECT owner_id, count(*) n FROM queue_items WHERE state <> 'closed' GROUP BY owner_id) s")"
done

python3 - "$RESULTS" "$REPS" "$DURATION" "$CONNS" "$LOAD_BEFORE" "$LOAD_AFTER" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
reps, duration, conns, before, after = sys.argv[2:7]
# columns: build, views: rps p50 p99 bad waiters kinds, pricing: rps p50 p99 bad waiters kinds, deadlocks
print(f"\nbench-intent: medians of {reps} runs, wrk {conns} connections × {duration} s each; "
      f"load average before / after: {before} / {after}\n")
print("| build | product views/s | p99 ms | pricing requests/s | p99 ms | pricing / views | non-2xx | lock waiters (views / pricing, mean) | deadlocks |")
print("|---|---|---|---|---|---|---|---|---|")
for build in ("base", "new"):
    rs = [r for r in rows if r[0] == build]
    if not rs: continue
    med = lambda i: statistics.median(float(r[i]) for r in rs)
    ratio = statistics.median(float(r[7]) / max(1.0, float(r[1])) for r in rs)
    bad = sum(int(r[4]) + int(r[10]) for r in rs)
    print(f"| {build} | {med(1):.0f} | {med(3):.1f} | {med(7):.0f} | {med(9):.1f} | {ratio:.2f}× | {bad} | "
          f"{med(5):.2f} / {med(11):.2f} | {sum(int(r[13]) for r in rs)} |")
print("\nruns (views/s, p99; pricing/s, p99; ratio; pricing lock waiters and kinds; deadlocks):")
for r in rows:
    print(f"  {r[0]}: {r[1]}, {r[3]}; {r[7]}, {r[9]}; {float(r[7]) / max(1.0, float(r[1])):.2f}×; {r[11]} {r[12]}; {r[13]}")
PY
