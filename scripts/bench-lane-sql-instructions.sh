#!/usr/bin/env bash
# Instructions PostgreSQL spends on the lane transaction's lead lock, history statements and their
# rollup deltas (issue 23, PostgreSQL CPU per event; migrations 0101 and 0102), counted by callgrind in a
# single-user backend (`postgres --single`): deterministic, so two schemas compare at any load
# average, where the wall clock and the CPU time of the ingest benchmarks move by ±15 % on this
# machine. Two databases in one throwaway cluster: `base` with every migration before BASE_BEFORE
# (0101), `new` with all of them; the same seeded leads in both. One transaction is what a lane
# writes for a batch of 8 events of 4 leads, in the app's statements (the delta endings are
# read from Store+RollupDeltas.swift, as bench-rollup-deltas-scaling.sh does): the lock of its
# leads by their identity keys (`leadrouter_lock_leads_of`), 8 stage_history
# rows (4 new leads entering `awareness`, then moving on an hour later) with their deltas, 4
# membership_history rows (2 entries, 2 exits) with theirs, and 2 stage goals with theirs. Each
# database runs N1 and N2 such transactions over fresh leads in one backend (a lane's connection:
# plans cached across its transactions); the difference of the two counts divided by N2 − N1 is
# the cost of one transaction, without the backend's start and the first transactions' planning.
#
#   scripts/bench-lane-sql-instructions.sh                 # BASE_BEFORE=0101 N1=20 N2=120
#   BASE_BEFORE=0102 scripts/bench-lane-sql-instructions.sh  # 0102 alone
#   OUT=/tmp/lane-sql scripts/bench-lane-sql-instructions.sh   # keep the callgrind files (callgrind_annotate --inclusive=yes OUT/cg.new.120)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/bench.sh

BASE_BEFORE=${BASE_BEFORE:-0101}
N1=${N1:-20}
N2=${N2:-120}
ensure_packages postgresql valgrind
pg_cluster_start >/dev/null
bench_workdir bench-lane-sql-instructions
chmod 1777 "$WORK"

bench_schema_databases "$BASE_BEFORE"
for db in base new; do
    psql -q -X -v ON_ERROR_STOP=1 "${DATABASE_URL%/*}/$db" <<SQL
INSERT INTO leads (id, email, stage, status, source_first, source_last, updated_at, created_at)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'p' || g || '@example.com', NULL, 'new',
       jsonb_build_object('channel', 'paid_search'), jsonb_build_object('channel', 'direct'), now(), now()
FROM generate_series(1, 4 * ($N1 + $N2 + 2)) AS g;
INSERT INTO identities (kind, value, lead_id)
SELECT 'user_id', 'u' || g, ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid FROM generate_series(1, 4 * ($N1 + $N2 + 2)) AS g;
VACUUM ANALYZE;
SQL
done

stage_deltas=$(sed -n '/static let stageDeltasOfH = """/,/"""$/p' Sources/LeadStore/Store+RollupDeltas.swift | sed '1d;$d')
segment_deltas=$(sed -n '/static let segmentDeltasOfH = """/,/"""$/p' Sources/LeadStore/Store+RollupDeltas.swift | sed '1d;$d')
goal_deltas=$(sed -n '/static let stageGoalDeltasOfG = """/,/"""$/p' Sources/LeadStore/Store+RollupDeltas.swift | sed '1d;$d')

