#!/usr/bin/env bash
# Ingest benchmark: leadrouter (release) with PostgreSQL at synchronous_commit=on and fsync=on,
# over LEADS (100 000) leads, driven by wrk with Lua scripts (scripts/bench/ingest-*.lua):
#   (b) POST /v1/batch with BATCH (100) messages per request, which also creates the leads,
#   (a) POST /v1/events (one event, decision in the answer) at 1 and 64 connections,
# and, in the same run against the same database, pgbench replaying the SQL leadrouter runs per
# event (scripts/bench/ingest-pgbench.sql): the database's own ceiling for this work; and pgbench
# replaying the least a lane batch of BATCH events writes, set-based in one transaction
# (scripts/bench/ingest-pgbench-batch.sql): the database's ceiling for batched ingest.
# Prints events/s and p50/p99 (medians of REPS runs), the ratio to the pgbench ceiling, and the
# CPU time per event that leadrouter, PostgreSQL and the load generator used.
#
#   scripts/bench-ingest.sh                     # DURATION=10 REPS=3 LEADS=100000 BATCH=100
#   DURATION=5 REPS=1 scripts/bench-ingest.sh
#   BIN=/path/to/other/leadrouter scripts/bench-ingest.sh   # measure another build (before/after)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/bench.sh

DURATION=${DURATION:-10}
REPS=${REPS:-3}
LEADS=${LEADS:-100000}
BATCH=${BATCH:-100}
WRK_THREADS=${WRK_THREADS:-2}

ensure_packages wrk libssl-dev zlib1g-dev libdeflate-dev libpq-dev pkg-config postgresql

bench_leadrouter release
echo "leadrouter: $BIN; load: $(uptime)" >&2

bench_cluster_start
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
bench_workdir bench-ingest

PORT=$(free_port)
bench_serve "$BIN" "$PORT" "$WORK/leadrouter.log" --migrate --rules config/segments.yaml --log-level warning \
    --worker-threads 96
KEY=$("$BIN" keys create --name bench --scopes ingest | tail -n 1)
export KEY LEADS BATCH

RESULTS="$WORK/results.tsv"
: >"$RESULTS"
cat >"$WORK/parse_wrk.py" <<'PY'
import re, sys
name, conns, per_request = sys.argv[1], sys.argv[2], int(sys.argv[3])
lr_ticks, pg_ticks, wrk_ticks, duration = (float(v) for v in sys.argv[4:8])
text = sys.stdin.read()
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = ms(re.search(r"\s50%\s+(\S+)", text).group(1))
p99 = ms(re.search(r"\s99%\s+(\S+)", text).group(1))
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
errors = int(bad.group(1)) if bad else 0
events = rps * per_request * duration
per_event = lambda ticks: ticks * 10000 / events if events else 0  # µs of CPU per event
print(f"{name}\t{conns}\t{rps * per_request:.0f}\t{p50:.2f}\t{p99:.2f}\t{errors}\t"
      f"{per_event(lr_ticks):.0f}\t{per_event(pg_ticks):.0f}\t{per_event(wrk_ticks):.0f}")
PY

# run_wrk NAME CONNS SCRIPT PER_REQUEST PATH: one wrk run; appends its figures, with the CPU time
# leadrouter, PostgreSQL and wrk used during it (ticks of 1/100 s), to RESULTS.
run_wrk() {
    local threads=$WRK_THREADS
    [ "$2" -lt "$threads" ] && threads=$2
    local out lr0 pg0 lr1 pg1 wrk_ticks
    lr0=$(proc_ticks "$BENCH_SERVE_PID"); pg0=$(cluster_ticks)
    out=$(wrk -t"$threads" -c"$2" -d"${DURATION}s" --latency -s "$3" "http://127.0.0.1:$PORT$5" &
          pid=$!; t=0; while kill -0 "$pid" 2>/dev/null; do t=$(proc_ticks "$pid"); sleep 0.2; done; wait "$pid"
          echo "wrk-ticks: $t")
    lr1=$(proc_ticks "$BENCH_SERVE_PID"); pg1=$(cluster_ticks)
    echo "$out" >"$WORK/wrk-$1-$2-$(date +%s%N).txt"
    wrk_ticks=$(sed -n 's/^wrk-ticks: //p' <<<"$out")
    python3 "$WORK/parse_wrk.py" "$1" "$2" "$4" $((lr1 - lr0)) $((pg1 - pg0)) "$wrk_ticks" "$DURATION" <<<"$out" >>"$RESULTS"
}

echo "warming up and creating leads with batches…" >&2
DURATION=$((DURATION * 2)) run_wrk warmup 16 scripts/bench/ingest-batch.lua "$BATCH" /v1/batch
for rep in $(seq 1 "$REPS"); do
    echo "rep $rep/$REPS" >&2
    run_wrk "batch_$BATCH" 16 scripts/bench/ingest-batch.lua "$BATCH" /v1/batch
    run_wrk events 1 scripts/bench/ingest-event.lua 1 /v1/events
    run_wrk events 64 scripts/bench/ingest-event.lua 1 /v1/events
done
LEADS_CREATED=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM leads")
EVENTS_STORED=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM events")

