#!/usr/bin/env bash
# Backtest benchmark (docs/rulesets.md#backtest): EVENTS stored events (default 1 000 000) over
# LEADS leads (default 20 000) in the last 30 days, a candidate version of config/segments.yaml
# with one threshold changed, and POST /v1/rulesets/2/backtest run by the server's job runner
# while wrk keeps POSTing /v1/events at it. Prints the backtest's events/s and seconds (from its
# own report) and the ingest p50/p99 of a wrk run without a backtest and of one during it.
#
# Then, on the same stored events and with no ingest load, the floor and an A/B: PostgreSQL
# producing the backtest's rows alone (its SELECT as one COPY to /dev/null, timed by psql), and
# `rules backtest 2` in the CLI, this build and BASE_BIN (when set) alternately, ROUNDS times
# each, with wall seconds, CPU seconds (user + system, the CLI process) and events/s.
#
#   scripts/bench-backtest.sh                       # 1 000 000 events, release build
#   EVENTS=100000 BUILD=debug scripts/bench-backtest.sh
#   BASE_BIN=/path/to/old/leadrouter ROUNDS=2 scripts/bench-backtest.sh   # A/B against another build
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/bench.sh

EVENTS=${EVENTS:-1000000}
LEADS=${LEADS:-20000}
BUILD=${BUILD:-release}
CONNS=${CONNS:-8}
DURATION=${DURATION:-10}

ROUNDS=${ROUNDS:-1}
BASE_BIN=${BASE_BIN:-}

ensure_packages wrk curl libssl-dev zlib1g-dev libpq-dev pkg-config postgresql time

bench_leadrouter "$BUILD"
echo "leadrouter: $BIN; load: $(uptime)" >&2
bench_cluster_start
bench_workdir bench-backtest

PORT=$(free_port)
bench_serve "$BIN" "$PORT" "$WORK/leadrouter.log" --migrate --rules config/segments.yaml --log-level warning
KEY=$("$BIN" keys create --name bench --scopes ingest,admin | tail -n 1)

# The stored history: what ingest stores in events.message for the engine ({name, messageId,
# properties, context}), product views, carts and guide downloads spread over 30 days.
psql -q "$DATABASE_URL" <<SQL
CREATE TEMP TABLE bench_leads AS SELECT gen_random_uuid() AS id, n::bigint AS n FROM generate_series(1, $LEADS) n;
INSERT INTO events (lead_id, occurred_at, received_at, kind, type, name, message_id, message)
SELECT l.id, now() - make_interval(secs => (g * 2591) % 2592000), now(), 'track',
       t.type, t.name, 'bulk-' || g,
       jsonb_build_object('name', t.name, 'messageId', 'bulk-' || g,
                          'properties', jsonb_build_object('category', 'skincare-sets', 'price', g % 100),
                          'context', jsonb_build_object('page', jsonb_build_object('path', '/p/' || (g % 500))))
FROM generate_series(1::bigint, $EVENTS) g
JOIN bench_leads l ON l.n = 1 + (g * 7919) % $LEADS
CROSS JOIN LATERAL (SELECT (ARRAY['Product Viewed', 'Product Viewed', 'Product Viewed', 'Product Added', 'Guide Downloaded'])[1 + g % 5] AS name) n
CROSS JOIN LATERAL (SELECT n.name, (ARRAY['product_viewed', 'product_viewed', 'product_viewed', 'added_to_cart', 'guide_downloaded'])[1 + g % 5] AS type) t;
ANALYZE events;
SQL
echo "stored events: $(psql -Atc 'SELECT count(*) FROM events' "$DATABASE_URL")" >&2

sed 's/count(product_viewed, 14d) >= 3/count(product_viewed, 14d) >= 4/' config/segments.yaml >"$WORK/candidate.yaml"
DATABASE_URL=$DATABASE_URL "$BIN" rules push "$WORK/candidate.yaml" --note "bench: browser threshold 4" >&2

