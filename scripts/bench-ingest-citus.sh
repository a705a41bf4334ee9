#!/usr/bin/env bash
# Ingest on Citus against one plain PostgreSQL, same machine, same run (docs/scale-out.md#capacity-model):
# leadrouter (release) on a plain server and on the cluster of scripts/citus.sh (a coordinator and
# two workers), each with fsync=on and synchronous_commit=on, driven by wrk with POST /v1/batch of
# BATCH (100) messages over LEADS (5 000) users at CONNS (16) connections. Prints events/s of
# each and their ratio, and the PostgreSQL CPU time per event: the plain server's, and the
# cluster's summed over its three servers and for each (from /proc: every server's postmaster,
# its reaped children and its live backends, as scripts/bench-ingest.sh does for one server).
#
#   scripts/bench-ingest-citus.sh                      # DURATION=20 REPS=1, WORKLOAD=unmapped TRIGGERS=off
#   WORKLOAD=product-viewed TRIGGERS=on scripts/bench-ingest-citus.sh   # the real workload (needs the
#                                                      # rollup-deltas and citus-rest branches merged)
#   REPS=3 scripts/bench-ingest-citus.sh               # alternate plain / Citus three times, medians
#
# WORKLOAD: `product-viewed` sends "Product Viewed" (what scripts/bench-ingest.sh sends: leads
# enter segments); `unmapped` sends a name no alias maps, so no segment is entered (leads are
# still created, with their identities, stage and events).
# TRIGGERS=off disables the statement-level rollup triggers (membership, stage and goal rollups:
# names matching `rollup` or `hourly_daily`) on both servers, plain and coordinator alike, so both
# do the same work. On Citus those triggers fail every transaction that fires them today (a
# statement trigger with a transition table on a distributed table), and a new lead's first stage
# fires the stage rollup, so until they are replaced TRIGGERS=off is the way to run this at all.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/citus-cluster.sh
source scripts/lib/bench.sh

DURATION=${DURATION:-20}
REPS=${REPS:-1}
LEADS=${LEADS:-5000}
BATCH=${BATCH:-100}
CONNS=${CONNS:-16}
WORKLOAD=${WORKLOAD:-unmapped}
TRIGGERS=${TRIGGERS:-off}
case "$WORKLOAD" in
    unmapped) EVENT="Bench Unmapped Ping" ;;
    product-viewed) EVENT="Product Viewed" ;;
    *) echo "WORKLOAD must be unmapped or product-viewed" >&2; exit 2 ;;
esac
case "$TRIGGERS" in on|off) ;; *) echo "TRIGGERS must be on or off" >&2; exit 2 ;; esac
export LEADS BATCH EVENT

ensure_packages wrk curl libssl-dev zlib1g-dev libpq-dev pkg-config postgresql
bench_leadrouter release
citus_install
echo "leadrouter: $BIN; load: $(uptime)" >&2
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

bench_workdir bench-ingest-citus
trap 'bench_cleanup; citus_cluster_stop' EXIT
# Durable commits on every server, as scripts/bench-ingest.sh runs its one server.
DURABLE="-c fsync=on -c full_page_writes=on -c synchronous_commit=on -c shared_buffers=${SHARED_BUFFERS:-128MB}"
PG_EXTRA_OPTS=$DURABLE citus_cluster_start
CITUS_URL=$DATABASE_URL
read -r -a CITUS_DIR_LIST <<<"$CITUS_DIRS"
PG_EXTRA_OPTS=$DURABLE pg_cluster_start   # PG_DIR stays set: bench_cleanup stops it
PLAIN_URL=$DATABASE_URL
PLAIN_DIR=$PG_DIR

# dir_ticks DIR: CPU ticks (1/100 s) of the server in DIR so far (cluster_ticks of that server).
dir_ticks() { PG_DIR=$1 cluster_ticks; }

