#!/usr/bin/env bash
# Webhook benchmark, in one run against one PostgreSQL (synchronous_commit=on, fsync=on):
#  (1) deliveries/s: EVENTS outbox rows (over LEADS new leads, so per-lead order applies) inserted at
#      once for a subscription to a local receiver that answers 204 at once; time until all are
#      delivered, with 1 node and with 2 nodes (`leadrouter serve` processes on the same database),
#      alternating per rep;
#  (2) ingest p99: wrk POST /v1/events at CONNS connections for DURATION s with (a) no
#      subscription, (b) every event's webhooks going to the instant receiver, (c) every event's
#      webhooks going to a receiver that accepts connections and never answers (every delivery
#      worker stuck until the response timeout), alternating per rep.
# Prints medians of REPS runs and the ratios 2 nodes / 1 node and hanging / instant / none.
#
#   scripts/bench-webhooks.sh                       # REPS=3 EVENTS=3000 LEADS=300 DURATION=10 CONNS=16
#   CONFIG=debug REPS=1 scripts/bench-webhooks.sh   # quicker, unoptimised build
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/bench.sh

REPS=${REPS:-3}
EVENTS=${EVENTS:-3000}
LEADS=${LEADS:-300}
DURATION=${DURATION:-10}
CONNS=${CONNS:-16}
WORKERS=${WORKERS:-4}
CONFIG=${CONFIG:-release}
INGEST_LEADS=${INGEST_LEADS:-10000}

ensure_packages wrk curl libssl-dev zlib1g-dev libdeflate-dev libpq-dev pkg-config postgresql

bench_leadrouter "$CONFIG"

bench_cluster_start
export DATABASE_URL
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-webhooks.XXXXXX")
PIDS=()
NODE_B=""
cleanup() {
    [ -n "$NODE_B" ] && kill "$NODE_B" 2>/dev/null || true
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    pg_cluster_stop
    rm -rf "$WORK"
}
trap cleanup EXIT

# Receivers: asyncio, one request per connection. "instant" answers 204 once the body is read;
# "hang" reads the request and never answers.
cat >"$WORK/receiver.py" <<'PY'
import asyncio, sys
mode, port = sys.argv[1], int(sys.argv[2])
async def handle(reader, writer):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await reader.readexactly(length)
        if mode == "hang":
            await asyncio.sleep(3600)
        writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
    except Exception:
        pass
    finally:
        writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()
asyncio.run(main())
PY
INSTANT_PORT=$(free_port); python3 "$WORK/receiver.py" instant "$INSTANT_PORT" & PIDS+=($!)
HANG_PORT=$(free_port); python3 "$WORK/receiver.py" hang "$HANG_PORT" & PIDS+=($!)

cat >"$WORK/leadrouter.yaml" <<YAML
server:
  host: 127.0.0.1
  worker_threads: 64
logging:
  level: warning
webhooks:
  workers: $WORKERS
  database_connections: $((WORKERS + 1))
  poll_interval: 50ms
  response_timeout: 5s
  allow_private_networks: true   # the receivers listen on 127.0.0.1
YAML

start_node() {  # start_node PORT LOG [--migrate] → sets STARTED
    local ready=0
    bench_serve "$BIN" "$1" "$2" --config "$WORK/leadrouter.yaml" --rules config/segments.yaml "${@:3}" || ready=$?
    STARTED=$BENCH_SERVE_PID
    [ "$ready" = 0 ] || { kill "$STARTED" 2>/dev/null; exit 1; }
}
PORT_A=$(free_port)
start_node "$PORT_A" "$WORK/node-a.log" --migrate; PIDS+=("$STARTED")
ADMIN=$("$BIN" keys create --name bench-admin --scopes admin | tail -n 1)
KEY=$("$BIN" keys create --name bench-ingest --scopes ingest | tail -n 1)
export KEY
export LEADS_SAVED=$LEADS LEADS=$INGEST_LEADS

subscribe() {  # subscribe URL TOPICS_JSON → prints the subscription id
    curl -sf -X POST "http://127.0.0.1:$PORT_A/v1/subscriptions" -H "Authorization: Bearer $ADMIN" \
        -d "{\"url\": \"$1\", \"topics\": $2}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}
unsubscribe() { curl -sf -X DELETE "http://127.0.0.1:$PORT_A/v1/subscriptions/$1" -H "Authorization: Bearer $ADMIN" >/dev/null; }
sql() { psql "$DATABASE_URL" -Atqc "$1"; }

RESULTS="$WORK/results.tsv"
: >"$RESULTS"

# (1) deliveries/s: a subscription only to lead.status_changed, rows inserted straight into the outbox.
RATE_SUB=$(subscribe "http://127.0.0.1:$INSTANT_PORT/hook" '["lead.status_changed"]')
deliver_run() {  # deliver_run NODES
    if [ "$1" = 2 ]; then PORT_B=$(free_port); start_node "$PORT_B" "$WORK/node-b.log"; NODE_B=$STARTED; fi
    local marker t0 t1 done_count
    marker=$(sql "SELECT coalesce(max(id), 0) FROM outbox")
    t0=$(date +%s.%N)
    # the pending ids go with the rows (migrations/0075: no trigger adds them)
    sql "WITH o AS (INSERT INTO outbox (topic, lead_id, payload)
         SELECT 'lead.status_changed', md5('$marker-' || (i % $LEADS_SAVED))::uuid,
                jsonb_build_object('lead_id', md5('$marker-' || (i % $LEADS_SAVED))::uuid, 'seq', i, 'from', 'a', 'to', 'b')
         FROM generate_series(1, $EVENTS) AS i
         RETURNING id, lead_id) INSERT INTO outbox_pending (outbox_id, lead_id) SELECT id, lead_id FROM o"
    while true; do
        done_count=$(sql "SELECT count(*) FROM deliveries WHERE subscription_id = '$RATE_SUB' AND outbox_id > $marker AND status = 'delivered'")
        [ "$done_count" -ge "$EVENTS" ] && break
        sleep 0.05
    done
    t1=$(date +%s.%N)
    printf "deliver\t%s\t%s\n" "$1" "$(python3 -c "print(f'{$EVENTS / ($t1 - $t0):.1f}')")" >>"$RESULTS"
    if [ -n "$NODE_B" ]; then kill "$NODE_B"; wait "$NODE_B" 2>/dev/null || true; NODE_B=""; fi
}
echo "warming up deliveries…" >&2
deliver_run 1
: >"$RESULTS"
for rep in $(seq 1 "$REPS"); do
    echo "deliveries rep $rep/$REPS" >&2
    deliver_run 1
    deliver_run 2
