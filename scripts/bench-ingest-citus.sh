#!/usr/bin/env bash
# Ingest on Citus against one plain PostgreSQL, same machine, same run (docs/scale-out.md#capacity-model):
# leadrouter (release) on a plain server and on the cluster of scripts/citus.sh (a coordinator and
# two workers), each with fsync=on and synchronous_commit=on, driven by wrk at CONNS (16)
# connections over LEADS (5 000) users. MODES: `batch` (POST /v1/batch of BATCH, 100, messages)
# and `events` (POST /v1/events, one message, its decision in the answer). Per mode it prints
# events/s of each and their ratio (medians of REPS runs, plain and Citus alternated), and per
# event: the PostgreSQL CPU time of each server (the plain one; the coordinator and each worker,
# from /proc: every server's postmaster, its reaped children and its live backends, as
# scripts/bench-ingest.sh does for one server), the WAL each server wrote, and leadrouter's CPU.
#
#   scripts/bench-ingest-citus.sh                         # WORKLOAD=real MODES="batch events" REPS=3 DURATION=20
#   REPS=1 MODES=batch WORKLOAD=unmapped scripts/bench-ingest-citus.sh   # the earlier, lighter workload
#   STATEMENTS=1 scripts/bench-ingest-citus.sh            # also where the time goes, per server
#   BIN=/path/to/release/leadrouter scripts/bench-ingest-citus.sh        # another build
#
# WORKLOAD:
#   real            (default) the sample rules' funnel (scripts/bench/ingest-mixed.lua): PRICING
#                   (10) % of the messages are "Pricing Requested" from new leads (a new lead and
#                   identity, the decision stage, status qualified, routed to the high-intent
#                   sales queue with an owner), the rest "Product Viewed" from the LEADS users
#                   (segments entered and left, stages moved); rollup deltas written with the history.
#   product-viewed  only "Product Viewed" from the LEADS users (scripts/bench/ingest-batch.lua).
#   unmapped        a name no alias maps: no segment is entered (leads are still created, with
#                   their identities, stage and events) — the workload of the first measurement.
# Warm-up runs (batch mode) go on until 98 % of the LEADS users exist as leads on each target, so
# the measured runs update existing leads, and create only the pricing requests' new ones.
#
# STATEMENTS=1 loads pg_stat_statements (track=all, so statements inside functions count too) on
# every server, resets it after the warm-up and prints each server's costliest statements over
# the measured runs (total execution time, calls, rows), and on the coordinator counts the
# statements Citus ran over more than one shard (citus.multi_task_query_log_level=log): the
# figures for finding where Citus's CPU per event goes. It adds its own overhead to every
# server, so compare CPU per event between runs with the same STATEMENTS.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/citus-cluster.sh
source scripts/lib/bench.sh

DURATION=${DURATION:-20}
REPS=${REPS:-3}
LEADS=${LEADS:-5000}
BATCH=${BATCH:-100}
CONNS=${CONNS:-16}
PRICING=${PRICING:-10}
WORKLOAD=${WORKLOAD:-real}
MODES=${MODES:-batch events}
STATEMENTS=${STATEMENTS:-0}
TOP=${TOP:-12}
case "$WORKLOAD" in
    real) SCRIPT=scripts/bench/ingest-mixed.lua ;;
    unmapped) SCRIPT=scripts/bench/ingest-batch.lua; EVENT="Bench Unmapped Ping" ;;
    product-viewed) SCRIPT=scripts/bench/ingest-batch.lua; EVENT="Product Viewed" ;;
    *) echo "WORKLOAD must be real, product-viewed or unmapped" >&2; exit 2 ;;
esac
for mode in $MODES; do
    case "$mode" in batch) ;; events) [ "$WORKLOAD" = real ] || { echo "MODES=events needs WORKLOAD=real" >&2; exit 2; } ;;
        *) echo "MODES: batch and/or events" >&2; exit 2 ;; esac
done
export LEADS PRICING EVENT

ensure_packages wrk curl libssl-dev zlib1g-dev libdeflate-dev libpq-dev pkg-config postgresql
bench_leadrouter release
citus_install
echo "leadrouter: $BIN; load: $(uptime)" >&2
[ -n "${CITUS_SETTINGS:-}" ] && echo "Citus servers with: $CITUS_SETTINGS" >&2
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

