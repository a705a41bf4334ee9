#!/usr/bin/env bash
# Segment metrics benchmark (issue 15, docs/insight.md): `GET /v1/segments/{name}/metrics` over a
# year at interval=day (and week, hour) against HISTORY (10 000 000) membership_history rows for
# LEADS (1 000 000) leads over 23 segments, seeded set-based in SQL through the statement the
# app uses (migration 0070: the history INSERT writes its rollup deltas in the same statement, a
# CTE over `leadrouter_segment_deltas`) in CHUNKS (100) statements, a transaction each, folded into
# the rollups by the app's fold after every FOLD_EVERY (10) of them and after the last (as lane
# batches and the fold job would, only much larger). While it seeds, the history's secondary
# indexes are dropped and built again at the end (SEED_DROP_INDEXES=0 keeps them) and checkpoints
# are spaced out (max_wal_size SEED_MAX_WAL_SIZE, 16GB; both undone before the reads). Each chunk
# prints its wall and backend CPU milliseconds and WAL, of the statement and of the fold + commit,
# and the load. Then the write path's extra cost: a lane-shaped
# history INSERT (ROWS_PER_BATCH rows, the segments of a real batch) with and without its deltas,
# alternating PAIRS times in one session, WAL bytes and execution time of each. Prints p50/p99
# per shape and the medians of the A/B.
#
#   scripts/bench-segment-metrics.sh                       # HISTORY=10000000 LEADS=1000000
#   HISTORY=1000000 LEADS=100000 scripts/bench-segment-metrics.sh
#   BUILD=debug LEADROUTER_SCRATCH=.build-x scripts/bench-segment-metrics.sh   # an existing debug build
#   SEED=rollups scripts/bench-segment-metrics.sh          # reads only: rollup rows written directly
#   KEEP_CLUSTER=1 BIN=… MIGRATIONS_DIR=migrations scripts/bench-segment-metrics.sh   # keep the seeded cluster, then
#   SEED=none DATABASE_URL=… CLUSTER_DIR=… BIN=… scripts/bench-segment-metrics.sh     # read it with another build
#
# The stage funnel (`GET /v1/stages/metrics`, a year at day, week and hour) is measured too when the
# binary has it (migration 0048): its rollups (every hour of a year for 12 pairs of stages, 31 stay
# buckets a day for 4 stages) are always seeded directly, whatever SEED says.
#
# SEED=rollups skips the history and the write-path A/B and inserts the folded rollup rows that
# HISTORY rows over a year would make (every hour of every segment, 31 stay buckets and 8 channel
# rows a day), in seconds instead of 25 minutes: the read cost depends on those row counts, not on
# the history behind them. The daily and monthly sums are inserted from the hourly and daily rows,
# as the fold makes them.
#
# Every shape also prints the server's and PostgreSQL's CPU milliseconds per request (from /proc,
# over CPU_REQUESTS sequential requests after the wrk run): on a loaded machine those compare
# builds where wall clock cannot. With
# BASE_BIN (another build's binary), that build serves the same database on a second port and
# every shape runs ROUNDS (2) times per build, alternated (base, new; then new, base), rows
# marked `[base]` / `[new]`: an A/B of the reads in one run (SHAPE_FILTER=stages keeps only the
# shapes whose name contains it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/bench.sh

LEADS=${LEADS:-1000000}
HISTORY=${HISTORY:-10000000}
CHUNKS=${CHUNKS:-100}
FOLD_EVERY=${FOLD_EVERY:-10}
SEED_DROP_INDEXES=${SEED_DROP_INDEXES:-1}
SEED_MAX_WAL_SIZE=${SEED_MAX_WAL_SIZE:-16GB}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-4}
PAIRS=${PAIRS:-200}
ROWS_PER_BATCH=${ROWS_PER_BATCH:-10}
BUILD=${BUILD:-release}
SEED=${SEED:-history}

ensure_packages wrk curl libssl-dev zlib1g-dev libdeflate-dev libpq-dev pkg-config postgresql

bench_leadrouter "$BUILD"
if [ "$SEED" = none ]; then
    : "${DATABASE_URL:?SEED=none reads the database DATABASE_URL names, seeded by an earlier run with KEEP_CLUSTER=1}"
    # PostgreSQL's CPU is read from the kept cluster's directory (CLUSTER_DIR, printed by the
    # KEEP_CLUSTER run). Not PG_DIR: that is the directory this run removes when it exits.
    : "${CLUSTER_DIR:?SEED=none needs CLUSTER_DIR, the directory of the kept cluster, printed by the KEEP_CLUSTER=1 run}"
else
    bench_cluster_start