# start_target NAME URL: migrates URL (on the coordinator this also distributes the tables),
# disables the rollup triggers when TRIGGERS=off, starts `serve` on it and makes an ingest key.
# Webhook delivery is off (nothing subscribes here; on Citus its lease, a multi-shard
# FOR UPDATE, fails every 200 ms and would be counted as the coordinator's CPU). The queue
# worker's upkeep still fails once a second on Citus (listed at the end): a small, constant cost.
# Sets PORT_<NAME>, PID_<NAME>, KEY_<NAME>.
start_target() {
    local name=$1 url=$2 port
    DATABASE_URL=$url "$BIN" migrate >"$WORK/$name-migrate.log" 2>&1 || { cat "$WORK/$name-migrate.log" >&2; return 1; }
    if [ "$TRIGGERS" = off ]; then
        # The tables' own triggers (not partitions' clones, not Citus's shard copies on the
        # coordinator); Citus propagates the change to the shards once unsafe triggers are allowed
        # (a placeholder setting on plain PostgreSQL).
        psql -v ON_ERROR_STOP=1 -qAt "$url" -c "
            SELECT format('ALTER TABLE %I DISABLE TRIGGER %I;', c.relname, t.tgname)
            FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND t.tgname ~ '(rollup|hourly_daily)' AND c.relname !~ '_[0-9]+$'" |
            { echo "SET citus.enable_unsafe_triggers = on;"; cat; } | psql -v ON_ERROR_STOP=1 -q "$url"
    fi
    port=$(free_port)
    LEADROUTER_WEBHOOKS_ENABLED=false DATABASE_URL=$url bench_serve "$BIN" "$port" "$WORK/$name.log" --rules config/segments.yaml --log-level warning --worker-threads 96
    printf -v "PORT_$name" %s "$port"
    printf -v "PID_$name" %s "$BENCH_SERVE_PID"
    printf -v "KEY_$name" %s "$(DATABASE_URL=$url "$BIN" keys create --name bench --scopes ingest | tail -n 1)"
}

RESULTS="$WORK/results.tsv"
: >"$RESULTS"
# run_target NAME REP URL DIR...: one wrk run of DURATION seconds against NAME; appends
# "NAME REP events-stored failed-requests leadrouter-ticks ticks-of-each-DIR…" to RESULTS. Events are
# counted in the database (stored, so committed), before and a second after the run, outside the
# CPU window; wrk waits up to 30 s for an answer, so a slow batch is not dropped as a timeout.
run_target() {
    local name=$1 rep=$2 url=$3 port pid key out figures lr0 lr1 d n0 n1
    shift 3
    port=PORT_$name; pid=PID_$name; key=KEY_$name
    local before=() after=()
    n0=$(psql -Atc "SELECT count(*) FROM events" "$url")
    lr0=$(proc_ticks "${!pid}")
    for d in "$@"; do before+=("$(dir_ticks "$d")"); done
    out=$(KEY=${!key} wrk -t2 -c"$CONNS" -d"${DURATION}s" --timeout 30s --latency -s scripts/bench/ingest-batch.lua "http://127.0.0.1:${!port}/v1/batch")
    sleep 1
    for d in "$@"; do after+=("$(dir_ticks "$d")"); done
    lr1=$(proc_ticks "${!pid}")
    n1=$(psql -Atc "SELECT count(*) FROM events" "$url")
    echo "$out" >"$WORK/wrk-$name-$rep.txt"
    figures=$(wrk_figures <<<"$out")
    # Answers that were not 2xx, plus requests that got none (wrk's socket errors: connect, read, write, timeout).
    local failed
    failed=$(( $(cut -f4 <<<"$figures") + $(sed -n 's/.*Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1+\2+\3+\4/p' <<<"$out" | head -n 1 | grep . || echo 0) ))
    local line="$name\t$rep\t$((n1 - n0))\t$failed\t$((lr1 - lr0))" i
    for i in "${!before[@]}"; do line+="\t$((after[i] - before[i]))"; done
    echo -e "$line" >>"$RESULTS"
}

echo "migrating and starting leadrouter on both…" >&2
start_target plain "$PLAIN_URL"
start_target citus "$CITUS_URL"
# Warm-up: runs until 98 % of the LEADS users exist as leads (6 runs at most), so the measured
# runs on both update existing leads (a new lead costs more, most on Citus: its identity is on
# another shard than its lead, a two-phase commit).
for target in plain citus; do
    url=PLAIN_URL; [ "$target" = citus ] && url=CITUS_URL
    for warm in 1 2 3 4 5 6; do
        echo "warming up $target ($warm): creating leads…" >&2
        if [ "$target" = plain ]; then run_target plain 0 "$PLAIN_URL" "$PLAIN_DIR"; else run_target citus 0 "$CITUS_URL" "${CITUS_DIR_LIST[@]}"; fi
        [ "$(psql -Atc "SELECT count(*) >= $LEADS * 0.98 FROM leads" "${!url}")" = t ] && break
    done
