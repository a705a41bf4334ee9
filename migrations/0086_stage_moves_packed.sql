-- The stage funnel by hour from one row per hour (issue 15; docs/insight.md "Reading cost").
-- A year at `interval=hour` read `stage_moves_hourly`: 8 760 hours × 12 stage pairs = 105 132
-- rows of five columns, and its time was per row (PostgreSQL ~15 ms just to pass them, libpq's
-- parsing, the reader's columns): quiet-machine p99 98 ms against the 50 ms bar. Here every
-- hour's pairs are packed into one `bytea`, so the same year is 8 760 rows of two columns.
--
-- `stage_moves_hourly_folded` stays what it was (the rollup by pair, which tests, the hourly view
-- and the daily sums keep using); `stage_moves_hourly_packed` is its copy by hour, written by
-- the fold in the same statement (below) and backfilled here. Its `moves` column is the hour's
-- pairs one after another, each:
--
--   from_stage bytes, 0x00, to_stage bytes, 0x00, moves (int4, big-endian), goal_reached (int4, big-endian)
--
-- (`leadrouter_stage_move_packed`; a text cannot hold 0x00, so the names need no escaping) in
-- (from_stage, to_stage) order. `Store.stageMetrics` decodes it (`StageMovesPacked`). The deltas
-- not folded yet are read by pair from `stage_rollup_deltas`, as the hourly view reads them.
-- No lead id: a reference table on Citus, like the other `*_folded` tables (0036's rule).

-- One pair of an hour, packed as above.
CREATE FUNCTION leadrouter_stage_move_packed(from_stage text, to_stage text, moves bigint, goal_reached bigint)
RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT convert_to(from_stage, 'UTF8') || '\x00'::bytea || convert_to(to_stage, 'UTF8') || '\x00'::bytea
           || int4send(moves::int4) || int4send(goal_reached::int4)
$$;

CREATE TABLE stage_moves_hourly_packed (
    bucket  timestamptz PRIMARY KEY,
    moves   bytea NOT NULL
);

INSERT INTO stage_moves_hourly_packed (bucket, moves)
SELECT bucket, string_agg(leadrouter_stage_move_packed(from_stage, to_stage, moves, goal_reached), ''::bytea ORDER BY from_stage, to_stage)
FROM stage_moves_hourly_folded GROUP BY bucket;

-- 0070's fold, unchanged but for `stage_packed`: the packed rows of the hours this fold touches,
-- rebuilt from their folded pairs as the statement found them (a statement's CTEs all see the
-- rows as they were before it, so `stage_hourly`'s upsert is not visible here) plus the deltas
-- being folded, summed by pair. Only the fold writes these tables, one fold at a time (its
-- advisory lock, taken by an earlier statement), so the rows read here are the latest.
CREATE OR REPLACE FUNCTION leadrouter_fold_rollup_deltas() RETURNS bigint LANGUAGE sql AS $$
    WITH d AS (
        DELETE FROM segment_rollup_deltas
        RETURNING segment, date_bin('1 hour', at, timestamptz '2001-01-01 00:00:00Z') AS hour, at, entries, exits_rule, exits_time,
                  exits_merge, exits_ruleset, exits_erase, goal_reached, drop_offs, k, channel_first, channel_last
    ), hourly AS (
        INSERT INTO segment_metrics_hourly_folded AS m
            (segment, bucket, entries, exits_rule, exits_time, exits_merge, exits_ruleset, exits_erase, goal_reached, drop_offs)
        SELECT segment, hour, sum(entries), sum(exits_rule), sum(exits_time), sum(exits_merge), sum(exits_ruleset),
               sum(exits_erase), sum(goal_reached), sum(drop_offs)
        FROM d GROUP BY 1, 2
        ON CONFLICT (segment, bucket) DO UPDATE SET
            entries = m.entries + excluded.entries, exits_rule = m.exits_rule + excluded.exits_rule,
            exits_time = m.exits_time + excluded.exits_time, exits_merge = m.exits_merge + excluded.exits_merge,
            exits_ruleset = m.exits_ruleset + excluded.exits_ruleset, exits_erase = m.exits_erase + excluded.exits_erase,
            goal_reached = m.goal_reached + excluded.goal_reached, drop_offs = m.drop_offs + excluded.drop_offs
    ), daily AS (
        INSERT INTO segment_metrics_daily_folded AS m
            (segment, bucket, entries, exits_rule, exits_time, exits_merge, exits_ruleset, exits_erase, goal_reached, drop_offs)
        SELECT segment, date_bin('1 day', hour, timestamptz '2001-01-01 00:00:00Z'), sum(entries), sum(exits_rule), sum(exits_time),
               sum(exits_merge), sum(exits_ruleset), sum(exits_erase), sum(goal_reached), sum(drop_offs)
        FROM d GROUP BY 1, 2
        ON CONFLICT (segment, bucket) DO UPDATE SET
            entries = m.entries + excluded.entries, exits_rule = m.exits_rule + excluded.exits_rule,
            exits_time = m.exits_time + excluded.exits_time, exits_merge = m.exits_merge + excluded.exits_merge,
            exits_ruleset = m.exits_ruleset + excluded.exits_ruleset, exits_erase = m.exits_erase + excluded.exits_erase,
            goal_reached = m.goal_reached + excluded.goal_reached, drop_offs = m.drop_offs + excluded.drop_offs
    ), stays AS (
        INSERT INTO segment_stay_daily_folded AS s (segment, bucket, k, exits)
        SELECT segment, date_bin('1 day', hour, timestamptz '2001-01-01 00:00:00Z'), k, count(*) FROM d WHERE k IS NOT NULL GROUP BY 1, 2, 3
        ON CONFLICT (segment, bucket, k) DO UPDATE SET exits = s.exits + excluded.exits
    ), monthly_stays AS (
        INSERT INTO segment_stay_monthly_folded AS s (segment, bucket, k, exits)
        SELECT segment, date_trunc('month', at, 'UTC'), k, count(*) FROM d WHERE k IS NOT NULL GROUP BY 1, 2, 3
        ON CONFLICT (segment, bucket, k) DO UPDATE SET exits = s.exits + excluded.exits
    ), channels AS (
        INSERT INTO segment_entrant_channels_daily_folded AS c (segment, bucket, touch, channel, entrants)
        SELECT d.segment, date_bin('1 day', d.hour, timestamptz '2001-01-01 00:00:00Z'), t.touch, t.channel, count(*)
        FROM d CROSS JOIN LATERAL (VALUES ('first', d.channel_first), ('last', d.channel_last)) AS t(touch, channel)
        WHERE t.channel IS NOT NULL
        GROUP BY 1, 2, 3, 4
        ON CONFLICT (segment, bucket, touch, channel) DO UPDATE SET entrants = c.entrants + excluded.entrants
    ), s AS (
        DELETE FROM stage_rollup_deltas
        RETURNING date_bin('1 hour', at, timestamptz '2001-01-01 00:00:00Z') AS hour, at, from_stage, to_stage, moves, goal_reached, k
    ), stage_hourly AS (
        INSERT INTO stage_moves_hourly_folded AS m (bucket, from_stage, to_stage, moves, goal_reached)
        SELECT hour, from_stage, to_stage, sum(moves), sum(goal_reached) FROM s GROUP BY 1, 2, 3
        ON CONFLICT (bucket, from_stage, to_stage) DO UPDATE SET moves = m.moves + excluded.moves, goal_reached = m.goal_reached + excluded.goal_reached
    ), stage_packed AS (
        INSERT INTO stage_moves_hourly_packed AS p (bucket, moves)
        SELECT bucket, string_agg(leadrouter_stage_move_packed(from_stage, to_stage, moves, goal_reached), ''::bytea ORDER BY from_stage, to_stage)
        FROM (SELECT bucket, from_stage, to_stage, sum(moves) AS moves, sum(goal_reached) AS goal_reached
              FROM (SELECT f.bucket, f.from_stage, f.to_stage, f.moves, f.goal_reached FROM stage_moves_hourly_folded f
                    WHERE f.bucket IN (SELECT hour FROM s)
                    UNION ALL
                    SELECT hour, from_stage, to_stage, moves, goal_reached FROM s) AS both_
              GROUP BY 1, 2, 3) AS pairs
        GROUP BY bucket
        ON CONFLICT (bucket) DO UPDATE SET moves = excluded.moves
    ), stage_daily AS (
        INSERT INTO stage_moves_daily_folded AS m (bucket, from_stage, to_stage, moves, goal_reached)
        SELECT date_bin('1 day', hour, timestamptz '2001-01-01 00:00:00Z'), from_stage, to_stage, sum(moves), sum(goal_reached) FROM s GROUP BY 1, 2, 3
        ON CONFLICT (bucket, from_stage, to_stage) DO UPDATE SET moves = m.moves + excluded.moves, goal_reached = m.goal_reached + excluded.goal_reached
    ), stage_stays AS (
        INSERT INTO stage_stay_daily_folded AS t (bucket, stage, k, exits)
        SELECT date_bin('1 day', hour, timestamptz '2001-01-01 00:00:00Z'), from_stage, k, count(*) FROM s WHERE k IS NOT NULL GROUP BY 1, 2, 3
        ON CONFLICT (bucket, stage, k) DO UPDATE SET exits = t.exits + excluded.exits
    ), stage_monthly_stays AS (
        INSERT INTO stage_stay_monthly_folded AS t (bucket, stage, k, exits)
        SELECT date_trunc('month', at, 'UTC'), from_stage, k, count(*) FROM s WHERE k IS NOT NULL GROUP BY 1, 2, 3
        ON CONFLICT (bucket, stage, k) DO UPDATE SET exits = t.exits + excluded.exits
    )
    SELECT (SELECT count(*) FROM d) + (SELECT count(*) FROM s)
$$;