fi
bench_workdir bench-segment-metrics

PORT=$(free_port)
serve_args=(--migrate --rules config/segments.yaml --log-level warning)
[ -n "${MIGRATIONS_DIR:-}" ] && serve_args+=(--migrations-dir "$MIGRATIONS_DIR")
bench_serve "$BIN" "$PORT" "$WORK/leadrouter.log" "${serve_args[@]}"
KEY=$("$BIN" keys create --name bench --scopes read | tail -n 1)
if [ -n "${BASE_BIN:-}" ]; then
    NEW_PORT=$PORT
    BASE_PORT=$(free_port)
    NEW_PID=$BENCH_SERVE_PID
    bench_serve "$BASE_BIN" "$BASE_PORT" "$WORK/leadrouter-base.log" --rules config/segments.yaml --log-level warning
    BASE_PID=$BENCH_SERVE_PID
fi
SEGMENT=consideration.mid-intent.browser

psql -q -v ON_ERROR_STOP=1 "$DATABASE_URL" <<SQL
CREATE TABLE IF NOT EXISTS bench_segs AS
SELECT row_number() OVER () - 1 AS i, s AS segment FROM unnest(ARRAY[
  'consideration.mid-intent.browser', 'awareness.early-intent.researcher', 'awareness.early-intent.newsletter',
  'consideration.mid-intent.running-shoes', 'consideration.mid-intent.skincare-sets', 'consideration.mid-intent.comparer',
  'consideration.mid-intent.webinar', 'consideration.mid-intent.ship-eu', 'consideration.mid-intent.ship-international',
  'consideration.mid-intent.b2b-smb', 'consideration.mid-intent.wishlist', 'consideration.mid-intent.deal-seeker',
  'decision.high-intent.trial', 'decision.high-intent.cart', 'decision.high-intent.checkout', 'decision.high-intent.big-cart',
  'decision.high-intent.pricing', 'decision.high-intent.demo', 'decision.high-intent.b2b-enterprise',
  'retention.repeat-intent.reorder', 'retention.high-intent.account-pricing', 'retention.high-value.vip',
  'retention.low-intent.win-back']) AS s;
SQL
seed_start=$(date +%s)
if [ "$SEED" = none ]; then
echo "reading the database seeded before ($DATABASE_URL)…" >&2
# As the seed ends (a no-op on a run that got there; a run stopped early did not): the history's
# indexes built again and the seed's settings undone, then fresh statistics.
psql -q -v ON_ERROR_STOP=1 "$DATABASE_URL" 2>&1 <<SQL | sed -u 's/^psql:[^ ]* NOTICE: */  /' >&2
DO \$\$ BEGIN IF to_regprocedure('bench_seed_restore()') IS NOT NULL THEN CALL bench_seed_restore(); END IF; END \$\$;
ALTER SYSTEM RESET max_wal_size;
ALTER SYSTEM RESET checkpoint_timeout;
DO \$\$ BEGIN PERFORM pg_reload_conf(); END \$\$;
VACUUM ANALYZE leads; VACUUM ANALYZE membership_history;
VACUUM ANALYZE segment_metrics_hourly_folded; VACUUM ANALYZE segment_metrics_daily_folded; VACUUM ANALYZE segment_stay_daily_folded;
VACUUM ANALYZE segment_stay_monthly_folded; VACUUM ANALYZE segment_entrant_channels_daily_folded; VACUUM ANALYZE segment_rollup_deltas;
SQL
elif [ "$SEED" = rollups ]; then
echo "seeding the rollups of $HISTORY history rows over a year directly…" >&2
psql -q -v ON_ERROR_STOP=1 "$DATABASE_URL" <<SQL
INSERT INTO segment_metrics_hourly_folded (segment, bucket, entries, exits_rule, exits_time, goal_reached, drop_offs)
SELECT s.segment, h, n, n / 2, n - n / 2, n / 10, n / 3
FROM bench_segs s, generate_series(date_trunc('hour', now() - interval '365 days'), now(), interval '1 hour') AS h,
     LATERAL (SELECT greatest(1, ($HISTORY / 2 / 8760 / CASE WHEN s.i = 0 THEN 3 ELSE 33 END)::int + (random() * 3)::int) AS n) AS c;
INSERT INTO segment_metrics_daily_folded (segment, bucket, entries, exits_rule, exits_time, goal_reached, drop_offs)
SELECT segment, date_bin('1 day', bucket, timestamptz '2001-01-01 00:00:00Z'), sum(entries), sum(exits_rule), sum(exits_time),
       sum(goal_reached), sum(drop_offs)
