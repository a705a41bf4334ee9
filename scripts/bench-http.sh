#!/usr/bin/env bash
# HTTP server benchmark: wrk against leadrouter's GET /healthz, nginx (one worker, same JSON
# body) and a Hummingbird 2 hello-world (Benchmarks/hummingbird-hello), side by side in one run.
# Prints req/s and p50/p99 latency (medians of REPS runs) at 1 and 64 connections, and the
# ratios leadrouter/hummingbird and leadrouter/nginx.
#
#   scripts/bench-http.sh                 # DURATION=10 REPS=3 CONNS="1 64"
#   DURATION=5 REPS=1 scripts/bench-http.sh
#   BIN=/path/to/other/leadrouter scripts/bench-http.sh   # another build of leadrouter, same references
#   RULES=/old/tree/config/segments.yaml BIN=…           # an older build needs the ruleset it understands
#
# leadrouter runs with --log-level warning (its one-line-per-request access log off) and nginx
# with access_log off, so neither measures its logging. All traffic stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/bench.sh

DURATION=${DURATION:-10}
REPS=${REPS:-3}
CONNS=${CONNS:-"1 64"}
WRK_THREADS=${WRK_THREADS:-2}

ensure_packages wrk nginx libssl-dev zlib1g-dev libdeflate-dev libpq-dev pkg-config postgresql

bench_leadrouter release  # BIN=… measures another build (e.g. a commit before a change)
LEADROUTER_BIN=$BIN
echo "building the Hummingbird reference (release; the first build takes a few minutes)…" >&2
(cd Benchmarks/hummingbird-hello && swift build -c release >&2)
HB_BIN="$(cd Benchmarks/hummingbird-hello && swift build -c release --show-bin-path)/HummingbirdHello"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-http.XXXXXX")
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
    [ -n "${PG_DIR:-}" ] && pg_cluster_stop
}
trap cleanup EXIT

# serve needs its database since issue 5 (ingest): a throwaway cluster, stopped with the rest.
pg_cluster_start

wait_for() {  # wait_for PORT: until /healthz answers
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$1/healthz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "server on port $1 did not come up" >&2
    return 1
}

LR_PORT=$(free_port)
DATABASE_URL="$DATABASE_URL" "$LEADROUTER_BIN" serve --host 127.0.0.1 --port "$LR_PORT" --log-level warning \
    --migrate --rules "${RULES:-config/segments.yaml}" >"$WORK/leadrouter.log" 2>&1 &
PIDS+=($!)

bench_nginx "location = /healthz {
            default_type application/json;
            return 200 '{\"status\":\"ok\",\"version\":\"0.1.0\"}';
        }"
PIDS+=("$NGINX_PID")

HB_PORT=$(free_port)
"$HB_BIN" "$HB_PORT" >"$WORK/hummingbird.log" 2>&1 &
PIDS+=($!)

wait_for "$LR_PORT"; wait_for "$NGINX_PORT"; wait_for "$HB_PORT"
for body in "$LR_PORT" "$NGINX_PORT" "$HB_PORT"; do
    echo "  127.0.0.1:$body/healthz → $(curl -s "http://127.0.0.1:$body/healthz")" >&2
done

declare -A PORTS=([leadrouter]=$LR_PORT [nginx]=$NGINX_PORT [hummingbird]=$HB_PORT)
declare -A SERVER_PIDS=([leadrouter]=${PIDS[0]} [nginx]=${PIDS[1]} [hummingbird]=${PIDS[2]})
CLK_TCK=$(getconf CLK_TCK)

# cpu_ticks PID: user+system CPU ticks of PID and its children (nginx's worker). CPU time per
# request is the figure least disturbed by other load on the machine.
cpu_ticks() {
    local total=0 p t
    for p in "$1" $(pgrep -P "$1" || true); do
        t=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}') || t=0
        total=$(( total + ${t:-0} ))
    done
    echo "$total"
}
RESULTS="$WORK/results.tsv"
cat >"$WORK/parse_wrk.py" <<'PY'
import re, sys
text = sys.stdin.read()
def us(v):
    n, unit = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 1, "ms": 1000, "s": 1e6}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = us(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))
