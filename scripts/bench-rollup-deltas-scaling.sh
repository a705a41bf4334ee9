#!/usr/bin/env bash
# Rollup deltas at any statement size (issue 15, migration 0080; docs/insight.md "How the rollups
# are kept"): the cost of ONE statement that writes membership history (or stage history) and its
# rollup deltas, the way the app does (`Store.segmentDeltasOfH`, `Store.stageDeltasOfH`), at
# SIZES rows per statement, on plain PostgreSQL. The cost per row must stay flat as the statement
# grows: migration 0070's functions compared every row with every lead of the statement.
#
#   scripts/bench-rollup-deltas-scaling.sh                      # SIZES="1000 10000 100000"
#   SIZES="1000 2000 4000" BASE_MAX=4000 scripts/bench-rollup-deltas-scaling.sh
#   BASE_BEFORE=0101 SIZES="1000 10000 100000" BASE_MAX=100000 scripts/bench-rollup-deltas-scaling.sh   # 0101/0102 against the schema before them
#
# Two databases in one throwaway cluster (fsync on): `new` has every migration, `base` every
# migration before BASE_BEFORE (default 0080: migration 0070's functions); both applied with psql, one transaction per
# file as `leadrouter migrate` does. Each size runs REPEAT times per database, base and new
# alternated, each statement in a transaction of its own over fresh leads (half the rows enter, half
# exit a segment: an exit finds its entry in the same statement; every lead has an entry and an
# exit). Base runs only up to BASE_MAX rows (it does not finish at 100 000). The figures are the
# backend's CPU time (/proc/<pid>/schedstat: load-independent, unlike the wall clock, which is
# printed too) per statement and per row. The deltas both databases wrote for the same rows are
# compared at the end: they must be the same.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/bench.sh

SIZES=${SIZES:-1000 10000 100000}
BASE_MAX=${BASE_MAX:-10000}
REPEAT=${REPEAT:-3}
LEADS=${LEADS:-1000000}
BASE_BEFORE=${BASE_BEFORE:-0080}

ensure_packages postgresql
bench_cluster_start
bench_workdir bench-rollup-deltas-scaling

bench_schema_databases "$BASE_BEFORE"
for db in base new; do
    psql -q -X -v ON_ERROR_STOP=1 "${DATABASE_URL%/*}/$db" <<SQL
INSERT INTO leads (id, email, stage, status, source_first, source_last, updated_at, created_at)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'p' || g || '@example.com', 'awareness', 'new',
       jsonb_build_object('channel', (ARRAY['paid_search', 'email_newsletter', 'organic', 'direct'])[1 + g % 4]),
       jsonb_build_object('channel', (ARRAY['direct', 'paid_search', 'email_newsletter', 'organic'])[1 + g % 4]),
       now(), now() - interval '400 days'
FROM generate_series(1, $LEADS) AS g;
VACUUM ANALYZE leads;
SQL
done

# statement DB KIND N FIRST: one statement of N rows (KIND segment or stage) over the leads
# FIRST .. FIRST + N/2 - 1, deterministic (the same rows in both databases); prints
# "cpu_ns wall_ms" of the backend that ran it.
statement() {
    local db=$1 kind=$2 n=$3 first=$4 sql
    if [ "$kind" = segment ]; then
        sql="WITH h AS (
  INSERT INTO membership_history (lead_id, segment, change, reason, ruleset_version, event_id, occurred_at)
  SELECT ('00000000-0000-4000-8000-' || lpad(to_hex($first + p.g), 12, '0'))::uuid,
         (ARRAY['decision.high-intent.cart', 'consideration.mid-intent.browser', 'awareness.early-intent.researcher'])[1 + p.g % 3],
         c.change, NULL, 1, CASE WHEN c.change = 'entered' OR p.g % 2 = 0 THEN gen_random_uuid() END,
         timestamptz '2026-01-01 00:00:00Z' + (p.g * 7919 % 31000000) * interval '1 second'
           + CASE WHEN c.change = 'exited' THEN (1 + p.g % 160000) * interval '1 second' ELSE interval '0' END
  FROM generate_series(0, $n / 2 - 1) AS p(g) CROSS JOIN (VALUES ('entered'), ('exited')) AS c(change)
  RETURNING *)
$(sed -n '/static let segmentDeltasOfH = """/,/"""$/p' Sources/LeadStore/Store+RollupDeltas.swift | sed '1d;$d')"
    else
        sql="WITH h AS (
  INSERT INTO stage_history (lead_id, from_stage, to_stage, reason, ruleset_version, event_id, occurred_at)
  SELECT ('00000000-0000-4000-8000-' || lpad(to_hex($first + p.g), 12, '0'))::uuid, m.f, m.t, 'event', 1, gen_random_uuid(),
         timestamptz '2026-01-01 00:00:00Z' + (p.g * 7919 % 31000000) * interval '1 second' + m.i * (1 + p.g % 160000) * interval '1 second'
  FROM generate_series(0, $n / 2 - 1) AS p(g) CROSS JOIN (VALUES (0, '', 'awareness'), (1, 'awareness', 'consideration')) AS m(i, f, t)
  RETURNING *)