FROM segment_metrics_hourly_folded GROUP BY 1, 2;
INSERT INTO segment_stay_daily_folded (segment, bucket, k, exits)
SELECT s.segment, d, k, 1 + (random() * 100)::int
FROM bench_segs s, generate_series(date_trunc('day', now() - interval '365 days'), now(), interval '1 day') AS d, generate_series(0, 60) AS k
WHERE k BETWEEN 4 AND 34;
INSERT INTO segment_entrant_channels_daily_folded (segment, bucket, touch, channel, entrants)
SELECT s.segment, d, t, c, 1 + (random() * 100)::int
FROM bench_segs s, generate_series(date_trunc('day', now() - interval '365 days'), now(), interval '1 day') AS d,
     unnest(ARRAY['first', 'last']) AS t, unnest(ARRAY['paid_search', 'email_newsletter', 'organic', 'direct']) AS c;
INSERT INTO segment_stay_monthly_folded (segment, bucket, k, exits)
SELECT segment, date_trunc('month', bucket, 'UTC'), k, sum(exits) FROM segment_stay_daily_folded GROUP BY 1, 2, 3;
VACUUM ANALYZE segment_metrics_hourly_folded; VACUUM ANALYZE segment_metrics_daily_folded; VACUUM ANALYZE segment_stay_daily_folded;
VACUUM ANALYZE segment_stay_monthly_folded; VACUUM ANALYZE segment_entrant_channels_daily_folded;
SQL
else
echo "seeding $LEADS leads and $HISTORY history rows in $CHUNKS statements…" >&2
seed_start=$(date +%s)
psql -q -v ON_ERROR_STOP=1 "$DATABASE_URL" 2>&1 <<SQL | sed -u 's/^psql:[^ ]* NOTICE: */  /' >&2
INSERT INTO leads (id, email, stage, status, source_first, source_last, updated_at, created_at)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'p' || g || '@example.com', 'awareness', 'new',
       jsonb_build_object('channel', (ARRAY['paid_search', 'email_newsletter', 'organic', 'direct'])[1 + g % 4]),
       jsonb_build_object('channel', (ARRAY['direct', 'paid_search', 'email_newsletter', 'organic'])[1 + g % 4 + 0 * g]),
       now(), now() - interval '400 days'
FROM generate_series(1, $LEADS) AS g;
-- Seed-only settings, undone below: the history's secondary indexes (not the primary key, which
-- the delta function's lookups use) are dropped and built once at the end (a sort instead of
-- 10 M random inserts), and checkpoints are spaced out (each one makes the next change of every
-- page write the whole page to the WAL). What the app's statement writes is unchanged.
ALTER SYSTEM SET max_wal_size = '$SEED_MAX_WAL_SIZE';
ALTER SYSTEM SET checkpoint_timeout = '1h';
DO \$\$ BEGIN PERFORM pg_reload_conf(); END \$\$;
CREATE TABLE bench_history_indexes AS
SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = 'membership_history'::regclass AND '$SEED_DROP_INDEXES' = '1'
  AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid);
DO \$\$ DECLARE r record; BEGIN
  FOR r IN SELECT name FROM bench_history_indexes LOOP EXECUTE format('DROP INDEX %I', r.name); END LOOP;
END \$\$;
-- The seed's indexes and settings back (also run by SEED=none, for a seed that was stopped early).
CREATE PROCEDURE bench_seed_restore() LANGUAGE plpgsql AS \$\$
DECLARE r record; t timestamptz;
BEGIN
  IF to_regclass('bench_history_indexes') IS NULL THEN RETURN; END IF;
  FOR r IN SELECT name, def FROM bench_history_indexes LOOP
    t := clock_timestamp();
    EXECUTE r.def;
    RAISE NOTICE 'index % built again in % s', r.name, round(extract(epoch FROM clock_timestamp() - t));
  END LOOP;
  DROP TABLE bench_history_indexes;
