#!/usr/bin/env bash
# High-intent events vs product views (issue 23, target 5: pricing requests from new leads at 64
# connections ≥ 0.5× the product-view rate of the same run, p99 < 50 ms). Per run, against one
# `leadrouter serve` (release, config/segments.yaml) on a PostgreSQL with fsync and synchronous
# commit on: wrk sends CONNS connections × DURATION s of "Product Viewed" for random users of
# 1..LEADS (scripts/bench/ingest-event.lua), then the same of "Pricing Requested" from new leads
# (scripts/bench/ingest-pricing.lua: segment entry, status change, sales assignment by round robin
# with capacity). While each runs, pg_stat_activity is sampled every 100 ms for backends waiting
# on a Lock; deadlocks come from pg_stat_database. Prints per build the medians over REPS of
# events/s and p99 of both, the ratio pricing/product-view of each run, lock waiters, deadlocks,
# and per event: CPU µs of the server and of the whole PostgreSQL cluster (from /proc around the
# wrk run, so less load-dependent than wall clock) and WAL bytes — where a pricing request's extra
# cost goes.
#
# With BASE_BIN set (another build, e.g. main's), runs alternate base/new per rep, each build on
# its own database in one PostgreSQL. Both servers run all the time; only one gets load at once.
#
#   scripts/bench-intent.sh                                       # REPS=3 DURATION=10 CONNS=64
#   BASE_BIN=/tmp/base/leadrouter BIN=… REPS=3 scripts/bench-intent.sh
#
# PGSS=1 loads pg_stat_statements (`track = all`: statements inside plpgsql functions too) and
# `track_functions = all`, and prints per build, over its pricing runs, the statements and
# functions that took the most time, in µs per pricing request (wall clock inside PostgreSQL, so
# shares under load, not costs). It slows every run a little: compare builds within one PGSS run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/bench.sh

