#!/usr/bin/env bash
# Benchmarks the Postgres module against pgbench, side by side, on one throwaway cluster.
#
#   scripts/bench-postgres.sh            # defaults: 1 and 8 clients, 6 s per run, 5 repetitions
#   BENCH_SECONDS=5 BENCH_REPS=5 BENCH_CLIENTS="1 4 8" scripts/bench-postgres.sh
#
# Workloads (the same SQL text for both tools; pgbench in -M prepared mode):
#   select           prepared single-row SELECT by primary key on a seeded `leads` table
#   upsert           ingest-shaped transaction: BEGIN; lead upsert; event insert; COMMIT
#   upsert-pipeline  the same two statements in one round trip (libpq pipeline mode in ours,
#                    \startpipeline … \endpipeline in pgbench), one implicit transaction
#   select-direct    (optional) `select` on a connection held for the whole run, without the
#                    pool, against the same pgbench run: shows what the pool costs
# Runs alternate ours/pgbench within each repetition; the table shows medians of TPS, their
# ratio ours/pgbench (target >= 0.8), and the median of the per-repetition (paired) ratios. The schema comes from migrations/ (applied with psql); the
# cluster (fsync off, synchronous_commit off: we measure the client, not the disk) is removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh

SECONDS_PER_RUN=${BENCH_SECONDS:-6}
REPS=${BENCH_REPS:-5}
CLIENTS=${BENCH_CLIENTS:-"1 8"}
WORKLOADS=${BENCH_WORKLOADS:-"select upsert upsert-pipeline"}
ROWS=${BENCH_ROWS:-100000}

ensure_packages libpq-dev postgresql pkg-config

echo "building Benchmarks/postgres-bench (release)..." >&2
(cd Benchmarks/postgres-bench && swift build -c release 2>&1 | tail -n 1) >&2
BENCH=$(cd Benchmarks/postgres-bench && swift build -c release --show-bin-path)/postgres-bench

PG_EXTRA_OPTS="-c shared_buffers=256MB -c synchronous_commit=off" pg_cluster_start
trap pg_cluster_stop EXIT
[ -x "$PG_BIN/pgbench" ] || { echo "pgbench not found in $PG_BIN" >&2; exit 1; }
export PGAPPNAME=pgbench
PSQL=("$PG_BIN/psql" "$DATABASE_URL" -q -v ON_ERROR_STOP=1)
for f in migrations/*.sql; do "${PSQL[@]}" -1 -f "$f" >/dev/null; done
"$BENCH" --url "$DATABASE_URL" --seed "$ROWS" >&2

scripts_dir=$(mktemp -d)
trap 'rm -rf "$scripts_dir"; pg_cluster_stop' EXIT
cat >"$scripts_dir/select.sql" <<SQL
\set n random(1, $ROWS)
SELECT id, email, stage, status, score, segment_entered FROM leads WHERE id = md5(:n::text)::uuid;
SQL
UPSERT="INSERT INTO leads (id, email, last_event_at, score, updated_at) VALUES (md5(:n::text)::uuid, :n::text || '@example.com', now(), 1, now()) ON CONFLICT (id) DO UPDATE SET last_event_at = excluded.last_event_at, score = leads.score + 1, updated_at = excluded.updated_at;"
EVENT="INSERT INTO events (lead_id, occurred_at, kind, type, message) VALUES (md5(:n::text)::uuid, now(), 'track', 'product_viewed', jsonb_build_object('event', 'Product Viewed', 'n', :n::text));"
printf '\\set n random(1, %s)\nBEGIN;\n%s\n%s\nCOMMIT;\n' "$ROWS" "$UPSERT" "$EVENT" >"$scripts_dir/upsert.sql"
printf '\\set n random(1, %s)\n\\startpipeline\n%s\n%s\n\\endpipeline\n' "$ROWS" "$UPSERT" "$EVENT" >"$scripts_dir/upsert-pipeline.sql"

run_ours() { # workload clients → tps
    "$BENCH" --url "$DATABASE_URL" --workload "$1" --clients "$2" --seconds "$SECONDS_PER_RUN" --rows "$ROWS" \
        | sed -n 's/^tps=\([0-9.]*\).*/\1/p'
}
run_pgbench() { # workload clients → tps
    "$PG_BIN/pgbench" -n -M prepared -f "$scripts_dir/${1/select-direct/select}.sql" -c "$2" -j "$2" -T "$SECONDS_PER_RUN" "$DATABASE_URL" 2>/dev/null \
        | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.1f\n", (a[NR/2]+a[NR/2+1])/2}'; }

echo "postgres $("$PG_BIN/postgres" --version | awk '{print $3}'), libpq $(pkg-config --modversion libpq), $(nproc) cores, ${SECONDS_PER_RUN}s x ${REPS} runs each"
printf '%-16s %7s %10s %12s %7s %8s   %s\n' workload clients "ours tps" "pgbench tps" ratio paired "runs ours | pgbench"
for workload in $WORKLOADS; do
    for clients in $CLIENTS; do
        ours=(); theirs=()
        for _ in $(seq "$REPS"); do
            ours+=("$(run_ours "$workload" "$clients")")
            theirs+=("$(run_pgbench "$workload" "$clients")")
        done
        mo=$(printf '%s\n' "${ours[@]}" | median)
        mt=$(printf '%s\n' "${theirs[@]}" | median)
        ratio=$(awk -v a="$mo" -v b="$mt" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
        # Median of the per-repetition ratios: each pair ran back to back, so load from other
        # processes on the machine mostly cancels out.
        paired=$(for i in "${!ours[@]}"; do awk -v a="${ours[$i]}" -v b="${theirs[$i]}" 'BEGIN { printf "%.3f\n", (b > 0 ? a / b : 0) }'; done | median)
        paired=$(printf '%.2f' "$paired")
        printf '%-16s %7s %10.0f %12.0f %7s %8s   %s | %s\n' "$workload" "$clients" "$mo" "$mt" "$ratio" "$paired" \
            "$(printf '%.0f ' "${ours[@]}")" "$(printf '%.0f ' "${theirs[@]}")"
    done
done