END \$\$;
-- Entry and exit pairs: a lead, a segment (a third of the pairs in the benchmarked one), an entry
-- in the last year and a stay of 1 s to about 45 h, by event (rule) or by time. One transaction
-- per chunk, as lanes commit, through the app's statement (history and its deltas); the app's
-- fold after every FOLD_EVERY chunks and after the last (a fold's cost is per (segment, hour) it
-- upserts, so folding ten chunks' deltas at once costs about half of ten folds).
CREATE PROCEDURE bench_seed_history() LANGUAGE plpgsql AS \$\$
DECLARE pairs int := $HISTORY / 2; per int := greatest(1, ($HISTORY / 2) / $CHUNKS); lo int := 0; chunk int := 0;
        t0 timestamptz := clock_timestamp(); t timestamptz; f timestamptz; c0 int8; c1 int8; w0 pg_lsn; w1 pg_lsn;
        stmt_cpu int8 := 0; fold_cpu int8 := 0; folded bigint;
BEGIN
  WHILE lo < pairs LOOP
    t := clock_timestamp(); w0 := pg_current_wal_insert_lsn();
    c0 := split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::int8;
    WITH h AS (
      INSERT INTO membership_history (lead_id, segment, change, reason, ruleset_version, event_id, occurred_at)
      SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(1 + p.g % $LEADS), 12, '0'))::uuid, s.segment, c.change, NULL, 1,
             CASE WHEN c.change = 'entered' OR p.g % 2 = 0 THEN gen_random_uuid() END,
             CASE WHEN c.change = 'entered' THEN p.t ELSE p.t + p.stay END
      FROM (SELECT g, now() - interval '365 days' + random() * interval '364 days' AS t,
                   exp(random() * 12) * interval '1 second' AS stay,
                   CASE WHEN g % 3 = 0 THEN 0 ELSE 1 + g % 22 END AS si
            FROM generate_series(lo, least(lo + per, pairs) - 1) AS g) AS p
      JOIN bench_segs s ON s.i = p.si
      CROSS JOIN (VALUES ('entered'), ('exited')) AS c(change)
      RETURNING *)
    INSERT INTO segment_rollup_deltas (lead_id, segment, at, entries, exits_rule, exits_time, exits_merge, exits_ruleset,
                                       exits_erase, drop_offs, k, channel_first, channel_last)
    SELECT * FROM leadrouter_segment_deltas(ARRAY(SELECT ROW(h.*)::membership_history FROM h));
    f := clock_timestamp(); w1 := pg_current_wal_insert_lsn();
    c1 := split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::int8;
    stmt_cpu := stmt_cpu + (c1 - c0);
    lo := lo + per; chunk := chunk + 1; folded := NULL;
    IF chunk % $FOLD_EVERY = 0 OR lo >= pairs THEN
      folded := leadrouter_fold_rollup_deltas();
    END IF;
    COMMIT;
    fold_cpu := fold_cpu + (split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::int8 - c1);
    -- Each chunk's statement (history + deltas), then its fold (when it folds) and commit: wall
    -- and this backend's CPU milliseconds (CPU does not depend on the machine's load) and WAL.
    RAISE NOTICE '% of % pairs: statement % ms (CPU %, WAL % MB), % % ms (CPU %, WAL % MB), % s in all, load %',
      least(lo, pairs), pairs, round(extract(epoch FROM f - t) * 1000), (c1 - c0) / 1000000, round((w1 - w0) / 1048576, 1),
      CASE WHEN folded IS NULL THEN 'commit' ELSE 'fold of ' || folded || ' deltas and commit' END,
      round(extract(epoch FROM clock_timestamp() - f) * 1000),
      (split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::int8 - c1) / 1000000,
      round((pg_current_wal_insert_lsn() - w1) / 1048576, 1),
      round(extract(epoch FROM clock_timestamp() - t0)), split_part(pg_read_file('/proc/loadavg'), ' ', 1);
  END LOOP;
  RAISE NOTICE 'history seeded: % s, CPU % s in statements and % s in folds', round(extract(epoch FROM clock_timestamp() - t0)),
    round(stmt_cpu / 1e9, 1), round(fold_cpu / 1e9, 1);
END \$\$;
CALL bench_seed_history();
CALL bench_seed_restore();
ALTER SYSTEM RESET max_wal_size;
ALTER SYSTEM RESET checkpoint_timeout;
DO \$\$ BEGIN PERFORM pg_reload_conf(); END \$\$;
CHECKPOINT;
VACUUM ANALYZE leads; VACUUM ANALYZE membership_history;
VACUUM ANALYZE segment_metrics_hourly_folded; VACUUM ANALYZE segment_metrics_daily_folded; VACUUM ANALYZE segment_stay_daily_folded;
VACUUM ANALYZE segment_stay_monthly_folded; VACUUM ANALYZE segment_entrant_channels_daily_folded; VACUUM ANALYZE segment_rollup_deltas;
SQL
fi
STAGES=$(psql -Atc "SELECT to_regclass('stage_moves_daily') IS NOT NULL" "$DATABASE_URL")
# (A database seeded before has them, unless its run stopped before this step.)
if [ "$STAGES" = t ] && [ "$(psql -Atc "SELECT NOT EXISTS (SELECT FROM stage_moves_hourly_folded)" "$DATABASE_URL")" = t ]; then
echo "seeding a year of stage rollups directly…" >&2
psql -q -v ON_ERROR_STOP=1 "$DATABASE_URL" <<SQL
INSERT INTO stage_moves_hourly_folded (bucket, from_stage, to_stage, moves, goal_reached)
SELECT h, p.f, p.t, 1 + (random() * 20)::int, (random() * 3)::int
FROM generate_series(date_trunc('hour', now() - interval '365 days'), now(), interval '1 hour') AS h,
     (VALUES ('', 'awareness'), ('awareness', 'consideration'), ('awareness', 'decision'), ('consideration', 'decision'),
             ('consideration', 'awareness'), ('decision', 'retention'), ('decision', 'consideration'), ('decision', 'awareness'),
             ('retention', 'awareness'), ('awareness', ''), ('consideration', ''), ('decision', '')) AS p(f, t);
