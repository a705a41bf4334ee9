#!/usr/bin/env bash
# Do webhooks keep up with ingest? (issue 23, target 6.) One subscription to segment.entered,
# segment.exited, lead.routed and lead.status_changed pointing at nginx (one worker, answers 204
# at once, keep-alive); wrk sends "Pricing Requested" from new leads (scripts/bench/ingest-pricing.lua)
# at CONNS connections for DURATION s. Per run it reports ingest events/s and p99, the deliveries
# the run produced, the share of them delivered while the load ran (delivered_at before wrk
# ended), and how long the backlog took to drain after the load (every outbox row dispatched and
# every delivery delivered). Target: ≥ 90 % during the load, drained within 5 s. While the load
# runs, pg_stat_activity is sampled every 100 ms: the mean number of backends waiting for a lock
# (and on which relation/kind) shows whether something serialises the events.
# Then the delivery pipeline alone: BURST outbox rows (over 300 leads) inserted at once for a
# subscription to lead.status_changed, time until all are delivered, and the CPU the leadrouter
# process and PostgreSQL spent per delivery (less dependent on the machine's load than the time).
#
# With BASE_BIN set (another build's leadrouter, e.g. main's), runs alternate base/new per rep,
# each build on its own database in one PostgreSQL (synchronous_commit=on, fsync=on).
#
#   scripts/bench-webhooks-keepup.sh                                   # REPS=3 DURATION=20 CONNS=64
#   BASE_BIN=/work/base-4bc9c96/leadrouter REPS=3 scripts/bench-webhooks-keepup.sh
#   BURST_ONLY=1 BASE_BIN=… scripts/bench-webhooks-keepup.sh      # only the delivery pipeline part
#   STATEMENTS=1 …      # also the top statements by time per build (pg_stat_statements)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/bench.sh

REPS=${REPS:-3}
DURATION=${DURATION:-20}
CONNS=${CONNS:-64}
CONFIG=${CONFIG:-release}
DRAIN_LIMIT=${DRAIN_LIMIT:-120}
BURST=${BURST:-3000}

ensure_packages wrk nginx curl libssl-dev zlib1g-dev libdeflate-dev libpq-dev pkg-config postgresql
bench_leadrouter "$CONFIG"
[ "${STATEMENTS:-0}" = 1 ] && export BENCH_PG_OPTS="-c shared_preload_libraries=pg_stat_statements"
bench_cluster_start
bench_workdir bench-webhooks-keepup
ROOT_URL=$DATABASE_URL

# The instant receiver: nginx, one worker, 204 for every POST, connections kept open.
bench_nginx "location /hook { return 204; }"
BENCH_PIDS+=("$NGINX_PID")
for _ in $(seq 1 100); do curl -s -o /dev/null -X POST "http://127.0.0.1:$NGINX_PORT/hook" && break; sleep 0.1; done

cat >"$WORK/leadrouter.yaml" <<YAML
logging:
  level: warning
webhooks:
  allow_private_networks: true   # the receiver listens on 127.0.0.1
YAML

declare -A BINS=([new]=$BIN)
BUILDS=(new)
if [ -n "${BASE_BIN:-}" ]; then BINS[base]=$BASE_BIN; BUILDS=(base new); fi

declare -A PORTS KEYS ADMINS URLS SERVE_PIDS
for build in "${BUILDS[@]}"; do
    psql "$ROOT_URL" -qc "CREATE DATABASE bench_$build" >/dev/null
    URLS[$build]="${ROOT_URL%/*}/bench_$build"
    PORTS[$build]=$(free_port)
    DATABASE_URL=${URLS[$build]} bench_serve "${BINS[$build]}" "${PORTS[$build]}" "$WORK/$build.log" \
        --config "$WORK/leadrouter.yaml" --rules config/segments.yaml --migrate
    SERVE_PIDS[$build]=$BENCH_SERVE_PID
    ADMINS[$build]=$(DATABASE_URL=${URLS[$build]} "${BINS[$build]}" keys create --name bench-admin --scopes admin | tail -n 1)
    KEYS[$build]=$(DATABASE_URL=${URLS[$build]} "${BINS[$build]}" keys create --name bench-ingest --scopes ingest | tail -n 1)
done

cat >"$WORK/parse.py" <<'PY'
import re, sys
build, total, during, drained = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
text = sys.stdin.read()
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p99 = ms(re.search(r"\s99%\s+(\S+)", text).group(1))
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
print(f"{build}\t{rps:.0f}\t{p99:.1f}\t{int(bad.group(1)) if bad else 0}\t{total}\t{during}\t{drained:.2f}")
PY
TOPICS='["segment.entered", "segment.exited", "lead.routed", "lead.status_changed"]'
RESULTS="$WORK/results.tsv"
: >"$RESULTS"