# The database's own ceiling: the same statements per event, straight from pgbench.
kill "$BENCH_SERVE_PID"; wait "$BENCH_SERVE_PID" 2>/dev/null || true
psql "$DATABASE_URL" -qc "CREATE TABLE bench_leads AS SELECT row_number() OVER (ORDER BY lead_id) AS n, lead_id FROM identities WHERE kind = 'user_id'; CREATE UNIQUE INDEX ON bench_leads (n);"
NLEADS=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM bench_leads")
# The maintenance leadrouter's load left behind (autovacuum, a checkpoint) would otherwise run
# during, and be counted in, the pgbench runs.
psql "$DATABASE_URL" -qc "VACUUM ANALYZE" -c "CHECKPOINT"
# run_pgbench NAME CONNS SCRIPT EVENTS_PER_TRANSACTION: one pgbench run; appends events/s,
# per-transaction p50/p99 and PostgreSQL's CPU per event to RESULTS.
run_pgbench() {
    local name=$1 conns=$2 script=$3 per=$4 out tps p50 p99 pg0 pg1 tag="$1-$2-$(date +%s%N)"
    cluster_settle
    pg0=$(cluster_ticks)
    out=$(pgbench -n -M prepared -c "$conns" -j "$([ "$conns" -gt 1 ] && echo 2 || echo 1)" -T "$DURATION" \
          -D nleads="$NLEADS" -D batch="$BATCH" -f "$script" --log --log-prefix="$WORK/pgb-$tag" "$DATABASE_URL" 2>&1)
    cluster_settle  # pgbench's backends are gone and reaped: their CPU is in the postmaster's cutime
    pg1=$(cluster_ticks)
    echo "$out" >"$WORK/pgbench-$tag.txt"
    tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -1)
    # Per-transaction latencies (µs, 3rd column) from the pgbench logs: p50 and p99.
    read -r p50 p99 < <(cat "$WORK"/pgb-"$tag".* | awk '{print $3}' | sort -n |
        awk '{a[NR]=$1} END {printf "%.2f %.2f\n", a[int(NR*0.5)+1]/1000, a[int(NR*0.99)+1]/1000}')
    rm -f "$WORK"/pgb-"$tag".*
    python3 -c 'import sys; n, c, tps, per, p50, p99, ticks, d = sys.argv[1:]; ev = float(tps) * int(per)
print(f"{n}\t{c}\t{ev:.0f}\t{p50}\t{p99}\t0\t0\t{float(ticks) * 10000 / (ev * float(d)) if ev else 0:.0f}\t0")' \
        "$name" "$conns" "$tps" "$per" "$p50" "$p99" $((pg1 - pg0)) "$DURATION" >>"$RESULTS"
}
for rep in $(seq 1 "$REPS"); do
    run_pgbench pgbench 1 scripts/bench/ingest-pgbench.sql 1
    run_pgbench pgbench 64 scripts/bench/ingest-pgbench.sql 1
    run_pgbench pgbench_batch 16 scripts/bench/ingest-pgbench-batch.sql "$BATCH"
done

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$RESULTS" "$DURATION" "$REPS" "$LEADS_CREATED" "$EVENTS_STORED" "$BATCH" "$LOAD_BEFORE" "$LOAD_AFTER" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
duration, reps, leads, events, batch = sys.argv[2:7]
def med(name, conns):
    runs = [r for r in rows if r[0] == name and r[1] == conns]
    if not runs: return None
    return [statistics.median(float(r[i]) for r in runs) for i in (2, 3, 4, 5, 6, 7, 8)]
print(f"\nbench-ingest: wrk {duration}s per run, medians of {reps} runs; synchronous_commit=on, fsync=on;")
print(f"user ids drawn from 1..LEADS; {leads} leads and {events} events stored at the end")
print(f"load average before / after: {sys.argv[7]} / {sys.argv[8]}\n")
print("| scenario | connections | events/s | p50 ms | p99 ms | non-2xx | vs pgbench ceiling | CPU µs/event: leadrouter / PostgreSQL / wrk |")
print("|---|---|---|---|---|---|---|---|")
ceiling = {c: med("pgbench", c) for c in ("1", "64")}
ceiling["batch"] = med("pgbench_batch", "16")
for name, conns, ref in [("events", "1", "1"), ("events", "64", "64"), (f"batch_{batch}", "16", "64"), ("pgbench", "1", None),
                         ("pgbench", "64", None), ("pgbench_batch", "16", None)]:
    m = med(name, conns)
    if m is None: continue
    ratio = f"{m[0] / ceiling[ref][0]:.2f}×" if ref and ceiling.get(ref) else "—"
    label = {"events": "POST /v1/events (decision)", "pgbench": "pgbench, same SQL per event",
             "pgbench_batch": f"pgbench, least SQL of a {batch}-event lane batch"}.get(name, f"POST /v1/batch ({batch} msgs)")
    cpu = f"— / {m[5]:.0f} / —" if name.startswith("pgbench") else f"{m[4]:.0f} / {m[5]:.0f} / {m[6]:.0f}"
    print(f"| {label} | {conns} | {m[0]:.0f} | {m[1]:.2f} | {m[2]:.2f} | {m[3]:.0f} | {ratio} | {cpu} |")
b, cb = med(f"batch_{batch}", "16"), ceiling["batch"]
if b and cb:
    print(f"\n/v1/batch against the database's set-based ceiling for the same batches: {b[0] / cb[0]:.2f}×"
          f" ({b[0]:.0f} / {cb[0]:.0f} events/s)")
cores = __import__("os").cpu_count()
print(f"\nCPU per event is what each process used during the run divided by the events it carried;"
      f" {cores} cores at 100 % allow at most {cores} s / (sum of the three) events per second.")
PY