done
for rep in $(seq 1 "$REPS"); do
    echo "rep $rep/$REPS" >&2
    run_target plain "$rep" "$PLAIN_URL" "$PLAIN_DIR"
    run_target citus "$rep" "$CITUS_URL" "${CITUS_DIR_LIST[@]}"
done
STORED_PLAIN=$(psql -Atc "SELECT count(*) FROM events" "$PLAIN_URL")
STORED_CITUS=$(psql -Atc "SELECT count(*) FROM events" "$CITUS_URL")
LEADS_PLAIN=$(psql -Atc "SELECT count(*) FROM leads" "$PLAIN_URL")
LEADS_CITUS=$(psql -Atc "SELECT count(*) FROM leads" "$CITUS_URL")
# Statements that failed on the coordinator (its log), most frequent first: empty when ingest runs.
ERRORS=$(grep -h "ERROR:" "${CITUS_DIR_LIST[0]}/server.log" | sed 's/.*ERROR: *//' | sort | uniq -c | sort -rn | head -n 5 || true)
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
for name in plain citus; do
    # A run that failed shows in the server's log (warnings and up): its last lines.
    if grep -q '"error"\|level=error\|ERROR' "$WORK/$name.log"; then echo "--- $name: leadrouter log (last lines)" >&2; tail -n 5 "$WORK/$name.log" >&2; fi
done

python3 - "$RESULTS" "$DURATION" "$REPS" "$BATCH" "$CONNS" "$WORKLOAD" "$TRIGGERS" "$LOAD_BEFORE" "$LOAD_AFTER" \
    "$STORED_PLAIN" "$STORED_CITUS" "$LEADS_PLAIN" "$LEADS_CITUS" "$(getconf CLK_TCK)" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
duration, reps, batch, conns, workload, triggers, load0, load1 = sys.argv[2:10]
stored_plain, stored_citus, leads_plain, leads_citus, hz = sys.argv[10:15]
duration, hz = float(duration), float(hz)
def med(name):
    runs = [r for r in rows if r[0] == name and r[1] != "0"]
    per_event = lambda col: statistics.median(float(r[col]) / hz * 1e6 / int(r[2]) if int(r[2]) > 0 else float("nan") for r in runs)
    return dict(events=statistics.median(int(r[2]) / duration for r in runs), non2xx=sum(int(r[3]) for r in runs), lr=per_event(4),
                servers=[per_event(c) for c in range(5, len(runs[0]))])
p, c = med("plain"), med("citus")
print(f"\nbench-ingest-citus: POST /v1/batch, {batch} messages a request, {conns} connections, {duration:.0f} s a run,"
      f" medians of {reps} (after warm-up runs until the leads exist); workload {workload}, rollup triggers {triggers};"
      f" fsync=on, synchronous_commit=on; load average before / after: {load0} / {load1}")
print(f"stored at the end: plain {stored_plain} events, {leads_plain} leads; Citus {stored_citus} events, {leads_citus} leads\n")
print("| target | events/s | failed requests | PostgreSQL CPU µs/event (all servers) | coordinator | worker 1 | worker 2 | leadrouter CPU µs/event |")
print("|---|---|---|---|---|---|---|---|")
print(f"| plain PostgreSQL | {p['events']:.0f} | {p['non2xx']} | {sum(p['servers']):.0f} | — | — | — | {p['lr']:.0f} |")
s = c["servers"]
print(f"| Citus, 2 workers | {c['events']:.0f} | {c['non2xx']} | {sum(s):.0f} | {s[0]:.0f} | {s[1]:.0f} | {s[2]:.0f} | {c['lr']:.0f} |")
ratio = lambda a, b: f"{a / b:.2f}×" if b else "—"
print(f"\nCitus / plain: events/s {ratio(c['events'], p['events'])}, PostgreSQL CPU per event {ratio(sum(s), sum(p['servers']))}")
per_worker = (s[1] + s[2]) / 2
print(f"capacity inputs (docs/scale-out.md#capacity-model): coordinator {s[0]:.0f} µs/event, a worker {per_worker:.0f} µs/event"
      f" at 2 workers (each sees about half the events: {per_worker * 2:.0f} µs per event it holds);"
      f" one core of a worker takes about {1e6 / (per_worker * 2) if per_worker else float('nan'):.0f} events/s of its own shards")
PY
if [ -n "$ERRORS" ]; then
    echo -e "\nerrors on the coordinator (count, message):\n$ERRORS"
fi
