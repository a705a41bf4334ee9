#!/usr/bin/env bash
# What the lead-list indexes of migration 0020 cost the write path: pgbench replays the SQL of
# one event (scripts/bench/ingest-pgbench.sql) with CLIENTS (8) clients on LEADS (100 000) leads,
# alternately with and without `leads_list_*` indexes, ROUNDS (3) times DURATION (12) s each,
# and prints events/s with the share of HOT updates of `leads` (pg_stat_user_tables). By default
# the UPDATE leaves `next_evaluation_at` alone, as most events do in leadrouter (a row keeps an
# earlier schedule it holds), so without the list indexes it can be a HOT update;
# SCHEDULE=1 keeps the script's schedule change (every update then touches an index anyway).
#
#   scripts/bench-lead-list-indexes.sh
#   ROUNDS=5 DURATION=20 scripts/bench-lead-list-indexes.sh
#   BIN=/path/to/leadrouter scripts/bench-lead-list-indexes.sh   # its `migrate` sets up the schema
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/bench.sh

LEADS=${LEADS:-100000}
CLIENTS=${CLIENTS:-8}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-12}
BUILD=${BUILD:-release}

ensure_packages libssl-dev zlib1g-dev libdeflate-dev libpq-dev pkg-config postgresql
bench_leadrouter "$BUILD"
bench_cluster_start
bench_workdir bench-lead-list-indexes
"$BIN" migrate --dir migrations >/dev/null

SCRIPT="$WORK/event.sql"
if [ "${SCHEDULE:-0}" = 1 ]; then
    cp scripts/bench/ingest-pgbench.sql "$SCRIPT"
else
    sed "s/  next_evaluation_at = now() + interval '7 days', decision_seq/  decision_seq/" scripts/bench/ingest-pgbench.sql >"$SCRIPT"
fi
psql -q -v ON_ERROR_STOP=1 "$DATABASE_URL" <<SQL
INSERT INTO leads (id, score, updated_at) SELECT gen_random_uuid(), random() * 100, now() - random() * interval '30 days' FROM generate_series(1, $LEADS);
INSERT INTO identities (kind, value, lead_id) SELECT 'user_id', 'b' || row_number() OVER (), id FROM leads;
CREATE TABLE bench_leads AS SELECT row_number() OVER (ORDER BY lead_id) AS n, lead_id FROM identities WHERE kind = 'user_id';
CREATE UNIQUE INDEX ON bench_leads (n);
VACUUM ANALYZE; CHECKPOINT;
SQL
# The list indexes as 0020 creates them, to drop and put back.
INDEXES=$(psql -Atq "$DATABASE_URL" -c "SELECT string_agg(indexdef, '; ') FROM pg_indexes WHERE tablename = 'leads' AND indexname LIKE 'leads_list_%'")
NAMES=$(psql -Atq "$DATABASE_URL" -c "SELECT string_agg(indexname, ', ') FROM pg_indexes WHERE tablename = 'leads' AND indexname LIKE 'leads_list_%'")

RESULTS="$WORK/results.tsv"
: >"$RESULTS"
run() {
    psql -q "$DATABASE_URL" -c "VACUUM leads" -c "CHECKPOINT" -c "SELECT pg_stat_reset_single_table_counters('leads'::regclass)" >/dev/null
    local tps hot
    tps=$(pgbench -n -M prepared -c "$CLIENTS" -j 2 -T "$DURATION" -D nleads="$LEADS" -f "$SCRIPT" "$DATABASE_URL" 2>&1 |
          sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)
    sleep 1  # the backends report their counters when they end
    hot=$(psql -Atq "$DATABASE_URL" -c "SELECT round(100.0 * n_tup_hot_upd / greatest(n_tup_upd, 1), 1) FROM pg_stat_user_tables WHERE relname = 'leads'")
    printf "%s\t%.0f\t%s\n" "$1" "$tps" "$hot" >>"$RESULTS"
    echo "$1: $tps events/s, $hot % HOT" >&2
}
for _ in $(seq 1 "$ROUNDS"); do
    run with
    psql -q "$DATABASE_URL" -c "DROP INDEX $NAMES"
    run without
    psql -q "$DATABASE_URL" -c "$INDEXES"
done

python3 - "$RESULTS" "$LEADS" "$CLIENTS" "$DURATION" "$ROUNDS" "${SCHEDULE:-0}" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
leads, clients, duration, rounds, schedule = sys.argv[2:7]
def med(name, i): return statistics.median(float(r[i]) for r in rows if r[0] == name)
w, wo = med("with", 1), med("without", 1)
print(f"\nbench-lead-list-indexes: {int(leads):,} leads, {clients} clients, {duration}s per run, medians of {rounds} rounds;")
print(f"the event's UPDATE {'changes' if schedule == '1' else 'keeps'} next_evaluation_at; PostgreSQL fsync=on, synchronous_commit=on\n")
print("| leads_list_* indexes | events/s | HOT updates | vs without |")
print("|---|---|---|---|")
print(f"| with (0020) | {w:.0f} | {med('with', 2):.0f} % | {w / wo:.2f}× |")
print(f"| without | {wo:.0f} | {med('without', 2):.0f} % | 1.00× |")
print("\nper run:", "; ".join(f"{r[0]} {r[1]}/s" for r in rows))
PY
