# Shared by the benchmark scripts (source it after scripts/lib/pg-cluster.sh): a PostgreSQL with
# durable commits and `leadrouter serve` processes that are ready before the load starts.

# bench_leadrouter CONFIG: builds `leadrouter` in CONFIG (release, debug) and sets BIN to it,
# in LEADROUTER_SCRATCH when set (an engineer's own build folder, as for scripts/test.sh);
# a BIN already set (another build, for before/after runs) is kept as it is.
bench_leadrouter() {
    if [ -n "${BIN:-}" ]; then
        echo "leadrouter: $BIN (given)" >&2
        return 0
    fi
    local scratch=()
    [ -n "${LEADROUTER_SCRATCH:-}" ] && scratch=(--scratch-path "$LEADROUTER_SCRATCH")
    echo "building leadrouter ($1)…" >&2
    swift build -c "$1" "${scratch[@]}" --product leadrouter >&2
    BIN="$(swift build -c "$1" "${scratch[@]}" --show-bin-path)/leadrouter"
}

# Starts the throwaway cluster with durable commits, as in production: the test harness's
# fsync=off would flatter every figure that includes a commit.
bench_cluster_start() {
    PG_EXTRA_OPTS="-c fsync=on -c full_page_writes=on -c synchronous_commit=on -c shared_buffers=256MB ${BENCH_PG_OPTS:-}"
    export PG_EXTRA_OPTS
    pg_cluster_start
}

# bench_serve BIN PORT LOG [serve arguments…]: starts `BIN serve` on 127.0.0.1:PORT in the
# background, logging to LOG, and waits until /readyz answers (30 s at most; otherwise prints
# the log and fails). The process id is left in BENCH_SERVE_PID (and stopped by bench_cleanup).
# The per-key rate limit is off (one key sends tens of thousands of requests per second here);
# set LEADROUTER_RATE_LIMIT_KEY_RATE to measure with one. Builds without rate limits ignore it.
bench_serve() {
    local bin=$1 port=$2 log=$3
    shift 3
    LEADROUTER_RATE_LIMIT_KEY_RATE="${LEADROUTER_RATE_LIMIT_KEY_RATE:-0}" \
        "$bin" serve --host 127.0.0.1 --port "$port" "$@" >"$log" 2>&1 &
    BENCH_SERVE_PID=$!
    BENCH_PIDS+=("$BENCH_SERVE_PID")
    bench_wait_ready "$port" "$log" 300
}

# bench_wait_ready PORT LOG TRIES: waits until /readyz on PORT answers (TRIES × 0.1 s at most);
# otherwise prints LOG and fails.
bench_wait_ready() {
    for _ in $(seq 1 "$3"); do
        curl -sf "http://127.0.0.1:$1/readyz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    cat "$2" >&2
    return 1
}

# bench_workdir NAME: a scratch directory in WORK; on exit every serve process bench_serve
# started is stopped, then the cluster, and WORK is removed.
BENCH_PIDS=()
bench_workdir() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    trap bench_cleanup EXIT
}

bench_cleanup() {
    local pid
    for pid in "${BENCH_PIDS[@]}"; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    done
    pg_cluster_stop
    rm -rf "$WORK"
}