run_wrk() {
    KEY=$KEY LEADS=100000 wrk -t 2 -c "$CONNS" -d "${DURATION}s" --latency -s scripts/bench/ingest-event.lua \
        "http://127.0.0.1:$PORT" 2>/dev/null | wrk_figures
}

printf "%-28s %10s %8s %8s %6s\n" "ingest (wrk, $CONNS conns)" requests/s p50_ms p99_ms non2xx
printf "%-28s %s\n" "alone" "$(run_wrk | awk -F'\t' '{printf "%10s %8s %8s %6s", $1, $2, $3, $4}')"

FROM=$(date -u -d '31 days ago' +%Y-%m-%dT%H:%M:%SZ)
TO=$(date -u -d '1 minute' +%Y-%m-%dT%H:%M:%SZ)
JOB=$(curl -sf -X POST "http://127.0.0.1:$PORT/v1/rulesets/2/backtest" -H "Authorization: Bearer $KEY" \
      -H 'Content-Type: application/json' -d "{\"from\": \"$FROM\", \"to\": \"$TO\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
printf "%-28s %s\n" "during the backtest" "$(run_wrk | awk -F'\t' '{printf "%10s %8s %8s %6s", $1, $2, $3, $4}')"

while :; do
    STATE=$(curl -sf "http://127.0.0.1:$PORT/v1/jobs/$JOB" -H "Authorization: Bearer $KEY")
    STATUS=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["status"])' "$STATE")
    [ "$STATUS" = queued ] || [ "$STATUS" = running ] || break
    sleep 1
done
python3 - "$STATE" <<'PY'
import json, sys
job = json.loads(sys.argv[1])
r = job.get("result") or {}
print(f"backtest: status {job['status']}, {r.get('events')} events of {r.get('leads')} leads in {r.get('seconds', 0):.1f} s "
      f"= {r.get('events_per_second')} events/s; routing changed for {r.get('routing_changed_share', 0) * 100:.1f} % of leads")
if job["status"] != "done": print(job.get("error"))
PY
echo "load after: $(uptime)" >&2

# The floor: PostgreSQL alone producing every row the backtest reads, in its order.
COPY_MS=$(psql -qAt "$DATABASE_URL" -c '\timing on' -c "COPY (SELECT lead_id, (extract(epoch FROM occurred_at) * 1000000)::int8, message, id
    FROM events WHERE occurred_at >= '$FROM' AND occurred_at < '$TO' AND kind IN ('track', 'page', 'screen')
    ORDER BY lead_id, occurred_at, id) TO '/dev/null'" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
echo "PostgreSQL alone: the backtest's rows as one COPY to /dev/null in $COPY_MS ms (load $(cut -d' ' -f1 /proc/loadavg))"

# The CLI replay, this build and BASE_BIN alternately: wall and CPU seconds of the process.
cli_backtest() {
    local bin=$1 out
    out=$(/usr/bin/time -f '%U %S' "$bin" rules backtest 2 --from "$FROM" --to "$TO" --database-url "$DATABASE_URL" 2>"$WORK/time" >"$WORK/report.json"; tail -n 1 "$WORK/time")
    python3 - "$WORK/report.json" "$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); user, system = map(float, sys.argv[2].split())
print(f"{r['seconds']:8.1f} {user + system:8.1f} {r['events_per_second']:10.0f}")
PY
}
printf "%-28s %8s %8s %10s %s\n" "rules backtest (CLI)" wall_s cpu_s events/s load
for round in $(seq 1 "$ROUNDS"); do
    printf "%-28s %s %s\n" "this build" "$(cli_backtest "$BIN")" "$(cut -d' ' -f1 /proc/loadavg)"
    [ -n "$BASE_BIN" ] && printf "%-28s %s %s\n" "BASE_BIN" "$(cli_backtest "$BASE_BIN")" "$(cut -d' ' -f1 /proc/loadavg)"
done
