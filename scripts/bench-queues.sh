#!/usr/bin/env bash
# Queue claim benchmark: claims/s with CLAIMERS (8) concurrent claimers through the HTTP API
# (wrk, POST /v1/queues/bench/claim, one item per claim, keep-alive), next to pgbench running
# the very claim statement leadrouter runs (scripts/bench/queue-claim-pgbench.sql: one
# autocommitted UPDATE … FROM (… FOR UPDATE SKIP LOCKED)) with the same number of clients, on the same table, in the
# same run. Before every run the ITEMS (200 000) items are reopened, so no run drains the queue.
# PostgreSQL runs with durable commits (fsync=on, synchronous_commit=on). Prints the medians of
# REPS runs, p50/p99 latencies and the ratio HTTP / pgbench.
#
#   scripts/bench-queues.sh                      # DURATION=10 REPS=3 CLAIMERS=8 ITEMS=200000
#   DURATION=5 REPS=1 scripts/bench-queues.sh
#   BUILD=debug scripts/bench-queues.sh           # skip the release build (figures not comparable)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/bench.sh

DURATION=${DURATION:-10}
REPS=${REPS:-3}
CLAIMERS=${CLAIMERS:-8}
ITEMS=${ITEMS:-200000}
BUILD=${BUILD:-release}

ensure_packages wrk libssl-dev zlib1g-dev libdeflate-dev libpq-dev pkg-config postgresql

bench_leadrouter "$BUILD"

bench_cluster_start
bench_workdir bench-queues

PORT=$(free_port)
bench_serve "$BIN" "$PORT" "$WORK/leadrouter.log" --migrate --rules config/segments.yaml --log-level warning \
    --worker-threads 32
KEY=$("$BIN" keys create --name bench --scopes queue | tail -n 1)
export KEY

echo "seeding $ITEMS items…" >&2
psql -q "$DATABASE_URL" <<SQL
INSERT INTO leads (id) SELECT gen_random_uuid() FROM generate_series(1, $ITEMS);
INSERT INTO queue_items (queue, lead_id, priority, created_at, updated_at)
SELECT 'bench', id, random() * 100, now() - random() * interval '1 day', now() FROM leads;
VACUUM ANALYZE queue_items;
SQL
reopen() {
    psql -q "$DATABASE_URL" -c "UPDATE queue_items SET state = 'open', claim_token = NULL, claimed_by = NULL, lease_until = NULL WHERE state = 'claimed'" \
        -c "VACUUM queue_items" >/dev/null
}

RESULTS="$WORK/results.tsv"
: >"$RESULTS"
for rep in $(seq 1 "$REPS"); do
    echo "rep $rep/$REPS" >&2
    reopen
    out=$(wrk -t2 -c"$CLAIMERS" -d"${DURATION}s" --latency -s scripts/bench/queue-claim.lua "http://127.0.0.1:$PORT/v1/queues/bench/claim" 2>&1)
    echo "$out" >"$WORK/wrk-$rep.txt"
    claimed=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM queue_items WHERE state = 'claimed'")
    python3 - "$out" "$claimed" "$DURATION" >>"$RESULTS" <<'PY'
import re, sys
text, claimed, duration = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = ms(re.search(r"\s50%\s+(\S+)", text).group(1)); p99 = ms(re.search(r"\s99%\s+(\S+)", text).group(1))
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
empty = int(re.search(r"empty_answers (\d+)", text).group(1))
print(f"http\t{rps:.0f}\t{p50:.2f}\t{p99:.2f}\t{int(bad.group(1)) if bad else 0}\t{empty}\t{claimed}")
PY
    reopen
    out=$(pgbench -n -M prepared -c "$CLAIMERS" -j 2 -T "$DURATION" -f scripts/bench/queue-claim-pgbench.sql \
          --log --log-prefix="$WORK/pgb-$rep" "$DATABASE_URL" 2>&1)
    echo "$out" >"$WORK/pgbench-$rep.txt"
    tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -1)
    read -r p50 p99 < <(cat "$WORK"/pgb-"$rep".* | awk '{print $3}' | sort -n |
        awk '{a[NR]=$1} END {printf "%.2f %.2f\n", a[int(NR*0.5)+1]/1000, a[int(NR*0.99)+1]/1000}')
    rm -f "$WORK"/pgb-"$rep".*
    claimed=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM queue_items WHERE state = 'claimed'")
    printf "pgbench\t%.0f\t%s\t%s\t0\t0\t%s\n" "$tps" "$p50" "$p99" "$claimed" >>"$RESULTS"
done
# Every claim took a distinct item: claimed rows == claims answered.
psql "$DATABASE_URL" -Atc "SELECT count(*) FROM queue_items WHERE attempts > $((REPS * 2))" | grep -qx 0 \
    || echo "warning: an item was claimed more often than there were runs" >&2

python3 - "$RESULTS" "$DURATION" "$REPS" "$CLAIMERS" "$ITEMS" "$BUILD" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
duration, reps, claimers, items, build = sys.argv[2:7]
def med(name):
    runs = [r for r in rows if r[0] == name]
    return [statistics.median(float(r[i]) for r in runs) for i in range(1, 7)]
h, p = med("http"), med("pgbench")
print(f"\nbench-queues: {claimers} claimers, {duration}s per run, medians of {reps} runs; {items} items, one per claim;")
print(f"leadrouter {build} build; PostgreSQL fsync=on, synchronous_commit=on\n")
print("| claimer | claims/s | p50 ms | p99 ms | non-2xx | empty answers | vs pgbench |")
print("|---|---|---|---|---|---|---|")
print(f"| POST /v1/queues/bench/claim (HTTP, wrk) | {h[0]:.0f} | {h[1]:.2f} | {h[2]:.2f} | {h[3]:.0f} | {h[4]:.0f} | {h[0] / p[0]:.2f}× |")
print(f"| pgbench, same claim statement (SKIP LOCKED) | {p[0]:.0f} | {p[1]:.2f} | {p[2]:.2f} | — | — | 1.00× |")
print("\nper run:", "; ".join(f"{r[0]} {r[1]}/s" for r in rows))
PY