INSERT INTO stage_moves_daily_folded (bucket, from_stage, to_stage, moves, goal_reached)
SELECT date_bin('1 day', bucket, timestamptz '2001-01-01 00:00:00Z'), from_stage, to_stage, sum(moves), sum(goal_reached)
FROM stage_moves_hourly_folded GROUP BY 1, 2, 3;
INSERT INTO stage_stay_daily_folded (bucket, stage, k, exits)
SELECT d, s, k, 1 + (random() * 100)::int
FROM generate_series(date_trunc('day', now() - interval '365 days'), now(), interval '1 day') AS d,
     unnest(ARRAY['awareness', 'consideration', 'decision', 'retention']) AS s, generate_series(4, 34) AS k;
INSERT INTO stage_stay_monthly_folded (bucket, stage, k, exits)
SELECT date_trunc('month', bucket, 'UTC'), stage, k, sum(exits) FROM stage_stay_daily_folded GROUP BY 1, 2, 3;
VACUUM ANALYZE stage_moves_hourly_folded; VACUUM ANALYZE stage_moves_daily_folded; VACUUM ANALYZE stage_stay_daily_folded; VACUUM ANALYZE stage_stay_monthly_folded;
SQL
# The packed hours (migration 0086) from those rows, as the fold packs them.
if [ "$(psql -Atc "SELECT to_regclass('stage_moves_hourly_packed') IS NOT NULL" "$DATABASE_URL")" = t ]; then
psql -q -v ON_ERROR_STOP=1 "$DATABASE_URL" <<SQL
INSERT INTO stage_moves_hourly_packed (bucket, moves)
SELECT bucket, string_agg(leadrouter_stage_move_packed(from_stage, to_stage, moves, goal_reached), ''::bytea ORDER BY from_stage, to_stage)
FROM stage_moves_hourly_folded GROUP BY bucket;
VACUUM ANALYZE stage_moves_hourly_packed;
SQL
fi
fi
echo "seeded in $(( $(date +%s) - seed_start )) s" >&2
psql -At "$DATABASE_URL" >"$WORK/sizes.txt" <<SQL
SELECT 'history rows', count(*) FROM membership_history;
SELECT 'rollup rows (counts)', count(*) FROM segment_metrics_hourly;
SELECT 'rollup rows (counts, daily)', count(*) FROM segment_metrics_daily;
SELECT 'rollup rows (stays, daily)', count(*) FROM segment_stay_daily;
SELECT 'rollup rows (channels, daily)', count(*) FROM segment_entrant_channels_daily;
SELECT 'rollup rows of $SEGMENT (counts)', count(*) FROM segment_metrics_hourly WHERE segment = '$SEGMENT';
SQL
# PostgreSQL's buffers for the segment's year of hours (the read of `interval=hour`): with the
# hours on as many heap pages as there are hours (fold order) against a covering key (0091).
psql -At "$DATABASE_URL" -c "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
    SELECT date_part('epoch', bucket)::int8, entries, exits_rule, exits_time, exits_merge, exits_ruleset, exits_erase, goal_reached, drop_offs
    FROM segment_metrics_hourly WHERE segment = '$SEGMENT' AND bucket >= now() - interval '366 days'" |
    python3 -c 'import json, sys; p = json.load(sys.stdin)[0]["Plan"]; print("buffers of a year of hours of " + sys.argv[1] + " (EXPLAIN)|" + str(p["Shared Hit Blocks"] + p["Shared Read Blocks"]))' "$SEGMENT" \
    >>"$WORK/sizes.txt"

