#!/usr/bin/env bash
# Server work per ingested event for two builds side by side, in figures that hardly move with
# the machine's load (CPU time per event on the shared 2-core machine moves by ±15 % between
# runs of one build): the user-space instructions callgrind counts per `POST /v1/events`, and the
# system calls per event (`strace -c` on every thread), which callgrind does not see. Background
# threads (sweeper, fold, flushes) are counted too and the users are random, so absolute counts
# differ by ~10 % between runs: compare the two builds of one run.
#
#   BASE_BIN=/work/bin/leadrouter-main-64d7c77 scripts/bench-ingest-instructions.sh
#   BASE_BIN=… BIN=… EVENTS=400 scripts/bench-ingest-instructions.sh
#   CG_OUT=/tmp/cg BASE_BIN=… scripts/bench-ingest-instructions.sh   # keep base.cg.* and this.cg.* there
#                                                    # (`callgrind_annotate --inclusive=yes /tmp/cg/this.cg.1`)
#
# Each build runs on a fresh cluster with `serve --migrate` (its own migrations), gets WARMUP
# events uncounted (the lanes' connections, the engine, the caches), then EVENTS single events
# from one wrk connection (MAX_REQUESTS: the same number for both builds; random users of 100 000,
# so nearly all are new leads, as in scripts/bench-ingest.sh). One connection means lane batches
# of one event: the per-event work without batching's amortisation. PostgreSQL is not counted.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/bench.sh

EVENTS=${EVENTS:-300}
WARMUP=${WARMUP:-100}
: "${BASE_BIN:?set BASE_BIN to the leadrouter build to compare with}"
ensure_packages valgrind wrk binutils strace libpq-dev postgresql

bench_leadrouter release
bench_workdir bench-ingest-instructions

# send PORT N: N single events on one connection (wrk ends after the Nth answer).
send() {
    MAX_REQUESTS=$2 LEADS=100000 wrk -t1 -c1 -d120s -s scripts/bench/ingest-event.lua "http://127.0.0.1:$1/v1/events" >/dev/null
}

# instructions NAME BIN: prints user-space instructions per event of BIN (callgrind).
instructions() {
    local name=$1 bin=$2 total
    pg_cluster_start >/dev/null
    bench_callgrind_serve "$name" "$bin" config/segments.yaml
    KEY=$("$bin" keys create --name bench --scopes ingest | tail -n 1)
    export KEY
    send "$BENCH_CG_PORT" "$WARMUP"
    callgrind_control -i on "$BENCH_CG_PID" >/dev/null 2>&1
    send "$BENCH_CG_PORT" "$EVENTS"
    total=$(bench_callgrind_total "$name")
    if [ -n "${CG_OUT:-}" ]; then mkdir -p "$CG_OUT"; cp "$WORK/$name".cg.* "$CG_OUT"/; fi
    pg_cluster_stop
    echo $((total / EVENTS))
}

# syscalls NAME BIN: prints system calls per event of BIN (strace -c on all its threads).
syscalls() {
    local name=$1 bin=$2 port tids total
    pg_cluster_start >/dev/null
    port=$(free_port)
    bench_serve "$bin" "$port" "$WORK/$name-strace.log" --migrate --rules config/segments.yaml --log-level warning
    KEY=$("$bin" keys create --name bench --scopes ingest | tail -n 1)
    export KEY
    send "$port" "$WARMUP"
    tids=$(ls "/proc/$BENCH_SERVE_PID/task" | sed 's/^/-p /' | tr '\n' ' ')
    # shellcheck disable=SC2086
    strace -c -o "$WORK/$name.strace" $tids &
    local spid=$!
    sleep 1
    send "$port" "$EVENTS"
    kill -INT "$spid"; wait "$spid" 2>/dev/null || true
    total=$(awk '$NF == "total" {print $(NF-2)}' "$WORK/$name.strace")
    kill "$BENCH_SERVE_PID"; wait "$BENCH_SERVE_PID" 2>/dev/null || true
    pg_cluster_stop
    python3 -c "print(f'{$total / $EVENTS:.1f}')"
    sort -k4 -n -r "$WORK/$name.strace" | awk 'NF >= 5 && $NF != "total" && $NF != "syscall" {print "    " $NF ": " $4}' | head -n 8 >&2
}

base_i=$(instructions base "$BASE_BIN"); this_i=$(instructions this "$BIN")
echo "base syscalls:" >&2; base_s=$(syscalls base "$BASE_BIN")
echo "this syscalls:" >&2; this_s=$(syscalls this "$BIN")
printf 'per POST /v1/events (one connection, %d events after %d uncounted; load average %s)\n' "$EVENTS" "$WARMUP" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '  base %10d instructions %6s syscalls   %s\n' "$base_i" "$base_s" "$BASE_BIN"
printf '  this %10d instructions %6s syscalls   %s\n' "$this_i" "$this_s" "$BIN"
python3 -c "print('  ratio this/base: instructions %.3f, syscalls %.3f' % ($this_i / $base_i, $this_s / $base_s))"