# proc_ticks PID: CPU time (user + system, in clock ticks of 1/100 s) PID has used so far.
proc_ticks() {
    awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# cluster_ticks: CPU ticks used so far by the cluster pg_cluster_start started — the postmaster,
# the children it has reaped (cutime/cstime) and those alive — so a delta around a run is what
# PostgreSQL spent on it, whichever backend did the work. CLUSTER_DIR names another cluster's
# directory (one kept by an earlier run) without making it this run's to remove on exit.
cluster_ticks() {
    local postmaster total child
    postmaster=$(head -n 1 "${CLUSTER_DIR:-$PG_DIR}/data/postmaster.pid")
    total=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$postmaster/stat")
    for child in $(pgrep -P "$postmaster"); do
        total=$((total + $(proc_ticks "$child")))
    done
    echo "$total"
}

# cluster_settle: waits (5 s at most) until the postmaster has no more children than its own
# background processes (pg_stat_activity lists no client backend but the asking one), so that
# the CPU of backends that just exited has been reaped into the postmaster's cutime.
cluster_settle() {
    local postmaster expected
    postmaster=$(head -n 1 "$PG_DIR/data/postmaster.pid")
    for _ in $(seq 1 50); do
        expected=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM pg_stat_activity WHERE backend_type <> 'client backend' OR pid = pg_backend_pid()")
        # psql's own backend is counted in expected and is alive while it asks; it is gone after.
        [ "$(pgrep -c -P "$postmaster")" -le "$((expected - 1))" ] && return 0
        sleep 0.1
    done
}

# wrk_figures: reads the output of `wrk --latency` on stdin and prints
# "requests/s<TAB>p50 ms<TAB>p99 ms<TAB>non-2xx answers" (one line).
wrk_figures() {
    python3 -c '
import re, sys
text = sys.stdin.read()
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = ms(re.search(r"\s50%\s+(\S+)", text).group(1)); p99 = ms(re.search(r"\s99%\s+(\S+)", text).group(1))
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
print(f"{rps:.0f}\t{p50:.2f}\t{p99:.2f}\t{int(bad.group(1)) if bad else 0}")
'
}

# bench_lock_waiters DB OUT: until killed, every 100 ms appends to OUT how many backends of DB wait
# on a heavyweight lock and on which kinds ("count<TAB>kind,kind" or "0<TAB>-"). Run it in the
# background while a load runs (`bench_lock_waiters "$DB" file & pid=$!`), then kill it.
bench_lock_waiters() {
    while true; do
        psql "$1" -AtF $'\t' -qc "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'),
                coalesce(string_agg(DISTINCT wait_event, ',') FILTER (WHERE wait_event_type = 'Lock'), '-')
            FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()" 2>/dev/null || true
        sleep 0.1
    done >>"$2"
}

# bench_shapes SHAPES RESULTS SUMMARY [cpu]: for each `name<TAB>path[<TAB>header]` line of SHAPES,
# one GET with the bearer KEY (and the extra request header, e.g. `Accept-Encoding: gzip`) on
# PORT that must answer 200, summarised by the Python expression SUMMARY over the answer's JSON
# `d` (inflated first when the answer is gzip); then wrk for DURATION seconds with CONNECTIONS
# connections. Appends `name<TAB>summary<TAB>wrk_figures` to RESULTS; with `cpu`, two more
# columns: the CPU milliseconds per request of the server (BENCH_SERVE_PID) and of the whole
# PostgreSQL cluster (background jobs included), from /proc around CPU_REQUESTS (10) sequential
# curls after the wrk run: complete requests only (wrk stops with requests in flight), and
# far less load-dependent than wall clock.
bench_shapes() {
    local shapes=$1 results=$2 summary=$3 cpu=${4:-} name path header status seen out s0 p0 s1 p1 requests extra
    while IFS=$'\t' read -r name path header; do
        echo "$name" >&2
        local args=(-H "Authorization: Bearer $KEY")
        [ -n "$header" ] && args+=(-H "$header")
        status=$(curl -s -o "$WORK/answer.json" -w '%{http_code}' "${args[@]}" "http://127.0.0.1:$PORT$path")
        [ "$status" = 200 ] || { echo "$path answered $status: $(head -c 300 "$WORK/answer.json")" >&2; return 1; }
        seen=$(python3 -c "import gzip,json,sys; b=open(sys.argv[1],'rb').read(); d=json.loads(gzip.decompress(b) if b[:2]==b'\x1f\x8b' else b); print($summary)" "$WORK/answer.json")
        out=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "${args[@]}" "http://127.0.0.1:$PORT$path" 2>&1)
        extra=""
        if [ -n "$cpu" ]; then
            requests=${CPU_REQUESTS:-10}
            s0=$(proc_ticks "$BENCH_SERVE_PID"); p0=$(cluster_ticks)
            for _ in $(seq 1 "$requests"); do curl -s -o /dev/null "${args[@]}" "http://127.0.0.1:$PORT$path"; done
            s1=$(proc_ticks "$BENCH_SERVE_PID"); p1=$(cluster_ticks)
            extra=$(python3 -c "import sys; n=int(sys.argv[1]); print(f'\t{(int(sys.argv[2])*10)/n:.1f}\t{(int(sys.argv[3])*10)/n:.1f}')" "$requests" "$((s1 - s0))" "$((p1 - p0))")
        fi
        printf "%s\t%s\t%s%s\n" "$name" "$seen" "$(wrk_figures <<<"$out")" "$extra" >>"$results"
    done <"$shapes"
}