run() {  # run BUILD LABEL
    local build=$1 db=${URLS[$1]} port=${PORTS[$1]} sub out t_end total during left drained
    sql() { psql "$db" -Atqc "$1"; }
    sub=$(curl -sf -X POST "http://127.0.0.1:$port/v1/subscriptions" -H "Authorization: Bearer ${ADMINS[$build]}" \
        -d "{\"url\": \"http://127.0.0.1:$NGINX_PORT/hook\", \"topics\": $TOPICS}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    # Lock waiters while the load runs: one sample every 100 ms, summed in a file.
    : >"$WORK/locks-$2.tsv"
    bench_lock_waiters "$db" "$WORK/locks-$2.tsv" &
    local sampler=$!
    out=$(KEY=${KEYS[$build]} RUN="$2" wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s scripts/bench/ingest-pricing.lua \
        "http://127.0.0.1:$port/v1/events")
    t_end=$(sql "SELECT clock_timestamp()")
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
    locks=$(awk -F'\t' '{n += $1; if ($2 != "-") kinds[$2]++} END {k = ""; for (x in kinds) k = k x " "; printf "%.2f\t%s", (NR ? n / NR : 0), (k == "" ? "-" : k)}' "$WORK/locks-$2.tsv")
    drained=""
    for _ in $(seq 1 $((DRAIN_LIMIT * 20))); do
        left=$(sql "SELECT (SELECT count(*) FROM outbox_pending) + (SELECT count(*) FROM deliveries
                    WHERE subscription_id = '$sub' AND status <> 'delivered')")
        if [ "$left" = 0 ]; then drained=$(sql "SELECT extract(epoch FROM clock_timestamp() - '$t_end'::timestamptz)"); break; fi
        sleep 0.05
    done
    total=$(sql "SELECT count(*) FROM deliveries WHERE subscription_id = '$sub'")
    during=$(sql "SELECT count(*) FROM deliveries WHERE subscription_id = '$sub' AND delivered_at <= '$t_end'")
    curl -sf -X DELETE "http://127.0.0.1:$port/v1/subscriptions/$sub" -H "Authorization: Bearer ${ADMINS[$build]}" >/dev/null
    printf "%s\t%s\n" "$(python3 "$WORK/parse.py" "$build" "$total" "$during" "${drained:-nan}" <<<"$out")" "$locks" >>"$RESULTS"
    tail -n 1 "$RESULTS" >&2
}

burst() {  # burst BUILD: BURST outbox rows at once; deliveries/s and CPU ms per delivery
    local build=$1 db=${URLS[$1]} port=${PORTS[$1]} sub marker t0 t1 lr0 lr1 pg0 pg1
    sql() { psql "$db" -Atqc "$1"; }
    sub=$(curl -sf -X POST "http://127.0.0.1:$port/v1/subscriptions" -H "Authorization: Bearer ${ADMINS[$build]}" \
        -d "{\"url\": \"http://127.0.0.1:$NGINX_PORT/hook\", \"topics\": [\"lead.status_changed\"]}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    marker=$(sql "SELECT coalesce(max(id), 0) FROM outbox")
    lr0=$(proc_ticks "${SERVE_PIDS[$build]}"); pg0=$(cluster_ticks)
    t0=$(date +%s.%N)
    # the pending ids go with the rows (migrations/0075: no trigger adds them)
    sql "WITH o AS (INSERT INTO outbox (topic, lead_id, payload)
         SELECT 'lead.status_changed', md5('$marker-' || (i % 300))::uuid,
                jsonb_build_object('lead_id', md5('$marker-' || (i % 300))::uuid, 'seq', i, 'from', 'a', 'to', 'b')
         FROM generate_series(1, $BURST) AS i
         RETURNING id, lead_id) INSERT INTO outbox_pending (outbox_id, lead_id) SELECT id, lead_id FROM o"
    while [ "$(sql "SELECT count(*) FROM deliveries WHERE subscription_id = '$sub' AND status = 'delivered'")" -lt "$BURST" ]; do
        sleep 0.05
    done
    t1=$(date +%s.%N)
    lr1=$(proc_ticks "${SERVE_PIDS[$build]}"); pg1=$(cluster_ticks)
    curl -sf -X DELETE "http://127.0.0.1:$port/v1/subscriptions/$sub" -H "Authorization: Bearer ${ADMINS[$build]}" >/dev/null
    python3 -c "print(f'burst\t$build\t{$BURST / ($t1 - $t0):.0f}\t{($lr1 - $lr0) * 10 / $BURST:.3f}\t{($pg1 - $pg0) * 10 / $BURST:.3f}')" >>"$RESULTS"
    tail -n 1 "$RESULTS" >&2
}

if [ "${BURST_ONLY:-0}" != 1 ]; then
    echo "warm-up…" >&2
    for build in "${BUILDS[@]}"; do DURATION=5 run "$build" "warm-$build" >/dev/null; done
    : >"$RESULTS"
    for rep in $(seq 1 "$REPS"); do
        for build in "${BUILDS[@]}"; do
            echo "rep $rep/$REPS: $build (load average $(cut -d' ' -f1 /proc/loadavg))" >&2
            run "$build" "$rep-$build"
        done
    done
fi
for rep in $(seq 1 "$REPS"); do
    for build in "${BUILDS[@]}"; do
        echo "burst rep $rep/$REPS: $build (load average $(cut -d' ' -f1 /proc/loadavg))" >&2
        burst "$build"
    done
done

if [ "${STATEMENTS:-0}" = 1 ]; then
    for build in "${BUILDS[@]}"; do
        echo "top statements, $build (calls, total ms, rows):" >&2
        psql "${URLS[$build]}" -qc "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
        psql "${URLS[$build]}" -Atc "SELECT calls, round(total_exec_time), rows, left(regexp_replace(query, '\s+', ' ', 'g'), 110)
            FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            ORDER BY total_exec_time DESC LIMIT 8" >&2
    done
fi
python3 - "$RESULTS" "$REPS" "$DURATION" "$CONNS" "$CONFIG" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
reps, duration, conns, config = sys.argv[2:6]
print(f"\nbench-webhooks-keepup ({config} build): medians of {reps} runs, wrk {conns} connections × {duration} s of "
      "Pricing Requested from new leads; nginx (1 worker) answers every delivery 204\n")
print("| build | events/s | p99 ms | non-2xx | deliveries | delivered during the load | drained after (s) | lock waiters (mean) |")
print("|---|---|---|---|---|---|---|---|")
for build in ("base", "new"):
    rs = [r for r in rows if r[0] == build]
    if not rs: continue
    med = lambda i: statistics.median(float(r[i]) for r in rs)
    share = statistics.median(int(r[5]) / max(1, int(r[4])) for r in rs)
    print(f"| {build} | {med(1):.0f} | {med(2):.1f} | {med(3):.0f} | {med(4):.0f} | {share * 100:.1f} % | {med(6):.2f} | {med(7):.2f} |")
print()
for build in ("base", "new"):
    rs = [r for r in rows if r[0] == build]
    if not rs: continue
    share = statistics.median(int(r[5]) / max(1, int(r[4])) for r in rs)
    drain = statistics.median(float(r[6]) for r in rs)  # nan (never drained) counts as not met
    met = share >= 0.9 and drain <= 5
    print(f"target 6, {build}: median {share * 100:.1f} % delivered during the load (≥ 90 %), drained in {drain:.2f} s (≤ 5 s): {'met' if met else 'NOT met'}")
print("\nruns (events/s, p99 ms, deliveries, during, share during, drain s, lock waiters, lock kinds):")
for r in rows:
    if r[0] != "burst":
        share = int(r[5]) / max(1, int(r[4])) * 100
        print(f"  {r[0]}: {r[1]}, {r[2]}, {r[4]}, {r[5]}, {share:.1f} %, {r[6]}, {r[7]}, {r[8]}")
bursts = [r for r in rows if r[0] == "burst"]
if bursts:
    print(f"\n| delivery pipeline alone (outbox rows inserted at once) | deliveries/s | leadrouter CPU ms/delivery | PostgreSQL CPU ms/delivery |")
    print("|---|---|---|---|")
    for build in ("base", "new"):
        rs = [r for r in bursts if r[1] == build]
        if not rs: continue
        med = lambda i: statistics.median(float(r[i]) for r in rs)
        print(f"| {build} | {med(2):.0f} | {med(3):.3f} | {med(4):.3f} |")
    print("\nburst runs (deliveries/s, leadrouter ms, PostgreSQL ms): " + "; ".join(f"{r[1]} {r[2]}, {r[3]}, {r[4]}" for r in bursts))
PY