bench_workdir bench-ingest-citus
trap 'bench_cleanup; citus_cluster_stop' EXIT
# Durable commits on every server, as scripts/bench-ingest.sh runs its one server.
DURABLE="-c fsync=on -c full_page_writes=on -c synchronous_commit=on -c shared_buffers=${SHARED_BUFFERS:-128MB}"
PLAIN_OPTS=$DURABLE
# CITUS_SETTINGS: more `-c name=value` for the three Citus servers (e.g. to try a Citus setting).
CITUS_OPTS="$DURABLE ${CITUS_SETTINGS:-}"
if [ "$STATEMENTS" = 1 ]; then
    STATS="-c pg_stat_statements.track=all -c pg_stat_statements.max=5000"
    PLAIN_OPTS+=" -c shared_preload_libraries=pg_stat_statements $STATS"
    # Citus must come first; this -c comes after citus_cluster_start's own and replaces it.
    CITUS_OPTS+=" -c shared_preload_libraries=citus,pg_stat_statements $STATS -c citus.multi_task_query_log_level=log -c log_min_error_statement=log"
fi
PG_EXTRA_OPTS=$CITUS_OPTS citus_cluster_start
CITUS_URL=$DATABASE_URL
read -r -a CITUS_DIR_LIST <<<"$CITUS_DIRS"
read -r -a CITUS_URL_LIST <<<"$CITUS_URL $CITUS_WORKER_URLS"
PG_EXTRA_OPTS=$PLAIN_OPTS pg_cluster_start   # PG_DIR stays set: bench_cleanup stops it
PLAIN_URL=$DATABASE_URL
PLAIN_DIR=$PG_DIR
if [ "$STATEMENTS" = 1 ]; then
    # On the coordinator Citus propagates it to the workers.
    for url in "$PLAIN_URL" "$CITUS_URL"; do psql -qAt "$url" -c "CREATE EXTENSION pg_stat_statements" >/dev/null; done
fi

# dir_ticks DIR: CPU ticks (1/100 s) of the server in DIR so far (cluster_ticks of that server).
dir_ticks() { PG_DIR=$1 cluster_ticks; }
# wal_lsn URL: the server's WAL insert position.
wal_lsn() { psql -Atc "SELECT pg_current_wal_insert_lsn()" "$1"; }
# wal_bytes URL FROM: WAL bytes the server wrote since FROM.
wal_bytes() { psql -Atc "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '$2')::int8" "$1"; }

# start_target NAME URL: migrates URL (on the coordinator this also distributes the tables),
# starts `serve` on it and makes an ingest key. Webhook delivery is off: nothing subscribes here,
# so no outbox row is written, on either. Sets PORT_<NAME>, PID_<NAME>, KEY_<NAME>.
start_target() {
    local name=$1 url=$2 port
    DATABASE_URL=$url "$BIN" migrate >"$WORK/$name-migrate.log" 2>&1 || { cat "$WORK/$name-migrate.log" >&2; return 1; }
    port=$(free_port)
    LEADROUTER_WEBHOOKS_ENABLED=false DATABASE_URL=$url bench_serve "$BIN" "$port" "$WORK/$name.log" --rules config/segments.yaml --log-level warning --worker-threads 96
    printf -v "PORT_$name" %s "$port"
    printf -v "PID_$name" %s "$BENCH_SERVE_PID"
    printf -v "KEY_$name" %s "$(DATABASE_URL=$url "$BIN" keys create --name bench --scopes ingest | tail -n 1)"
}

