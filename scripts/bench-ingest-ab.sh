#!/usr/bin/env bash
# Before/after for ingest on a noisy shared machine: the build of BASE_REV (with its own
# migrations, from a temporary git worktree) and this working tree's build alternate
# A B B A A B B A … (ROUNDS pairs), each run on a fresh durable cluster: serve --migrate, a 20 s
# /v1/batch warm-up that creates most leads, then 10 s each of /v1/events at 64 connections,
# /v1/batch (100 messages × 16 connections) and /v1/events at 64 again. Prints every run with
# leadrouter's and PostgreSQL's CPU and PostgreSQL's WAL bytes per event, then medians and the
# median of paired ratios against the base.
#
#   scripts/bench-ingest-ab.sh 5e91a01        # ROUNDS=4
#   ROUNDS=2 scripts/bench-ingest-ab.sh HEAD~3
#   BASE_BIN=/path/to/its/leadrouter scripts/bench-ingest-ab.sh 6d2575a   # reuse a build of the base
#   BASE_SQL='…' scripts/bench-ingest-ab.sh a9645fd   # a third arm: the base with BASE_SQL run after migrate
#
# BASE_SQL adds the arm `base+sql` (e.g. the base with its rollup triggers disabled, to price
# the rollups: docs/benchmarks/insight.md); the three arms rotate A B C, B C A, C A B, ….
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/bench.sh
BASE_REV=${1:?usage: scripts/bench-ingest-ab.sh BASE_REV}
ROUNDS=${ROUNDS:-4}
ensure_packages wrk libssl-dev zlib1g-dev libdeflate-dev libpq-dev pkg-config postgresql

bench_leadrouter release
NEW_BIN=$BIN NEW_TREE=$PWD
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/bench-ab.XXXXXX")
BASE_TREE="$SCRATCH/base"
git worktree add --detach "$BASE_TREE" "$BASE_REV" >&2
trap 'git worktree remove --force "$BASE_TREE" >/dev/null 2>&1 || true; rm -rf "$SCRATCH"' EXIT
if [ -n "${BASE_BIN:-}" ]; then
    echo "base: $BASE_BIN (given; built from $BASE_REV, whose migrations are used)" >&2
else
    echo "building $BASE_REV…" >&2
    (cd "$BASE_TREE" && swift build -c release --product leadrouter >&2)
    BASE_BIN="$(cd "$BASE_TREE" && swift build -c release --show-bin-path)/leadrouter"
fi

# run_one NAME TREE BIN [SQL]: one run on a fresh cluster (SQL run after migrate); appends a line
# to $SCRATCH/runs.tsv.
run_one() {
    (
        cd "$2"
        BENCH_PIDS=()
        bench_cluster_start >/dev/null
        bench_workdir ab-run
        local port line sc out rps p99 ev per lr0 pg0 lr1 pg1 w0 w1
        port=$(free_port)
        bench_serve "$3" "$port" "$WORK/serve.log" --migrate --rules config/segments.yaml --log-level warning --worker-threads 96
        export KEY LEADS=100000 BATCH=100
        KEY=$("$3" keys create --name bench --scopes ingest | tail -n 1)
        [ -n "${4:-}" ] && psql -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "$4" >/dev/null
        wrk -t2 -c16 -d20s -s scripts/bench/ingest-batch.lua "http://127.0.0.1:$port/v1/batch" >/dev/null
        line=$1
        for sc in events64 batch events64_after; do
            lr0=$(proc_ticks "$BENCH_SERVE_PID"); pg0=$(cluster_ticks); w0=$(wal_bytes)
            if [ "$sc" = batch ]; then
                out=$(wrk -t2 -c16 -d10s --latency -s scripts/bench/ingest-batch.lua "http://127.0.0.1:$port/v1/batch"); per=100
            else
                out=$(wrk -t2 -c64 -d10s --latency -s scripts/bench/ingest-event.lua "http://127.0.0.1:$port/v1/events"); per=1
            fi
            lr1=$(proc_ticks "$BENCH_SERVE_PID"); pg1=$(cluster_ticks); w1=$(wal_bytes)
            rps=$(sed -n 's/^Requests\/sec:\s*\([0-9.]*\)/\1/p' <<<"$out")
            ev=$(python3 -c "print(round($rps * $per))")
            line+=$(printf '\t%s\t%s\t%s\t%s' "$ev" $(((lr1 - lr0) * 1000 / ev)) $(((pg1 - pg0) * 1000 / ev)) $(((w1 - w0) / ev)))
        done
        echo "$line" | tee -a "$SCRATCH/runs.tsv" >&2
    )
}

# wal_bytes: the cluster's WAL insert position in bytes.
wal_bytes() { psql -Atc "SELECT pg_current_wal_insert_lsn() - '0/0'" "$DATABASE_URL" | cut -d. -f1; }

arms=(base new); [ -n "${BASE_SQL:-}" ] && arms+=(base+sql)
for round in $(seq 1 "$ROUNDS"); do
    if [ ${#arms[@]} -eq 2 ]; then
        if [ $((round % 2)) -eq 1 ]; then order="base new"; else order="new base"; fi
    else
        order="${arms[*]:$(((round - 1) % 3))} ${arms[*]:0:$(((round - 1) % 3))}"
    fi
    for which in $order; do
        case $which in
            base) run_one base "$BASE_TREE" "$BASE_BIN" ;;
            base+sql) run_one base+sql "$BASE_TREE" "$BASE_BIN" "$BASE_SQL" ;;
            *) run_one new "$NEW_TREE" "$NEW_BIN" ;;
        esac
    done
done

python3 - "$SCRATCH/runs.tsv" "$BASE_REV" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
arms = {}
for r in rows: arms.setdefault(r[0], []).append(r)
base = arms["base"]
print(f"\n{len(base)} runs of each, alternating; base = {sys.argv[2]}, new = this working tree"
      + (", base+sql = the base with BASE_SQL after migrate" if "base+sql" in arms else ""))
print("| scenario | arm | events/s (median) | paired ratio to base | leadrouter CPU µs/event | PostgreSQL CPU µs/event (ratio) | WAL bytes/event (ratio) |")
print("|---|---|---|---|---|---|---|")
med = lambda rs, i: statistics.median(float(r[i]) for r in rs)
for k, name in enumerate(["/v1/events, 64 connections", "/v1/batch, 100 × 16", "/v1/events, 64 connections, after the batch"]):
    e, l, p, w = 1 + 4 * k, 2 + 4 * k, 3 + 4 * k, 4 + 4 * k
    for arm, rs in arms.items():
        ratio = lambda i: statistics.median(float(n[i]) / max(float(b[i]), 1) for b, n in zip(base, rs))
        print(f"| {name} | {arm} | {med(rs, e):.0f} | {ratio(e):.2f}× | {med(rs, l):.0f} | "
              f"{med(rs, p):.0f} ({ratio(p):.2f}×) | {med(rs, w):.0f} ({ratio(w):.2f}×) |")
PY