FROM=$(psql -Atc "SELECT to_char(date_trunc('day', now() - interval '365 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')" "$DATABASE_URL")
TO=$(psql -Atc "SELECT to_char(date_trunc('day', now() + interval '1 day') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')" "$DATABASE_URL")
SHAPES="$WORK/shapes.tsv"
cat >"$SHAPES" <<EOT
a year, interval=day	/v1/segments/$SEGMENT/metrics?from=$FROM&to=$TO&interval=day
a year, interval=week	/v1/segments/$SEGMENT/metrics?from=$FROM&to=$TO&interval=week
a year, interval=hour	/v1/segments/$SEGMENT/metrics?from=$FROM&to=$TO&interval=hour
30 days (default)	/v1/segments/$SEGMENT/metrics
EOT
if [ "$STAGES" = t ]; then
    printf 'stages, a year, interval=day\t/v1/stages/metrics?from=%s&to=%s&interval=day\n' "$FROM" "$TO" >>"$SHAPES"
    printf 'stages, a year, interval=week\t/v1/stages/metrics?from=%s&to=%s&interval=week\n' "$FROM" "$TO" >>"$SHAPES"
    printf 'stages, a year, interval=hour\t/v1/stages/metrics?from=%s&to=%s&interval=hour\n' "$FROM" "$TO" >>"$SHAPES"
    # The same answer gzip-compressed (builds with CompressResponses; older ones answer it plain).
    printf 'stages, a year, interval=hour, gzip\t/v1/stages/metrics?from=%s&to=%s&interval=hour\tAccept-Encoding: gzip\n' "$FROM" "$TO" >>"$SHAPES"
fi
if [ -n "${SHAPE_FILTER:-}" ]; then grep -F -- "$SHAPE_FILTER" "$SHAPES" >"$SHAPES.kept" || true; mv "$SHAPES.kept" "$SHAPES"; fi
RESULTS="$WORK/results.tsv"
: >"$RESULTS"
SUMMARY="str(len(d['steps'])) + ' steps, ' + str(d['totals']['entries']) + ' entries' if 'steps' in d else str(len(d['stages'])) + ' stages × ' + str(len(d['stages'][0]['steps'])) + ' steps, ' + str(d['stages'][0]['totals']['entries']) + ' entries'"
if [ -n "${BASE_BIN:-}" ]; then
    # Alternated A/B: each shape on base then new in odd rounds, new then base in even ones.
    for round in $(seq 1 "${ROUNDS:-2}"); do
        arms="base new"; [ $((round % 2)) -eq 0 ] && arms="new base"
        while IFS= read -r line <&3; do
            printf '%s\n' "$line" >"$WORK/one.tsv"
            for arm in $arms; do
                if [ "$arm" = base ]; then PORT=$BASE_PORT; BENCH_SERVE_PID=$BASE_PID; else PORT=$NEW_PORT; BENCH_SERVE_PID=$NEW_PID; fi
                : >"$WORK/one-result.tsv"
                bench_shapes "$WORK/one.tsv" "$WORK/one-result.tsv" "$SUMMARY" cpu
                sed "s/^/[$arm] /" "$WORK/one-result.tsv" >>"$RESULTS"
                cp "$WORK/answer.json" "$WORK/answer.$arm"
            done
            # The two builds' answers, byte for byte (first round; gzip answers compressed as sent).
            if [ "$round" = 1 ]; then
                if cmp -s "$WORK/answer.base" "$WORK/answer.new"; then same="identical ($(stat -c %s "$WORK/answer.new") bytes)"
                else same="DIFFERENT ($(stat -c %s "$WORK/answer.base") and $(stat -c %s "$WORK/answer.new") bytes)"; fi
                printf '%s: %s\n' "${line%%$'\t'*}" "$same" >>"$WORK/same.txt"
            fi
        done 3<"$SHAPES"
    done
else
bench_shapes "$SHAPES" "$RESULTS" "$SUMMARY" cpu
fi

if [ "$SEED" = rollups ] || [ "$SEED" = none ]; then
    : >"$WORK/ab.tsv"