$(sed -n '/static let stageDeltasOfH = """/,/"""$/p' Sources/LeadStore/Store+RollupDeltas.swift | sed '1d;$d')"
    fi
    psql -X -q -v ON_ERROR_STOP=1 "${DATABASE_URL%/*}/$db" <<SQL | awk '/^cpu/ {c[++i] = $2} /^Time:/ {w = $2} END {printf "%.0f %.1f\n", c[2] - c[1], w}'
SELECT pg_backend_pid() AS pid \gset
\\set cpu \`cut -d' ' -f1 /proc/:pid/schedstat\`
\\echo cpu :cpu
\timing on
$sql;
\timing off
\\set cpu \`cut -d' ' -f1 /proc/:pid/schedstat\`
\\echo cpu :cpu
SQL
}

RESULTS="$WORK/results.tsv"
: >"$RESULTS"
first=1
compare_below=1
for n in $SIZES; do
    for kind in segment stage; do
        for r in $(seq 1 "$REPEAT"); do
            # base then new, then new then base: each as often first as second.
            order="base new"; [ $((r % 2)) -eq 0 ] && order="new base"
            for db in $order; do
                [ "$db" = base ] && [ "$n" -gt "$BASE_MAX" ] && continue
                read -r cpu wall < <(statement "$db" "$kind" "$n" "$first")
                printf '%s\t%s\t%s\t%s\t%s\n' "$db" "$kind" "$n" "$cpu" "$wall" >>"$RESULTS"
                echo "$db $kind $n rows: $((cpu / 1000000)) ms CPU, $wall ms wall (load $(cut -d' ' -f1 /proc/loadavg))" >&2
            done
            first=$((first + n / 2))
            [ "$n" -le "$BASE_MAX" ] && compare_below=$first
        done
    done
done

# The same rows made the same deltas in both databases: every delta of the leads both wrote
# (the sizes up to BASE_MAX, which come first when SIZES is ascending), but its serial id.
below="('00000000-0000-4000-8000-' || lpad(to_hex($compare_below), 12, '0'))::uuid"
digests=$(for db in base new; do
    psql -X -At "${DATABASE_URL%/*}/$db" -c "SELECT count(*) || ' deltas, md5 ' || md5(string_agg(d::text, ',' ORDER BY d::text)) FROM (
        SELECT lead_id, segment, at, entries, exits_rule, exits_time, exits_merge, exits_ruleset, exits_erase, drop_offs, k,
               channel_first, channel_last
        FROM segment_rollup_deltas WHERE lead_id < $below
        UNION ALL
        SELECT lead_id, from_stage, at, moves, goal_reached, 0, 0, 0, 0, 0, k, to_stage, NULL
        FROM stage_rollup_deltas WHERE lead_id < $below) d"
done)
echo "deltas of the rows both databases wrote:" $digests >&2
[ "$(echo "$digests" | sort -u | wc -l)" -eq 1 ] || { echo "base and new wrote different deltas for the same rows" >&2; exit 1; }

python3 - "$RESULTS" "$(cut -d' ' -f1-3 /proc/loadavg)" "$REPEAT" "$digests" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines() if l]
print(f"\nbench-rollup-deltas-scaling: one statement of N history rows and its rollup deltas (N/2 leads);")
print(f"medians of {sys.argv[3]}; backend CPU (schedstat) and wall clock; load average at the end {sys.argv[2]}\n")
print(f"deltas of the rows both wrote (base, new): {sys.argv[4].splitlines()} — identical\n")
print("| deltas of | rows | base CPU ms | base µs/row | new CPU ms | new µs/row | new wall ms |")
print("|---|---|---|---|---|---|---|")
keys = sorted({(k, int(n)) for _, k, n, _, _ in rows})
for kind, n in keys:
    def med(db, i):
        v = [float(r[i]) for r in rows if r[0] == db and r[1] == kind and int(r[2]) == n]
        return statistics.median(v) if v else None
    b, nw, w = med("base", 3), med("new", 3), med("new", 4)
    f = lambda v, d: "—" if v is None else f"{v / d:,.1f}"
    print(f"| {kind} | {n:,} | {f(b, 1e6)} | {f(b, 1e3 * n)} | {f(nw, 1e6)} | {f(nw, 1e3 * n)} | {f(w, 1)} |")
PY
