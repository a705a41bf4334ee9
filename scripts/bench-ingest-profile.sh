#!/usr/bin/env bash
# Where one build's CPU per ingested event goes, in both processes (issue 23): the A/B script's
# workload (a fresh durable cluster, `serve --migrate`, 20 s of /v1/batch warm-up), then
# SECONDS_MEASURED (15) s of /v1/events at 64 connections (SC=batch: /v1/batch of 100 × 16) while `perf record -g`
# samples the server, with PostgreSQL's `pg_stat_statements` (track = all: statements inside
# functions too), `track_functions = all` and `auto_explain` (a 2 % sample of plans with timing,
# nested statements included) reset at the start of the measured load. Writes to OUT:
# perf.data (`perf report -i OUT/perf.data --children`), statements.txt (by total time, per call,
# WAL per call), functions.txt, tables.txt (rows written) and server.log (the sampled plans), and
# prints events/s and CPU µs per event of each process. `track_planning` is on: statements.txt
# splits each statement's time into planning and execution (plan_ms, plans per call), and
# planning.txt sums both over all statements. PERF=pg samples PostgreSQL's backends instead of
# the server (`perf report -i OUT/perf.data --no-children --sort symbol`).
#
#   BIN=/work/bin/leadrouter-main-64d7c77 OUT=/tmp/profile-main scripts/bench-ingest-profile.sh
#   BIN=… SQL="$(cat migrations/0097_on_citus_inlined.sql)" OUT=… scripts/bench-ingest-profile.sh   # SQL run after migrate
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/bench.sh
OUT=${OUT:?set OUT to a directory for the profile}
SC=${SC:-events}
SECONDS_MEASURED=${SECONDS_MEASURED:-15}
ensure_packages wrk linux-perf postgresql postgresql-contrib
bench_leadrouter release
mkdir -p "$OUT"

# One line: pg_ctl hands the options to a shell.
PG_EXTRA_OPTS="-c fsync=on -c full_page_writes=on -c synchronous_commit=on -c shared_buffers=256MB"
PG_EXTRA_OPTS+=" -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all -c pg_stat_statements.max=2000"
PG_EXTRA_OPTS+=" -c track_functions=all -c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=0"
PG_EXTRA_OPTS+=" -c auto_explain.log_analyze=on -c auto_explain.log_nested_statements=on -c auto_explain.sample_rate=0.02"
PG_EXTRA_OPTS+=" -c auto_explain.log_buffers=on -c pg_stat_statements.track_planning=on"
export PG_EXTRA_OPTS
pg_cluster_start >/dev/null
bench_workdir bench-ingest-profile
port=$(free_port)
bench_serve "$BIN" "$port" "$WORK/serve.log" --migrate --rules config/segments.yaml --log-level warning --worker-threads 96
export KEY LEADS=100000 BATCH=100
KEY=$("$BIN" keys create --name bench --scopes ingest | tail -n 1)
psql -q "$DATABASE_URL" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"
[ -n "${SQL:-}" ] && psql -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "$SQL"
wrk -t2 -c16 -d20s -s scripts/bench/ingest-batch.lua "http://127.0.0.1:$port/v1/batch" >/dev/null

psql -q "$DATABASE_URL" -c "SELECT pg_stat_statements_reset(), pg_stat_reset()" >/dev/null
lr0=$(proc_ticks "$BENCH_SERVE_PID"); pg0=$(cluster_ticks)
perf_pids=$BENCH_SERVE_PID
if [ "${PERF:-}" = pg ]; then
    # The pool's backends exist after the warm-up; the postmaster's children are all of them.
    perf_pids=$(pgrep -d, -P "$(head -n 1 "$PG_DIR/data/postmaster.pid")")
fi
perf record -F 499 -g -p "$perf_pids" -o "$OUT/perf.data" -- sleep "$SECONDS_MEASURED" 2>/dev/null &
perf_pid=$!
if [ "$SC" = batch ]; then
    out=$(wrk -t2 -c16 -d"${SECONDS_MEASURED}s" -s scripts/bench/ingest-batch.lua "http://127.0.0.1:$port/v1/batch"); per=100
else
    out=$(wrk -t2 -c64 -d"${SECONDS_MEASURED}s" -s scripts/bench/ingest-event.lua "http://127.0.0.1:$port/v1/events"); per=1
fi
wait "$perf_pid" || true
lr1=$(proc_ticks "$BENCH_SERVE_PID"); pg1=$(cluster_ticks)
events=$(python3 -c "import re, sys; print(round(float(re.search(r'Requests/sec:\s+([\d.]+)', sys.argv[1]).group(1)) * $per))" "$out")

q() { psql -P pager=off "$DATABASE_URL" -c "$1"; }
q "SELECT calls, round(total_exec_time::numeric) AS ms, round((total_exec_time / greatest(calls, 1))::numeric * 1000, 1) AS us_per_call,
          round(total_plan_time::numeric) AS plan_ms, round(plans::numeric / greatest(calls, 1), 2) AS plans_per_call, rows, wal_bytes / greatest(calls, 1) AS wal_per_call, toplevel, left(regexp_replace(query, '\s+', ' ', 'g'), 200) AS query
   FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 50" >"$OUT/statements.txt"
q "SELECT toplevel, round(sum(total_plan_time)::numeric) AS plan_ms, round(sum(total_exec_time)::numeric) AS exec_ms,
          sum(plans) AS plans, sum(calls) AS calls FROM pg_stat_statements GROUP BY toplevel" >"$OUT/planning.txt"
q "SELECT funcname, calls, round(total_time::numeric) AS total_ms, round(self_time::numeric) AS self_ms
   FROM pg_stat_user_functions ORDER BY total_time DESC" >"$OUT/functions.txt"
q "SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del FROM pg_stat_user_tables
   ORDER BY n_tup_ins + n_tup_upd + n_tup_del DESC LIMIT 30" >"$OUT/tables.txt"
cp "$PG_DIR/server.log" "$OUT/server.log"
printf '%s: %s events/s; CPU µs per event: leadrouter %s, PostgreSQL %s (load average %s)\n' "$SC" "$events" \
    "$(((lr1 - lr0) * 10000 / (events * SECONDS_MEASURED)))" "$(((pg1 - pg0) * 10000 / (events * SECONDS_MEASURED)))" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/summary.txt"