# transactions FIRST N: N lane transactions over the leads FIRST .. FIRST + 4N − 1, for
# `postgres --single -j` (a statement ends at a semicolon and an empty line).
transactions() {
    local first=$1 n=$2 i l t
    for ((i = 0; i < n; i++)); do
        l=$((first + 4 * i)); t="timestamptz '2026-12-01 00:00:00Z' + $i * interval '1 minute'"
        cat <<SQL
BEGIN;

SELECT count(*) FROM leadrouter_lock_leads_of('{user_id,user_id,user_id,user_id}', ARRAY['u$l', 'u$((l + 1))', 'u$((l + 2))', 'u$((l + 3))']);

WITH h AS (
    INSERT INTO stage_history (lead_id, from_stage, to_stage, reason, ruleset_version, event_id, occurred_at)
    SELECT ('00000000-0000-4000-8000-' || lpad(to_hex($l + g), 12, '0'))::uuid, m.f, m.t, 'event', 1, gen_random_uuid(),
           $t + m.i * interval '1 hour' + g * interval '1 second'
    FROM generate_series(0, 3) AS g CROSS JOIN (VALUES (0, '', 'awareness'), (1, 'awareness', 'consideration')) AS m(i, f, t)
    ORDER BY m.i, g
    RETURNING *)
$stage_deltas;

WITH h AS (
    INSERT INTO membership_history (lead_id, segment, change, reason, ruleset_version, event_id, occurred_at)
    SELECT ('00000000-0000-4000-8000-' || lpad(to_hex($l + g), 12, '0'))::uuid, 'awareness.low-intent.viewer', c.change, NULL, 1,
           gen_random_uuid(), $t + c.i * interval '90 minutes' + g * interval '1 second'
    FROM generate_series(0, 1) AS g CROSS JOIN (VALUES (0, 'entered'), (1, 'exited')) AS c(i, change)
    ORDER BY c.i, g
    RETURNING *)
$segment_deltas;

WITH g AS (
    INSERT INTO stage_goal_reached (lead_id, stage, entered_at, from_stage, reached_at)
    SELECT * FROM leadrouter_stage_goal_entries(ARRAY(
        SELECT ROW(('00000000-0000-4000-8000-' || lpad(to_hex($l + g), 12, '0'))::uuid, 'consideration',
                   $t + interval '2 hours', 86400000)::leadrouter_stage_goal_held
        FROM generate_series(0, 1) AS g))
    ON CONFLICT DO NOTHING RETURNING lead_id, stage, entered_at, from_stage)
$goal_deltas;

COMMIT;

SQL
    done
}

# The backends below read the cluster's files directly: stop the server first.
(cd / && as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null)
# count DB N FIRST: user-space instructions of a single-user backend running N transactions.
count() {
    local db=$1 n=$2 first=$3 out="$WORK/cg.$1.$2"
    transactions "$first" "$n" >"$WORK/tx.$db.$n.sql"
    (cd / && as_pg valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$PG_BIN/postgres" --single -j -D "$PG_DIR/data" -c max_parallel_workers_per_gather=0 "$db" \
        <"$WORK/tx.$db.$n.sql" >"$WORK/out.$db.$n" 2>"$WORK/cg.$db.$n.log")
    grep -q ERROR "$WORK/out.$db.$n" && { grep -m3 ERROR "$WORK/out.$db.$n" >&2; return 1; }
    awk '/^summary:/ {print $2}' "$out"
}

declare -A per
for db in base new; do
    a=$(count "$db" "$N1" 1)
    b=$(count "$db" "$N2" $((1 + 4 * (N1 + 1))))
    per[$db]=$(((b - a) / (N2 - N1)))
    echo "$db: $N1 transactions $a, $N2 transactions $b instructions" >&2
done
# Both wrote the same deltas for the same leads (the second run's; ids aside).
digests=$(for db in base new; do
    (cd / && as_pg "$PG_BIN/postgres" --single -D "$PG_DIR/data" "$db" <<<"SELECT md5(string_agg(d::text, ',' ORDER BY d::text)) FROM (SELECT lead_id, segment, at, entries, exits_rule, exits_time, exits_merge, exits_ruleset, exits_erase, drop_offs, k, channel_first, channel_last FROM segment_rollup_deltas UNION ALL SELECT lead_id, from_stage, at, moves, goal_reached, 0, 0, 0, 0, 0, k, to_stage, NULL FROM stage_rollup_deltas) d" 2>/dev/null) | grep -o '"[0-9a-f]\{32\}"'
done)
[ -n "${OUT:-}" ] && mkdir -p "$OUT" && cp "$WORK"/cg.* "$OUT"/
echo "deltas written (md5, base and new):" $digests
[ "$(echo "$digests" | sort -u | wc -l)" -eq 1 ] || { echo "base and new wrote different deltas" >&2; exit 1; }
printf 'lane lead lock + history statements + rollup deltas, instructions per transaction (4 leads locked, 8 stage, 4 membership rows, 2 goals):\n'
printf '  base (migrations before %s) %s\n  new  (all migrations)       %s\n  ratio new/base %s\n' \
    "$BASE_BEFORE" "${per[base]}" "${per[new]}" "$(python3 -c "print(round(${per[new]} / ${per[base]}, 3))")"
