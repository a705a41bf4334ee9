#!/usr/bin/env bash
# PostgreSQL's CPU time per sales routing for two builds' schemas (issue 23: what packing the
# skipped owners, migration 0105, costs where it runs). Each build migrates its own database
# (`BIN migrate`, its built-in migrations) in one throwaway cluster; a team whose three reps are
# all at capacity is set up in both, so every routing skips three owners, as on the sample
# ruleset's pricing requests. Then ROUNDS alternated rounds (base, new, base, new, …) of N calls
# of `leadrouter_route_to_queue` for new leads in one statement, each in its own session; the
# backend's user + system time comes from /proc/<pid>/stat (clock ticks, 100 a second), so
# only that statement's work is counted. Under load the ticks move with it: compare the builds
# of one run, round by round.
#
#   BIN=<build> BASE_BIN=/work/bin/leadrouter-merge13 scripts/bench-route-cpu.sh
#   N=5000 ROUNDS=5 BIN=… BASE_BIN=… scripts/bench-route-cpu.sh
#
# As a lane routes (issue 23, target 5): BATCH=18 sends the routings through
# `leadrouter_route_batch` (migrations/0112), BATCH at a time, in one transaction; CAPACITY=25
# gives each rep capacity 25 and 25 open items first (the pricing benchmark's steady state:
# every load counted is 25) instead of capacity 0. Both builds need `leadrouter_route_batch`.
#
#   BATCH=18 CAPACITY=25 N=5000 ROUNDS=4 BIN=… BASE_BIN=/work/bin/leadrouter-34b9942 scripts/bench-route-cpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh

N=${N:-2000}
ROUNDS=${ROUNDS:-3}
BATCH=${BATCH:-}
CAPACITY=${CAPACITY:-0}
: "${BIN:?set BIN to the leadrouter build to measure}"
: "${BASE_BIN:?set BASE_BIN to the leadrouter build to compare with}"
ensure_packages postgresql

pg_cluster_start
trap pg_cluster_stop EXIT
root=${DATABASE_URL%/postgres}

for build in base new; do
    psql "$DATABASE_URL" -qc "CREATE DATABASE $build"
    bin=$BIN; [ "$build" = base ] && bin=$BASE_BIN
    "$bin" migrate --database-url "$root/$build" >/dev/null 2>&1
    psql "$root/$build" -q <<SQL
INSERT INTO owners (id) VALUES ('rep_anna'), ('rep_ben'), ('rep_carla');
INSERT INTO teams (id) VALUES ('inside-sales');
INSERT INTO team_members (team_id, owner_id, position, capacity)
VALUES ('inside-sales', 'rep_anna', 0, $CAPACITY), ('inside-sales', 'rep_ben', 1, $CAPACITY), ('inside-sales', 'rep_carla', 2, $CAPACITY);
CREATE TABLE full_team AS SELECT gen_random_uuid() AS id FROM generate_series(1, 3 * $CAPACITY);
INSERT INTO leads (id) SELECT id FROM full_team;
SELECT count(leadrouter_route_to_queue(id, 'high-intent', 'decision.high-intent.pricing', 'inside-sales', 40,
             now() + interval '1 hour', NULL, NULL, NULL, now(), now())) FROM full_team \g /dev/null
VACUUM ANALYZE;
SQL
done

# The routing statement over the temp table `ids`: one route each, or BATCH routes a statement.
if [ -n "$BATCH" ]; then
    ROUTE_SQL="SELECT count(leadrouter_route_batch(rs)) FROM (
        SELECT jsonb_agg(jsonb_build_object('l', id, 'q', 'high-intent', 's', 'decision.high-intent.pricing', 't', 'inside-sales',
                         'p', 40, 'd', t, 'n', t, 'm', t) ORDER BY n) AS rs
        FROM (SELECT id, row_number() OVER () AS n, (extract(epoch FROM now()) * 1000000)::int8 AS t FROM ids) x
        GROUP BY (n - 1) / $BATCH) b"
else
    ROUTE_SQL="SELECT count(leadrouter_route_to_queue(id, 'high-intent', 'decision.high-intent.pricing', 'inside-sales', 40,
             now() + interval '1 hour', NULL, NULL, NULL, now(), now())) FROM ids"
fi

# ticks BUILD: the backend CPU ticks of N routings of new leads in BUILD's database.
ticks() {
    psql "$root/$1" -qAt <<SQL | awk '/^before/ {b = $2} /^after/ {a = $2} END {print a - b}'
CREATE TEMP TABLE ids AS SELECT gen_random_uuid() AS id FROM generate_series(1, $N);
INSERT INTO leads (id) SELECT id FROM ids;
SELECT pg_backend_pid() AS pid \gset
\setenv PID :pid
\! awk '{print "before", \$14 + \$15}' /proc/\$PID/stat
$ROUTE_SQL \g /dev/null
\! awk '{print "after", \$14 + \$15}' /proc/\$PID/stat
SQL
}

echo "bench-route-cpu: $N routings a round${BATCH:+, $BATCH a statement (leadrouter_route_batch)}, three owners skipped each, capacity $CAPACITY (load average $(cut -d' ' -f1 /proc/loadavg))"
echo
echo "| round | base ticks | new ticks | new / base |"
echo "|---|---|---|---|"
# A round each first, not counted: the first routings in a freshly migrated database cost several
# times the later ones (seen in both builds alike), which swamped the sums.
ticks base >/dev/null; ticks new >/dev/null
sum_base=0; sum_new=0
for r in $(seq 1 "$ROUNDS"); do
    b=$(ticks base); n=$(ticks new)
    sum_base=$((sum_base + b)); sum_new=$((sum_new + n))
    echo "| $r | $b | $n | $(awk -v b="$b" -v n="$n" 'BEGIN {printf "%.2f×", (b > 0 ? n / b : 0)}') |"
done
echo "| **all** | $sum_base | $sum_new | **$(awk -v b="$sum_base" -v n="$sum_new" 'BEGIN {printf "%.2f×", (b > 0 ? n / b : 0)}')** |"
echo
awk -v b="$sum_base" -v n="$sum_new" -v c="$((N * ROUNDS))" \
    'BEGIN {printf "PostgreSQL CPU per routing: base %.0f µs, new %.0f µs (load average %s)\n", b * 10000 / c, n * 10000 / c, "'"$(cut -d' ' -f1 /proc/loadavg)"'"}'
echo "stored per item: $(psql "$root/base" -Atc "SELECT round(avg(pg_column_size(q.*))) FROM queue_items q") B (base),"\
     "$(psql "$root/new" -Atc "SELECT round(avg(pg_column_size(q.*))) FROM queue_items q") B (new) — the row, as pg_column_size counts it"
