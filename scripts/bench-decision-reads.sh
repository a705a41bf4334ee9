#!/usr/bin/env bash
# What reading a lead's decisions costs (issue 23: decisions stored packed, migrations/0060):
# `GET /v1/leads/{id}/decisions?limit=LIMIT` over HTTP, one build (this one) or two (and
# BASE_BIN), each with its own database in one PostgreSQL. Each build's lead gets DECISIONS
# decisions (a pricing request, then product views, through `POST /v1/events`); then wrk asks for
# the page for DURATION s at CONNS connections, ROUNDS times, alternating the builds so that
# the machine's load hits both alike. Prints requests/s, p50 and p99 per round, the medians, and
# new/base ratios of the medians, with the load average.
#
#   scripts/bench-decision-reads.sh                                             # this build only
#   BASE_BIN=/work/base-0a3b91b/leadrouter scripts/bench-decision-reads.sh      # and another build
#   BIN=… BASE_BIN=… DECISIONS=100 LIMIT=50 DURATION=5 ROUNDS=3 scripts/bench-decision-reads.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/bench.sh

DECISIONS=${DECISIONS:-100}
LIMIT=${LIMIT:-50}
DURATION=${DURATION:-5}
CONNS=${CONNS:-4}
ROUNDS=${ROUNDS:-3}
CONFIG=${CONFIG:-release}

ensure_packages wrk curl libssl-dev zlib1g-dev libdeflate-dev libpq-dev pkg-config postgresql
bench_leadrouter "$CONFIG"
bench_cluster_start
bench_workdir bench-decision-reads
ROOT_URL=$DATABASE_URL

declare -A BINS=([new]=$BIN) PORTS=() KEYS=() LEADS=()
BUILDS=(new)
if [ -n "${BASE_BIN:-}" ]; then BINS[base]=$BASE_BIN; BUILDS=(base new); fi

for build in "${BUILDS[@]}"; do
    psql "$ROOT_URL" -qc "CREATE DATABASE reads_$build" >/dev/null
    db="${ROOT_URL%/*}/reads_$build"
    PORTS[$build]=$(free_port)
    DATABASE_URL=$db bench_serve "${BINS[$build]}" "${PORTS[$build]}" "$WORK/$build.log" --rules config/segments.yaml --migrate \
        --log-level warning
    KEYS[$build]=$(DATABASE_URL=$db "${BINS[$build]}" keys create --name bench --scopes admin | tail -n 1)
    for i in $(seq 1 "$DECISIONS"); do
        event=$([ "$i" = 1 ] && echo "Pricing Requested" || echo "Product Viewed")
        curl -sf -o "$WORK/answer.json" -H "Authorization: Bearer ${KEYS[$build]}" -H 'Content-Type: application/json' \
            -d "{\"userId\":\"reader\",\"event\":\"$event\",\"messageId\":\"r-$i\",\"properties\":{\"category\":\"running-shoes\"}}" \
            "http://127.0.0.1:${PORTS[$build]}/v1/events"
    done
    LEADS[$build]=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["lead_id"])' "$WORK/answer.json")
done

for round in $(seq 1 "$ROUNDS"); do
    for build in "${BUILDS[@]}"; do
        url="http://127.0.0.1:${PORTS[$build]}/v1/leads/${LEADS[$build]}/decisions?limit=$LIMIT"
        load=$(cut -d' ' -f1 /proc/loadavg)
        figures=$(wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -H "Authorization: Bearer ${KEYS[$build]}" "$url" | wrk_figures)
        printf '%s\t%s\t%s\t%s\n' "$build" "$round" "$load" "$figures" >>"$WORK/runs.tsv"
    done
done

python3 - "$WORK/runs.tsv" "$DECISIONS" "$LIMIT" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
builds = list(dict.fromkeys(r[0] for r in rows))
print(f"\nbench-decision-reads: GET /v1/leads/{{id}}/decisions?limit={sys.argv[3]} of a lead with {sys.argv[2]} decisions\n")
print("| build | round | load average | requests/s | p50 ms | p99 ms | non-2xx |")
print("|---|---|---|---|---|---|---|")
for r in rows: print("| " + " | ".join(r) + " |")
med = {b: [statistics.median(float(r[i]) for r in rows if r[0] == b) for i in (3, 4, 5)] for b in builds}
print("\n| build | median requests/s | median p50 ms | median p99 ms |")
print("|---|---|---|---|")
for b in builds: print(f"| {b} | {med[b][0]:.0f} | {med[b][1]:.2f} | {med[b][2]:.2f} |")
if len(builds) == 2:
    base, new = med["base"], med["new"]
    print(f"| new / base | {new[0] / base[0]:.2f}× | {new[1] / base[1]:.2f}× | {new[2] / base[2]:.2f}× |")
PY