REPS=${REPS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
LEADS=${LEADS:-20000}
export LEADS

if [ -n "${PGSS:-}" ]; then
    BENCH_PG_OPTS="${BENCH_PG_OPTS:-} -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all -c track_functions=all"
fi
ensure_packages wrk libssl-dev zlib1g-dev libdeflate-dev libpq-dev pkg-config postgresql
bench_leadrouter release
bench_cluster_start
bench_workdir bench-intent
ROOT_URL=$DATABASE_URL

declare -A BINS=([new]=$BIN)
BUILDS=(new)
if [ -n "${BASE_BIN:-}" ]; then BINS[base]=$BASE_BIN; BUILDS=(base new); fi

declare -A PORTS KEYS READKEYS URLS PIDS
for build in "${BUILDS[@]}"; do
    psql "$ROOT_URL" -qc "CREATE DATABASE intent_$build" >/dev/null
    URLS[$build]="${ROOT_URL%/*}/intent_$build"
    PORTS[$build]=$(free_port)
    DATABASE_URL=${URLS[$build]} bench_serve "${BINS[$build]}" "${PORTS[$build]}" "$WORK/$build.log" \
        --migrate --rules config/segments.yaml --log-level warning --worker-threads 96
    PIDS[$build]=$BENCH_SERVE_PID
    KEYS[$build]=$(DATABASE_URL=${URLS[$build]} "${BINS[$build]}" keys create --name bench-ingest --scopes ingest | tail -n 1)
    READKEYS[$build]=$(DATABASE_URL=${URLS[$build]} "${BINS[$build]}" keys create --name bench-read --scopes read | tail -n 1)
    [ -n "${PGSS:-}" ] && psql "${URLS[$build]}" -qc "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
done

# pgss_snapshot BUILD FILE: this build's statement and function times so far ("kind<TAB>µs<TAB>calls<TAB>text").
pgss_snapshot() {
    psql "${URLS[$1]}" -AtF $'\t' -qc "
        SELECT 'statement', total_exec_time * 1000, calls, left(regexp_replace(query, '\s+', ' ', 'g'), 110)
        FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        UNION ALL
        SELECT 'function', total_time * 1000, calls, funcname || ' (self ' || round(self_time::numeric, 1) || ' ms)'
        FROM pg_stat_user_functions" >"$2"
}

RESULTS="$WORK/results.tsv"
: >"$RESULTS"

# wal_bytes: the cluster's WAL insert position in bytes.
wal_bytes() { psql -Atc "SELECT pg_current_wal_insert_lsn() - '0/0'" "$ROOT_URL" | cut -d. -f1; }

# lane_totals BUILD: "batches messages commit-seconds" of its lanes so far (/metrics: the lane
# transactions' sizes and BEGIN-to-COMMIT times), so a delta around a run gives their means.
lane_totals() {
    { curl -sf -H "Authorization: Bearer ${READKEYS[$1]}" "http://127.0.0.1:${PORTS[$1]}/metrics" || true; } | awk '
        /^leadrouter_ingest_lane_batch_messages_count[ {]/ {n = $NF}
        /^leadrouter_ingest_lane_batch_messages_sum[ {]/ {m = $NF}
        /^leadrouter_ingest_lane_commit_seconds_sum[ {]/ {s = $NF}
        END {printf "%d %d %.6f\n", n, m, s}'
}

one() {  # one BUILD SCENARIO SCRIPT LABEL → "events/s p50 p99 non2xx lr-µs pg-µs wal-B batch lane-ms lockwaiters kinds"
    local build=$1 db=${URLS[$1]} out locks lr0 pg0 w0 lr1 pg1 w1 n l0 l1
    : >"$WORK/locks-$4.tsv"
    bench_lock_waiters "$db" "$WORK/locks-$4.tsv" &
    local sampler=$!
    l0=$(lane_totals "$build")
    [ -n "${PGSS:-}" ] && [ "$2" = pricing ] && pgss_snapshot "$build" "$WORK/pgss0"
    lr0=$(proc_ticks "${PIDS[$build]}"); pg0=$(cluster_ticks); w0=$(wal_bytes)
    out=$(KEY=${KEYS[$build]} RUN="$4" wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s "$3" "http://127.0.0.1:${PORTS[$build]}/v1/events")
    lr1=$(proc_ticks "${PIDS[$build]}"); pg1=$(cluster_ticks); w1=$(wal_bytes)
    l1=$(lane_totals "$build")
    if [ -n "${PGSS:-}" ] && [ "$2" = pricing ] && [ "${4#warm}" = "$4" ]; then
        pgss_snapshot "$build" "$WORK/pgss1"
        n=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$out")
        python3 - "$WORK/pgss0" "$WORK/pgss1" "$WORK/pgss-$build.tsv" <<'PY'
import sys
def load(p):
    d = {}
    for l in open(p):
        k, us, calls, text = l.rstrip("\n").split("\t", 3)
        d[(k, text)] = (float(us), int(calls))
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
acc = {}
try:
    for l in open(sys.argv[3]):
        k, us, calls, text = l.rstrip("\n").split("\t", 3); acc[(k, text)] = (float(us), int(calls))
except FileNotFoundError:
    pass
for key, (us, calls) in b.items():
    us0, calls0 = a.get(key, (0.0, 0))
    u, c = acc.get(key, (0.0, 0))
    acc[key] = (u + us - us0, c + calls - calls0)
with open(sys.argv[3], "w") as f:
    for (k, text), (us, calls) in acc.items():
        if calls: f.write(f"{k}\t{us}\t{calls}\t{text}\n")
PY
        # one runs in a subshell: the request count adds up in a file.
        echo $(( $(cat "$WORK/pgss-$build.n" 2>/dev/null || echo 0) + ${n:-0} )) >"$WORK/pgss-$build.n"
    fi
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
    echo "$out" >"$WORK/wrk-$4.txt"
    locks=$(awk -F'\t' '{n += $1; if ($2 != "-") kinds[$2]++} END {k = ""; for (x in kinds) k = k x " "; printf "%.2f\t%s", (NR ? n / NR : 0), (k == "" ? "-" : k)}' "$WORK/locks-$4.tsv")
    # Requests wrk completed (in-flight ones at the end are few against thousands); ticks are 10 ms.
    n=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$out"); n=$((n > 0 ? n : 1))
    printf "%s\t%s\t%s\t%s\t%s\t%s\n" "$(wrk_figures <<<"$out")" $(((lr1 - lr0) * 10000 / n)) $(((pg1 - pg0) * 10000 / n)) \
        $(((w1 - w0) / n)) "$(python3 -c 'import sys; a = [float(x) for x in sys.argv[1].split()]; b = [float(x) for x in sys.argv[2].split()]
k = max(1.0, b[0] - a[0]); print(f"{(b[1] - a[1]) / k:.1f}\t{(b[2] - a[2]) * 1000 / k:.1f}")' "$l0" "$l1")" "$locks"
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
# columns: build, then per scenario (views, pricing) 11: rps p50 p99 bad lr-µs pg-µs wal-B batch lane-ms waiters kinds, then deadlocks
F = ["rps", "p50", "p99", "bad", "lr", "pg", "wal", "batch", "lane", "waiters", "kinds"]
def parse(r):
    v = dict(zip(F, r[1:12])); p = dict(zip(F, r[12:23]))
    return r[0], v, p, int(r[23])
runs = [parse(r) for r in rows]
print(f"\nbench-intent: medians of {reps} runs, wrk {conns} connections × {duration} s each; "
      f"load average before / after: {before} / {after}\n")
print("| build | product views/s | p99 ms | pricing requests/s | p99 ms | pricing / views | non-2xx | deadlocks |")
print("|---|---|---|---|---|---|---|---|")
for build in ("base", "new"):
    rs = [r for r in runs if r[0] == build]
    if not rs: continue
    med = lambda s, k: statistics.median(float(r[s][k]) for r in rs)
    ratio = statistics.median(float(r[2]["rps"]) / max(1.0, float(r[1]["rps"])) for r in rs)
    bad = sum(int(r[1]["bad"]) + int(r[2]["bad"]) for r in rs)
    print(f"| {build} | {med(1, 'rps'):.0f} | {med(1, 'p99'):.1f} | {med(2, 'rps'):.0f} | {med(2, 'p99'):.1f} | {ratio:.2f}× | {bad} | "
          f"{sum(r[3] for r in rs)} |")
print("\nwhere it goes, per event (medians): CPU µs of the server and of PostgreSQL (/proc), WAL bytes; "
      "lane transactions: mean messages and mean ms BEGIN→COMMIT answered; mean backends waiting on a lock\n")
print("| build | load | server µs | PostgreSQL µs | WAL B | lane batch | lane ms | lock waiters |")
print("|---|---|---|---|---|---|---|---|")
for build in ("base", "new"):
    rs = [r for r in runs if r[0] == build]
    if not rs: continue
    for s, name in ((1, "views"), (2, "pricing")):
        med = lambda k: statistics.median(float(r[s][k]) for r in rs)
        print(f"| {build} | {name} | {med('lr'):.0f} | {med('pg'):.0f} | {med('wal'):.0f} | {med('batch'):.1f} | {med('lane'):.1f} | {med('waiters'):.2f} |")
print("\nruns (views/s, p99; pricing/s, p99; ratio; pricing lock waiters and kinds; deadlocks):")
for b, v, p, d in runs:
    print(f"  {b}: {v['rps']}, {v['p99']}; {p['rps']}, {p['p99']}; {float(p['rps']) / max(1.0, float(v['rps'])):.2f}×; {p['waiters']} {p['kinds']}; {d}")
PY
if [ -n "${PGSS:-}" ]; then
    for build in "${BUILDS[@]}"; do
        [ -f "$WORK/pgss-$build.tsv" ] || continue
        echo; echo "$build: pg_stat_statements over its pricing runs — µs per pricing request (wall clock), calls per request"
        sort -t$'\t' -k2,2gr "$WORK/pgss-$build.tsv" | head -n "${PGSS_TOP:-30}" |
            awk -F'\t' -v n="$(cat "$WORK/pgss-$build.n")" '{printf "%9.0f µs %6.2f/req  %-9s %s\n", $2 / n, $3 / n, $1, $4}'
    done
fi