p99 = us(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
sock = re.search(r"Socket errors: (.*)", text)
requests = int(re.search(r"(\d+) requests in", text).group(1))
cpu_us = int(sys.argv[4]) / int(sys.argv[5]) * 1e6 / max(1, requests)
print("\t".join(map(str, [sys.argv[1], sys.argv[2], sys.argv[3], rps, p50, p99,
                          errors.group(1) if errors else 0, sock.group(1).replace(" ", "") if sock else "-", cpu_us])))
PY
: >"$RESULTS"
for server in leadrouter nginx hummingbird; do  # warm-up
    wrk -t1 -c8 -d2s "http://127.0.0.1:${PORTS[$server]}/healthz" >/dev/null
done
for rep in $(seq 1 "$REPS"); do
    for conns in $CONNS; do
        for server in leadrouter nginx hummingbird; do
            threads=$(( conns < WRK_THREADS ? conns : WRK_THREADS ))
            before=$(cpu_ticks "${SERVER_PIDS[$server]}")
            out=$(wrk -t"$threads" -c"$conns" -d"${DURATION}s" --latency "http://127.0.0.1:${PORTS[$server]}/healthz")
            after=$(cpu_ticks "${SERVER_PIDS[$server]}")
            echo "$out" >"$WORK/wrk-$server-$conns-$rep.txt"
            python3 "$WORK/parse_wrk.py" "$server" "$conns" "$rep" "$(( after - before ))" "$CLK_TCK" >>"$RESULTS" <<<"$out"
            echo "  run $rep/$REPS  $server  c=$conns  req/s, p50, p99 (µs), cpu µs/req: $(tail -n 1 "$RESULTS" | cut -f4-6,9)" >&2
        done
    done
done

python3 - "$RESULTS" "$DURATION" "$REPS" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
med = {}
notes = []
for server, conns, rep, rps, p50, p99, non2xx, sock, cpu in rows:
    med.setdefault((server, int(conns)), []).append((float(rps), float(p50), float(p99), float(cpu)))
    if non2xx != "0" or sock != "-":
        notes.append(f"{server} c={conns} run {rep}: non-2xx={non2xx} socket errors={sock}")
def m(server, conns):
    runs = med[(server, conns)]
    return tuple(statistics.median(r[i] for r in runs) for i in range(4))
conns_list = sorted({c for _, c in med})
print(f"\nwrk -t2 -d{sys.argv[2]}s --latency, GET /healthz, medians of {sys.argv[3]} runs\n")
print(f"| server | conns | req/s | p50 (µs) | p99 (µs) | server CPU µs/req |")
print(f"|---|---:|---:|---:|---:|---:|")
for c in conns_list:
    for s in ["leadrouter", "hummingbird", "nginx"]:
        rps, p50, p99, cpu = m(s, c)
        print(f"| {s} | {c} | {rps:,.0f} | {p50:,.0f} | {p99:,.0f} | {cpu:.1f} |")
print()
print("| conns | req/s leadrouter/hummingbird | p99 leadrouter/hummingbird | req/s leadrouter/nginx | CPU/req leadrouter/hummingbird | CPU/req leadrouter/nginx |")
print("|---:|---:|---:|---:|---:|---:|")
for c in conns_list:
    lr, hb, ng = m("leadrouter", c), m("hummingbird", c), m("nginx", c)
    print(f"| {c} | {lr[0]/hb[0]:.2f}× | {lr[2]/hb[2]:.2f}× | {lr[0]/ng[0]:.2f}× | {lr[3]/hb[3]:.2f}× | {lr[3]/ng[3]:.2f}× |")
print("\n(p99 and CPU ratios: lower is better for leadrouter; req/s ratios: higher is better.)")
for n in notes:
    print("note:", n)
PY