done

# (2) ingest p99 with every event's webhooks going to an instant or a hanging receiver.
cat >"$WORK/parse_wrk.py" <<'PY'
import re, sys
name = sys.argv[1]
text = sys.stdin.read()
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = ms(re.search(r"\s50%\s+(\S+)", text).group(1))
p99 = ms(re.search(r"\s99%\s+(\S+)", text).group(1))
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
print(f"ingest\t{name}\t{rps:.0f}\t{p50:.2f}\t{p99:.2f}\t{int(bad.group(1)) if bad else 0}")
PY
ALL_TOPICS='["segment.entered", "segment.exited", "lead.routed", "lead.status_changed", "lead.merged"]'
ingest_run() {  # ingest_run none|instant|hang
    local port=$INSTANT_PORT
    [ "$1" = hang ] && port=$HANG_PORT
    local sub="" out
    [ "$1" != none ] && sub=$(subscribe "http://127.0.0.1:$port/hook" "$ALL_TOPICS")
    [ "$1" = hang ] && sleep 1   # let the workers get stuck on the first deliveries
    out=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s scripts/bench/ingest-event.lua "http://127.0.0.1:$PORT_A/v1/events")
    echo "$out" >"$WORK/wrk-$1-$(date +%s%N).txt"
    if [ "$1" = hang ]; then
        stuck=$(sql "SELECT count(*) FROM deliveries WHERE subscription_id = '$sub' AND status = 'in_flight'")
        echo "  hanging receiver: $stuck deliveries in flight at the end of the run" >&2
    fi
    python3 "$WORK/parse_wrk.py" "$1" <<<"$out" >>"$RESULTS"
    [ -n "$sub" ] && unsubscribe "$sub"
    [ "$1" = hang ] && sleep 6 || true   # stuck attempts end at the 5 s response timeout
}
echo "warming up ingest…" >&2
wrk -t2 -c"$CONNS" -d"${DURATION}s" -s scripts/bench/ingest-event.lua "http://127.0.0.1:$PORT_A/v1/events" >/dev/null
for rep in $(seq 1 "$REPS"); do
    echo "ingest rep $rep/$REPS" >&2
    ingest_run none
    ingest_run instant
    ingest_run hang
done

python3 - "$RESULTS" "$REPS" "$EVENTS" "$LEADS_SAVED" "$WORKERS" "$DURATION" "$CONNS" "$CONFIG" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
reps, events, leads, workers, duration, conns, config = sys.argv[2:9]
med = lambda xs: statistics.median(xs)
d1 = med([float(r[2]) for r in rows if r[0] == "deliver" and r[1] == "1"])
d2 = med([float(r[2]) for r in rows if r[0] == "deliver" and r[1] == "2"])
print(f"\nbench-webhooks ({config} build): medians of {reps} runs; synchronous_commit=on, fsync=on; {workers} delivery workers per node\n")
print(f"| deliveries to an instant local receiver ({events} events over {leads} leads) | deliveries/s |")
print("|---|---|")
print(f"| 1 node | {d1:.0f} |")
print(f"| 2 nodes | {d2:.0f} |")
print(f"| ratio 2 nodes / 1 node | {d2 / d1:.2f}× |\n")
print("runs (deliveries/s): 1 node " + ", ".join(r[2] for r in rows if r[0] == "deliver" and r[1] == "1")
      + "; 2 nodes " + ", ".join(r[2] for r in rows if r[0] == "deliver" and r[1] == "2") + "\n")
def ingest(name, col):
    return med([float(r[col]) for r in rows if r[0] == "ingest" and r[1] == name])
print(f"| POST /v1/events, wrk {conns} connections, {duration}s | events/s | p50 ms | p99 ms | non-2xx |")
print("|---|---|---|---|---|")
for name, label in (("none", "no subscription"), ("instant", "webhooks to an instant receiver"), ("hang", "webhooks to a hanging receiver")):
    print(f"| {label} | {ingest(name, 2):.0f} | {ingest(name, 3):.2f} | {ingest(name, 4):.2f} | {ingest(name, 5):.0f} |")
for a, b in (("hang", "instant"), ("hang", "none"), ("instant", "none")):
    print(f"| ratio {a} / {b} | {ingest(a, 2) / ingest(b, 2):.2f}× | {ingest(a, 3) / ingest(b, 3):.2f}× | {ingest(a, 4) / ingest(b, 4):.2f}× | |")
print()
print("runs (p99 ms): " + "; ".join(f"{n} " + ", ".join(r[4] for r in rows if r[0] == "ingest" and r[1] == n) for n in ("none", "instant", "hang")) + "\n")
PY