RESULTS="$WORK/results.tsv"
: >"$RESULTS"
# run_target NAME MODE REP: one wrk run of DURATION seconds against NAME in MODE (batch, events);
# appends "NAME MODE REP events-stored failed-requests leadrouter-ticks (ticks wal-bytes) of each server…"
# to RESULTS. Events are counted in the database (stored, so committed), before and a second
# after the run, outside the CPU window; wrk waits up to 30 s for an answer, so a slow batch is
# not dropped as a timeout.
run_target() {
    local name=$1 mode=$2 rep=$3 url port pid key out figures lr0 lr1 i n0 n1 batch=$BATCH
    local dirs=() urls=() before=() after=() lsn=() wal=()
    if [ "$name" = plain ]; then url=$PLAIN_URL; dirs=("$PLAIN_DIR"); urls=("$PLAIN_URL")
    else url=$CITUS_URL; dirs=("${CITUS_DIR_LIST[@]}"); urls=("${CITUS_URL_LIST[@]}"); fi
    [ "$mode" = events ] && batch=1
    port=PORT_$name; pid=PID_$name; key=KEY_$name
    n0=$(psql -Atc "SELECT count(*) FROM events" "$url")
    for i in "${!urls[@]}"; do lsn+=("$(wal_lsn "${urls[i]}")"); done
    lr0=$(proc_ticks "${!pid}")
    for i in "${!dirs[@]}"; do before+=("$(dir_ticks "${dirs[i]}")"); done
    if [ "$mode" = idle ]; then out="Requests/sec: 0"; sleep "$DURATION"; else
    out=$(KEY=${!key} BATCH=$batch WARMUP=$([ "$rep" = 0 ] && echo 1 || echo 0) OFFSET=${OFFSET:-0} RUN="$name$mode$rep$(date +%s)" wrk -t2 -c"$CONNS" -d"${DURATION}s" --timeout 30s --latency -s "$SCRIPT" "http://127.0.0.1:${!port}/"); fi
    sleep 1
    for i in "${!dirs[@]}"; do after+=("$(dir_ticks "${dirs[i]}")"); done
    lr1=$(proc_ticks "${!pid}")
    for i in "${!urls[@]}"; do wal+=("$(wal_bytes "${urls[i]}" "${lsn[i]}")"); done
    n1=$(psql -Atc "SELECT count(*) FROM events" "$url")
    echo "$out" >"$WORK/wrk-$name-$mode-$rep.txt"
    if [ "$mode" = idle ]; then figures=$'0\t0\t0\t0'; else figures=$(wrk_figures <<<"$out"); fi
    # Answers that were not 2xx, plus requests that got none (wrk's socket errors: connect, read, write, timeout).
    local failed
    failed=$(( $(cut -f4 <<<"$figures") + $(sed -n 's/.*Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1+\2+\3+\4/p' <<<"$out" | head -n 1 | grep . || echo 0) ))
    local line="$name\t$mode\t$rep\t$((n1 - n0))\t$failed\t$((lr1 - lr0))"
    for i in "${!before[@]}"; do line+="\t$((after[i] - before[i]))\t${wal[i]}"; done
    echo -e "$line" >>"$RESULTS"
}

echo "migrating and starting leadrouter on both…" >&2
start_target plain "$PLAIN_URL"
start_target citus "$CITUS_URL"
# Warm-up (batch mode, counted nowhere): "Product Viewed" from each of the LEADS users in turn
# (WARMUP=1), until 98 % of them exist as leads (10 runs at most), so the measured runs on both
# update existing leads (a new lead costs more, most on Citus: its identity is on another shard
# than its lead, a two-phase commit), apart from the pricing requests' new ones.
for target in plain citus; do
    url=PLAIN_URL; [ "$target" = citus ] && url=CITUS_URL
    for warm in 1 2 3 4 5 6 7 8 9 10; do
        # Each run goes on from where the last one stopped (users 1 … OFFSET exist, give or take
        # the batches cut off at its end, which a later pass over the users fills in).
        OFFSET=$(psql -Atc "SELECT count(*) FROM identities WHERE kind = 'user_id' AND value LIKE 'b%'" "${!url}")
        [ "$OFFSET" -ge $((LEADS * 98 / 100)) ] && break
        echo "warming up $target ($warm): $OFFSET of $LEADS leads exist…" >&2
        OFFSET=$OFFSET run_target "$target" batch 0
    done
done
# The background jobs' own CPU (sweeper, queue upkeep, rollup fold, checkpoints…) with no load:
# IDLE (10) seconds on each, so that per-event figures can be read net of it.
IDLE=${IDLE:-10}
for target in plain citus; do
    echo "idle $target (${IDLE} s)…" >&2
    DURATION=$IDLE run_target "$target" idle 0
done
COUNTS="SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM leads), (SELECT count(*) FROM membership_history WHERE change = 'entered'),
               (SELECT count(*) FROM stage_history), (SELECT count(*) FROM leads WHERE status = 'qualified'), (SELECT count(*) FROM queue_items)"
COUNTS_PLAIN_0=$(psql -AtF' ' -c "$COUNTS" "$PLAIN_URL")
COUNTS_CITUS_0=$(psql -AtF' ' -c "$COUNTS" "$CITUS_URL")
if [ "$STATEMENTS" = 1 ]; then
    for url in "$PLAIN_URL" "${CITUS_URL_LIST[@]}"; do psql -qAt "$url" -c "SELECT pg_stat_statements_reset()" >/dev/null; done
    for d in "${CITUS_DIR_LIST[0]}"; do wc -l <"$d/server.log" >"$WORK/coordinator-log-start"; done
fi
for rep in $(seq 1 "$REPS"); do
    for mode in $MODES; do
        echo "rep $rep/$REPS: $mode" >&2
        run_target plain "$mode" "$rep"
        run_target citus "$mode" "$rep"
    done