# bench_nginx LOCATIONS: starts nginx as a reference or receiver — one worker, no access log,
# keep-alive — on a free port of 127.0.0.1 with the given `location` blocks, its files in
# WORK/nginx. Sets NGINX_PORT and NGINX_PID (the caller stops it).
bench_nginx() {
    NGINX_PORT=$(free_port)
    mkdir -p "$WORK/nginx"
    cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 60s;
    client_body_temp_path $WORK/nginx/body;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        $1
    }
}
CONF
    nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
    NGINX_PID=$!
}

# bench_callgrind_serve NAME BIN RULES: starts `BIN serve` (on DATABASE_URL, --migrate, RULES) on a
# free port under callgrind with counting off (`--instr-atstart=no`: start-up and migrations are
# not counted), from a copy without debug info in WORK/NAME (valgrind 3.19 cannot read the DWARF 5
# Swift emits; symbols are enough), and waits until /readyz answers (valgrind starts slowly: 180 s
# at most). Sets BENCH_CG_PID and BENCH_CG_PORT; count with `callgrind_control -i on "$BENCH_CG_PID"`,
# then read the figure with bench_callgrind_total NAME.
bench_callgrind_serve() {
    local name=$1 bin=$2 rules=$3
    objcopy --strip-debug "$bin" "$WORK/$name"
    BENCH_CG_PORT=$(free_port)
    LEADROUTER_RATE_LIMIT_KEY_RATE=0 DATABASE_URL="$DATABASE_URL" valgrind --tool=callgrind --instr-atstart=no \
        --callgrind-out-file="$WORK/$name.cg" "$WORK/$name" serve --host 127.0.0.1 --port "$BENCH_CG_PORT" \
        --log-level warning --migrate --rules "$rules" >"$WORK/$name.log" 2>&1 &
    BENCH_CG_PID=$!
    BENCH_PIDS+=("$BENCH_CG_PID")
    bench_wait_ready "$BENCH_CG_PORT" "$WORK/$name.log" 1800
}

# bench_callgrind_total NAME: stops counting in the server bench_callgrind_serve started, dumps the
# counts, stops the server and prints the instructions counted (callgrind's PROGRAM TOTALS).
bench_callgrind_total() {
    callgrind_control -i off "$BENCH_CG_PID" >/dev/null 2>&1
    callgrind_control -d "$BENCH_CG_PID" >/dev/null 2>&1
    sleep 1
    kill "$BENCH_CG_PID"; wait "$BENCH_CG_PID" 2>/dev/null || true
    callgrind_annotate "$WORK/$1.cg".* 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}

# bench_schema_databases BEFORE: databases `base` (every migration before BEFORE, e.g. 0101) and
# `new` (every migration) in the cluster of DATABASE_URL, each file applied with psql in one
# transaction as `leadrouter migrate` does: for A/Bs of schema changes alone.
bench_schema_databases() {
    local db f
    for db in base new; do
        psql -q -X -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "CREATE DATABASE $db"
        for f in migrations/*.sql; do
            [ "$db" = base ] && [[ ! $(basename "$f") < "$1" ]] && continue
            psql -q -X -v ON_ERROR_STOP=1 -1 -f "$f" "${DATABASE_URL%/*}/$db" >/dev/null
        done
    done
}
