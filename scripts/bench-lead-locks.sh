#!/usr/bin/env bash
# What the lock functions of migration 0056 cost on plain PostgreSQL, where they run the old
# statement inside a function call (docs/scale-out.md#citus-what-it-cannot-run-as-it-was-and-the-design-for-both):
# pgbench, one client, transactions that lock the leads of 32 identity keys and roll back, with
# the old statement (scripts/bench/lead-locks-old.sql) and the function (lead-locks-new.sql),
# alternated REPS times for DURATION s each on one migrated database of LEADS leads. Prints the
# median transactions/s of each and new/old. Wall clock: say the load average with the figures.
#
#   scripts/bench-lead-locks.sh            # REPS=3 DURATION=5 LEADS=20000
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/bench.sh

REPS=${REPS:-3}
DURATION=${DURATION:-5}
LEADS=${LEADS:-20000}

ensure_packages postgresql
bench_cluster_start
trap pg_cluster_stop EXIT
for f in migrations/*.sql; do "$PG_BIN/psql" -q -v ON_ERROR_STOP=1 -1 -f "$f" "$DATABASE_URL" >/dev/null; done
"$PG_BIN/psql" -q -v ON_ERROR_STOP=1 "$DATABASE_URL" <<SQL >/dev/null
INSERT INTO leads (id, user_id) SELECT gen_random_uuid(), 'u-' || g FROM generate_series(1, $LEADS) g;
INSERT INTO identities (kind, value, lead_id) SELECT 'user_id', user_id, id FROM leads;
VACUUM ANALYZE;
SQL
declare -A TPS
for rep in $(seq 1 "$REPS"); do
    for build in old new; do
        out=$("$PG_BIN/pgbench" -n -c 1 -T "$DURATION" -D leads="$LEADS" -f "scripts/bench/lead-locks-$build.sql" "$DATABASE_URL" 2>&1)
        TPS[$build]+="$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -1) "
    done
done
python3 - "${TPS[old]}" "${TPS[new]}" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import statistics, sys
old = [float(x) for x in sys.argv[1].split()]; new = [float(x) for x in sys.argv[2].split()]
mo, mn = statistics.median(old), statistics.median(new)
print(f"lock 32 leads: old {mo:.0f} tx/s, new {mn:.0f} tx/s (medians of {len(old)}), new/old {mn / mo:.2f}; load average {sys.argv[3]}")
print("old runs:", old, "new runs:", new)
PY