done
COUNTS_PLAIN_1=$(psql -AtF' ' -c "$COUNTS" "$PLAIN_URL")
COUNTS_CITUS_1=$(psql -AtF' ' -c "$COUNTS" "$CITUS_URL")
# Statements that failed on the coordinator (its log), most frequent first: empty when ingest runs.
ERRORS=$(grep -h "ERROR:" "${CITUS_DIR_LIST[0]}/server.log" | sed 's/.*ERROR: *//' | sort | uniq -c | sort -rn | head -n 5 || true)
ERROR_STATEMENTS=$(grep -h -A1 "ERROR:" "${CITUS_DIR_LIST[0]}/server.log" | grep "STATEMENT:" | sed 's/.*STATEMENT: *//' | cut -c1-140 | sort | uniq -c | sort -rn | head -n 5 || true)
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
for name in plain citus; do
    # A run that failed shows in the server's log (warnings and up): its last lines.
    if grep -q '"error"\|level=error\|ERROR' "$WORK/$name.log"; then echo "--- $name: leadrouter log (last lines)" >&2; tail -n 5 "$WORK/$name.log" >&2; fi
done

python3 - "$RESULTS" "$DURATION" "$REPS" "$BATCH" "$CONNS" "$WORKLOAD" "$PRICING" "$LOAD_BEFORE" "$LOAD_AFTER" \
    "$COUNTS_PLAIN_0" "$COUNTS_PLAIN_1" "$COUNTS_CITUS_0" "$COUNTS_CITUS_1" "$(getconf CLK_TCK)" "$MODES" "$IDLE" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
duration, reps, batch, conns, workload, pricing, load0, load1 = sys.argv[2:10]
counts = [list(map(int, a.split())) for a in sys.argv[10:14]]
hz, modes, idle = float(sys.argv[14]), sys.argv[15].split(), float(sys.argv[16])
duration = float(duration)
# CPU ticks per second of each server with no load (the background jobs).
background = {r[0]: [float(r[c]) / idle for c in range(6, len(r), 2)] for r in rows if r[1] == "idle"}
def med(name, mode):
    runs = [r for r in rows if r[0] == name and r[1] == mode and r[2] != "0"]
    if not runs: return None
    per = lambda r, col, scale, minus=0.0: (float(r[col]) - minus) * scale / int(r[3]) if int(r[3]) > 0 else float("nan")
    m = lambda col, scale, minus=0.0: statistics.median(per(r, col, scale, minus) for r in runs)
    servers = range(6, len(runs[0]), 2)
    bg = background.get(name, [0.0] * len(servers))
    return dict(events=statistics.median(int(r[3]) / duration for r in runs), failed=sum(int(r[4]) for r in runs),
                lr=m(5, 1e6 / hz), cpu=[m(c, 1e6 / hz) for c in servers], wal=[m(c + 1, 1) for c in servers],
                net=[m(c, 1e6 / hz, b * duration) for c, b in zip(servers, bg)], bg=[b * 1e3 / hz for b in bg])
print(f"\nbench-ingest-citus: workload {workload}" + (f" ({pricing} % pricing requests from new leads, the rest product views of existing leads)" if workload == "real" else "") +
      f", {conns} connections, {duration:.0f} s a run, medians of {reps} alternated runs (after warm-up runs until the leads exist);"
      f" fsync=on, synchronous_commit=on; load average before / after: {load0} / {load1}")
label = ["events", "leads", "segment entries", "stage moves", "qualified leads", "queue items"]
for name, (a, b) in (("plain", counts[0:2]), ("Citus", counts[2:4])):
    print(f"{name}, during the measured runs: " + ", ".join(f"{y - x} {l}" for l, x, y in zip(label, a, b)) + f" (at the end: {b[1]} leads)")