else
echo "write path: $PAIRS pairs of a $ROWS_PER_BATCH-row history insert, with and without its rollup deltas…" >&2
psql -q -v ON_ERROR_STOP=1 "$DATABASE_URL" >/dev/null <<SQL
CREATE TABLE bench_ab (arm text, us float8, wal int8);
-- The same table (same columns, defaults and indexes) written without deltas: the baseline.
CREATE TABLE bench_history_plain (LIKE membership_history INCLUDING ALL);
INSERT INTO bench_history_plain SELECT * FROM membership_history;
VACUUM ANALYZE bench_history_plain;
CREATE PROCEDURE bench_write_ab() LANGUAGE plpgsql AS \$\$
DECLARE i int; arm text; t0 timestamptz; l0 pg_lsn; batch_leads uuid[];
BEGIN
  FOR i IN 1 .. 2 * $PAIRS LOOP
    -- A B B A …: each arm as often first as second; one transaction per statement, as a lane.
    arm := CASE WHEN (i % 4) IN (1, 0) THEN 'deltas' ELSE 'no deltas' END;
    SELECT array_agg(('00000000-0000-4000-8000-' || lpad(to_hex(1 + (random() * ($LEADS - 1))::int), 12, '0'))::uuid)
      INTO batch_leads FROM generate_series(1, $ROWS_PER_BATCH);
    t0 := clock_timestamp(); l0 := pg_current_wal_insert_lsn();
    IF arm = 'deltas' THEN
      WITH h AS (
        INSERT INTO membership_history (lead_id, segment, change, reason, ruleset_version, event_id, occurred_at)
        SELECT l, s.segment, CASE WHEN n % 2 = 0 THEN 'entered' ELSE 'exited' END,
               '{"change": "entered", "clauses": [], "terms": []}'::jsonb, 1, gen_random_uuid(), now()
        FROM unnest(batch_leads) WITH ORDINALITY AS b(l, n) JOIN bench_segs s ON s.i = (n % 23)
        RETURNING *)
      INSERT INTO segment_rollup_deltas (lead_id, segment, at, entries, exits_rule, exits_time, exits_merge, exits_ruleset,
                                         exits_erase, drop_offs, k, channel_first, channel_last)
      SELECT * FROM leadrouter_segment_deltas(ARRAY(SELECT ROW(h.*)::membership_history FROM h));
    ELSE
      INSERT INTO bench_history_plain (lead_id, segment, change, reason, ruleset_version, event_id, occurred_at)
      SELECT l, s.segment, CASE WHEN n % 2 = 0 THEN 'entered' ELSE 'exited' END,
             '{"change": "entered", "clauses": [], "terms": []}'::jsonb, 1, gen_random_uuid(), now()
      FROM unnest(batch_leads) WITH ORDINALITY AS b(l, n) JOIN bench_segs s ON s.i = (n % 23);
    END IF;
    INSERT INTO bench_ab VALUES (arm, extract(epoch FROM clock_timestamp() - t0) * 1e6, pg_current_wal_insert_lsn() - l0);
    COMMIT;
  END LOOP;
END \$\$;
CALL bench_write_ab();
SQL
if [ "$STAGES" = t ]; then
# The stage deltas (migration 0070) the same way: a lane-shaped stage_history INSERT of
# ROWS_PER_BATCH moves with its deltas, against a copy of the table written alone.
psql -q -v ON_ERROR_STOP=1 "$DATABASE_URL" >/dev/null <<SQL
CREATE TABLE bench_stage_plain (LIKE stage_history INCLUDING ALL);
CREATE PROCEDURE bench_stage_ab() LANGUAGE plpgsql AS \$\$
DECLARE i int; arm text; t0 timestamptz; l0 pg_lsn; batch_leads uuid[];
BEGIN
  FOR i IN 1 .. 2 * $PAIRS LOOP
    arm := CASE WHEN (i % 4) IN (1, 0) THEN 'stage deltas' ELSE 'stage no deltas' END;
    SELECT array_agg(('00000000-0000-4000-8000-' || lpad(to_hex(1 + (random() * ($LEADS - 1))::int), 12, '0'))::uuid)
      INTO batch_leads FROM generate_series(1, $ROWS_PER_BATCH);
    t0 := clock_timestamp(); l0 := pg_current_wal_insert_lsn();
    IF arm = 'stage deltas' THEN
      WITH h AS (
        INSERT INTO stage_history (lead_id, from_stage, to_stage, reason, ruleset_version, event_id, occurred_at)
        SELECT l, (ARRAY['awareness', 'consideration', 'decision'])[1 + n % 3], (ARRAY['consideration', 'decision', 'retention'])[1 + n % 3],
               'event', 1, gen_random_uuid(), now()
        FROM unnest(batch_leads) WITH ORDINALITY AS b(l, n)
        RETURNING *)
      INSERT INTO stage_rollup_deltas (lead_id, at, from_stage, to_stage, k, moves)
      SELECT lead_id, at, from_stage, to_stage, k, 1 FROM leadrouter_stage_deltas(ARRAY(SELECT ROW(h.*)::stage_history FROM h));
    ELSE
      INSERT INTO bench_stage_plain (lead_id, from_stage, to_stage, reason, ruleset_version, event_id, occurred_at)
      SELECT l, (ARRAY['awareness', 'consideration', 'decision'])[1 + n % 3], (ARRAY['consideration', 'decision', 'retention'])[1 + n % 3],
             'event', 1, gen_random_uuid(), now()
      FROM unnest(batch_leads) WITH ORDINALITY AS b(l, n);
    END IF;
    INSERT INTO bench_ab VALUES (arm, extract(epoch FROM clock_timestamp() - t0) * 1e6, pg_current_wal_insert_lsn() - l0);
    COMMIT;
  END LOOP;
