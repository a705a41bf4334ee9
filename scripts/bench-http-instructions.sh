#!/usr/bin/env bash
# Instructions per `GET /healthz` request, counted by callgrind, for two builds side by side:
# the figure that stays the same whatever else the machine is doing (wall-clock req/s on this
# shared 2-core machine moves by ±15 % between runs; instruction counts repeat to ~0.1 %).
# It does not see the kernel (syscalls, wake-ups): compare those with `strace -c` or
# scripts/bench-http.sh's CPU per request.
#
#   BASE_BIN=/old/build/leadrouter scripts/bench-http-instructions.sh
#   BASE_BIN=… BASE_RULES=/old/tree/config/segments.yaml BIN=… DURATION=15 scripts/bench-http-instructions.sh
#
# Counting starts after the server is ready (--instr-atstart=no), so start-up and migrations are
# not in the figure; one wrk connection sends requests for DURATION seconds under valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/bench.sh

DURATION=${DURATION:-15}
: "${BASE_BIN:?set BASE_BIN to the leadrouter build to compare with}"
ensure_packages valgrind wrk binutils libpq-dev postgresql

bench_leadrouter release
bench_workdir bench-http-instructions
pg_cluster_start

# count NAME BIN RULES: prints instructions per request of BIN.
count() {
    local name=$1 bin=$2 rules=$3 requests total
    bench_callgrind_serve "$name" "$bin" "$rules"
    callgrind_control -i on "$BENCH_CG_PID" >/dev/null 2>&1
    requests=$(wrk -t1 -c1 -d"${DURATION}s" "http://127.0.0.1:$BENCH_CG_PORT/healthz" | awk '/requests in/ {print $1}')
    total=$(bench_callgrind_total "$name")
    echo $(( total / requests ))
    echo "  $name: $requests requests, $total instructions" >&2
}

base=$(count base "$BASE_BIN" "${BASE_RULES:-config/segments.yaml}")
this=$(count this "$BIN" "${RULES:-config/segments.yaml}")
printf 'instructions per GET /healthz request (callgrind, 1 connection)\n'
printf '  base %8d   %s\n  this %8d   %s\n' "$base" "$BASE_BIN" "$this" "$BIN"
python3 -c "print('  ratio this/base: %.3f' % ($this / $base))"