ratio = lambda a, b: f"{a / b:.2f}×" if b else "—"
for mode in modes:
    p, c = med("plain", mode), med("citus", mode)
    if not p or not c: continue
    what = f"POST /v1/batch of {batch} messages" if mode == "batch" else "POST /v1/events, one message each"
    print(f"\n### {what}\n")
    print("| target | events/s | failed requests | PostgreSQL CPU µs/event, all servers | coordinator | worker 1 | worker 2 | WAL bytes/event, all servers | coordinator | worker 1 | worker 2 | leadrouter CPU µs/event |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| plain PostgreSQL | {p['events']:.0f} | {p['failed']} | {sum(p['cpu']):.0f} | — | — | — | {sum(p['wal']):.0f} | — | — | — | {p['lr']:.0f} |")
    s, w = c["cpu"], c["wal"]
    print(f"| Citus, 2 workers | {c['events']:.0f} | {c['failed']} | {sum(s):.0f} | {s[0]:.0f} | {s[1]:.0f} | {s[2]:.0f} | {sum(w):.0f} | {w[0]:.0f} | {w[1]:.0f} | {w[2]:.0f} | {c['lr']:.0f} |")
    print(f"\nCitus / plain: events/s {ratio(c['events'], p['events'])}, PostgreSQL CPU per event {ratio(sum(s), sum(p['cpu']))},"
          f" WAL per event {ratio(sum(w), sum(p['wal']))}")
    n = c["net"]
    print(f"background with no load (ms of CPU per second): plain {p['bg'][0]:.0f}; Citus coordinator {c['bg'][0]:.0f},"
          f" workers {c['bg'][1]:.0f} and {c['bg'][2]:.0f}. Net of it, PostgreSQL CPU µs/event: plain {p['net'][0]:.0f};"
          f" Citus {sum(n):.0f} (coordinator {n[0]:.0f}, workers {n[1]:.0f} and {n[2]:.0f}): {ratio(sum(n), p['net'][0])}")
    print(f"capacity inputs (docs/scale-out.md#capacity-model), net of the background: plain P = {p['net'][0]:.0f} µs/event;"
          f" coordinator C = {n[0]:.0f} µs/event; workers W = {n[1] + n[2]:.0f} µs/event between them (each holds about half the events)")
PY
if [ -n "$ERRORS" ]; then
    echo -e "\nerrors on the coordinator (count, message):\n$ERRORS\nthe statements that failed (count, statement):\n$ERROR_STATEMENTS"
fi

if [ "$STATEMENTS" = 1 ]; then
    EVENTS_PLAIN=$(( $(cut -d' ' -f1 <<<"$COUNTS_PLAIN_1") - $(cut -d' ' -f1 <<<"$COUNTS_PLAIN_0") ))
    EVENTS_CITUS=$(( $(cut -d' ' -f1 <<<"$COUNTS_CITUS_1") - $(cut -d' ' -f1 <<<"$COUNTS_CITUS_0") ))
    # top_statements URL EVENTS TITLE: the server's TOP costliest statements (execution time),
    # per event over the measured runs; the statements' text shortened to one line.
    top_statements() {
        echo -e "\n#### $3: top statements by total execution time ($2 events; pg_stat_statements, track=all: a function's statements count in it and in its caller)\n"
        echo "| µs/event | calls/event | rows/call | mean ms | statement |"
        echo "|---|---|---|---|---|"
        psql -AtF$'\t' "$1" -c "SELECT round((total_exec_time * 1000 / $2)::numeric, 1), round(calls::numeric / $2, 3),
                round(rows::numeric / greatest(calls, 1), 1), round(mean_exec_time::numeric, 3),
                left(regexp_replace(query, '\s+', ' ', 'g'), 160)
            FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            ORDER BY total_exec_time DESC LIMIT $TOP" |
            sed 's/|/\\|/g' | awk -F'\t' '{printf "| %s | %s | %s | %s | `%s` |\n", $1, $2, $3, $4, $5}'
        psql -AtF$'\t' "$1" -c "SELECT round((sum(total_exec_time) * 1000 / $2)::numeric, 1), round(sum(calls)::numeric / $2, 2)
            FROM pg_stat_statements WHERE toplevel AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())" |
            awk -F'\t' '{printf "\ntop-level statements: %s µs/event of execution time, %s calls/event\n", $1, $2}'
    }
    top_statements "$PLAIN_URL" "$EVENTS_PLAIN" "plain PostgreSQL" | tee "$WORK/statements-plain.md"
    names=(coordinator "worker 1" "worker 2")
    for i in 0 1 2; do top_statements "${CITUS_URL_LIST[i]}" "$EVENTS_CITUS" "Citus ${names[i]}"; done | tee "$WORK/statements-citus.md"
    # Multi-shard statements on the coordinator during the measured runs (one log line per such
    # statement: citus.multi_task_query_log_level), most frequent first.
    echo -e "\n#### Citus coordinator: statements run over more than one shard ($EVENTS_CITUS events)\n"
    tail -n +"$(( $(cat "$WORK/coordinator-log-start") + 1 ))" "${CITUS_DIR_LIST[0]}/server.log" >"$WORK/coordinator-run.log"
    python3 scripts/bench/citus-multi-shard.py "$WORK/coordinator-run.log" "$EVENTS_CITUS" "$TOP"
    [ -n "${KEEP_STATEMENTS:-}" ] && cp "$WORK"/statements-*.md "$KEEP_STATEMENTS"/ 2>/dev/null || true
fi