END \$\$;
CALL bench_stage_ab();
SQL
fi
psql -At -F $'\t' "$DATABASE_URL" -c "SELECT arm, percentile_cont(0.5) WITHIN GROUP (ORDER BY us), percentile_cont(0.5) WITHIN GROUP (ORDER BY wal) FROM bench_ab GROUP BY arm ORDER BY arm" >"$WORK/ab.tsv"
fi

python3 - "$RESULTS" "$WORK/sizes.txt" "$WORK/ab.tsv" "$LEADS" "$HISTORY" "$DURATION" "$CONNECTIONS" "$BUILD" "$(cut -d' ' -f1-3 /proc/loadavg)" "$ROWS_PER_BATCH" "$PAIRS" "$SEED" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
sizes = [l.strip().split("|") for l in open(sys.argv[2]) if l.strip()]
ab = {l.split("\t")[0]: [float(x) for x in l.split("\t")[1:]] for l in open(sys.argv[3]) if l.strip()}
leads, history, duration, connections, build, load, per, pairs = sys.argv[4:12]
print(f"\nbench-segment-metrics: {int(leads):,} leads, {int(history):,} history rows; {duration}s per shape, {connections} connections;")
print(f"leadrouter {build} build; PostgreSQL fsync=on; load average at the end {load}")
for name, n in sizes: print(f"  {name}: {int(n):,}")
print("\n| request | answer | requests/s | p50 ms | p99 ms | non-2xx | server CPU ms/request | PostgreSQL CPU ms/request |")
print("|---|---|---|---|---|---|---|---|")
for name, steps, rps, p50, p99, bad, server, pg in rows:
    print(f"| {name} | {steps} | {rps} | {p50} | {p99} | {bad} | {server} | {pg} |")
# The issue's bar: p99 < 50 ms for the metrics endpoint, the year by hour included.
for name, steps, rps, p50, p99, bad, server, pg in rows:
    if float(p50) == 0:
        print(f"bar p99 < 50 ms, {name}: no request completed in the run (machine too loaded)")
    elif name.startswith("a year") or name.startswith("stages, a year") or name.startswith("["):
        print(f"bar p99 < 50 ms, {name}: {'met' if float(p99) < 50 else 'NOT met'} ({p99} ms)")
if not ab:
    print(f"\nno write-path A/B (SEED={sys.argv[12]}: rollups seeded directly, or a database seeded before)")
    sys.exit(0)
on, off = ab["deltas"], ab["no deltas"]
print(f"\nwrite path, a {per}-row history INSERT, medians of {pairs} each (A B B A, a transaction each):")
print(f"| arm | µs per statement | WAL bytes per statement |\n|---|---|---|")
print(f"| history + rollup deltas | {on[0]:.0f} | {on[1]:.0f} |\n| history alone | {off[0]:.0f} | {off[1]:.0f} |")
print(f"extra: {on[0] - off[0]:.0f} µs and {on[1] - off[1]:.0f} WAL bytes per statement ({(on[1] - off[1]) / int(per):.0f} B per history row)")
if "stage deltas" in ab:
    son, soff = ab["stage deltas"], ab["stage no deltas"]
    print(f"\nstage history, a {per}-row INSERT, medians of {pairs} each (A B B A):")
    print(f"| arm | µs per statement | WAL bytes per statement |\n|---|---|---|")
    print(f"| stage history + deltas | {son[0]:.0f} | {son[1]:.0f} |\n| stage history alone | {soff[0]:.0f} | {soff[1]:.0f} |")
    print(f"extra: {son[0] - soff[0]:.0f} µs and {son[1] - soff[1]:.0f} WAL bytes per statement")
PY
if [ -s "$WORK/same.txt" ]; then
    echo; echo "answers of base and new, byte for byte (the default 30 days ends now, so it may differ):"
    sed 's/^/  /' "$WORK/same.txt"
fi
# KEEP_CLUSTER=1: leave the seeded cluster running for a later SEED=none run (with another BIN).
if [ "${KEEP_CLUSTER:-}" = 1 ] && [ -n "${PG_DIR:-}" ]; then
    echo "cluster kept: DATABASE_URL=$DATABASE_URL CLUSTER_DIR=$PG_DIR; stop it with: pg_ctl -D $PG_DIR/data stop -m fast; rm -rf $PG_DIR" >&2
    PG_DIR=
fi
