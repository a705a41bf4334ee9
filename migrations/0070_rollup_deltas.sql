-- Rollup deltas instead of rollup triggers (issues 19 and 15; docs/scale-out.md, docs/insight.md
-- "How the rollups are kept"). Citus refuses statement triggers with transition tables on
-- distributed tables, so every ingest request that changed a membership failed on the cluster at
-- `membership_history_rollup`. Now no trigger feeds a rollup:
--
-- 1. the statement that writes membership_history, segment_goal_reached, stage_history or
--    stage_goal_reached also writes what those rows add to the rollups into a *delta* table
--    keyed by lead_id (a data-modifying CTE: no extra round trip; on Citus co-located with the
--    lead, so the write stays on the lead's shard);
-- 2. one node at a time (an advisory lock) folds the deltas into the rollup tables every few
--    seconds and deletes them, in one statement (`leadrouter_fold_rollup_deltas`): a crash
--    between the two is impossible, and a delta row is deleted, hence counted, once;
-- 3. the rollup tables keep their names as views over the folded rows plus the unfolded deltas,
--    so every read is exact at once, without waiting for a fold, and no read changed.
--
-- What a row adds is decided when it is written, as the triggers did (the entry of an exit, its
-- time in segment, the drop-off check, the lead's channels at entry), by the same SQL moved into
-- `leadrouter_segment_deltas` and `leadrouter_stage_deltas`.

-- What membership changes and segment goals add to the segment rollups, one row per change or goal.
CREATE TABLE segment_rollup_deltas (
    lead_id        uuid NOT NULL,
    id             bigserial,
    segment        leadrouter_name NOT NULL,
    at             timestamptz NOT NULL,         -- the change's occurred_at; a goal's entered_at
    entries        smallint NOT NULL DEFAULT 0,
    exits_rule     smallint NOT NULL DEFAULT 0,
    exits_time     smallint NOT NULL DEFAULT 0,
    exits_merge    smallint NOT NULL DEFAULT 0,
    exits_ruleset  smallint NOT NULL DEFAULT 0,
    exits_erase    smallint NOT NULL DEFAULT 0,
    goal_reached   smallint NOT NULL DEFAULT 0,
    drop_offs      smallint NOT NULL DEFAULT 0,
    k              smallint,                     -- an exit's time-in-segment log bucket, when its entry is known
    channel_first  text,                         -- an entry's channels, when its lead row was found
    channel_last   text,
    PRIMARY KEY (lead_id, id)
);

-- What stage changes and stage goals add to the stage rollups.
CREATE TABLE stage_rollup_deltas (
    lead_id       uuid NOT NULL,
    id            bigserial,
    at            timestamptz NOT NULL,          -- the change's occurred_at; a goal's entered_at
    from_stage    text NOT NULL,
    to_stage      text NOT NULL,
    moves         smallint NOT NULL DEFAULT 0,
    goal_reached  smallint NOT NULL DEFAULT 0,
    k             smallint,                      -- time in from_stage, when its entry is known
    PRIMARY KEY (lead_id, id)
);

-- The triggers go; the functions they called go with them.
DROP TRIGGER membership_history_rollup ON membership_history;
DROP TRIGGER segment_goal_reached_rollup ON segment_goal_reached;
DROP TRIGGER stage_history_rollup ON stage_history;
DROP TRIGGER stage_goal_reached_rollup ON stage_goal_reached;
DROP TRIGGER segment_metrics_hourly_daily_insert ON segment_metrics_hourly;
DROP TRIGGER segment_metrics_hourly_daily_update ON segment_metrics_hourly;
DROP FUNCTION leadrouter_segment_rollup();
DROP FUNCTION leadrouter_segment_goal_rollup();
DROP FUNCTION leadrouter_stage_rollup();
DROP FUNCTION leadrouter_stage_goal_rollup();
DROP FUNCTION leadrouter_segment_daily_rollup();

-- The rollup tables hold the folded rows; their old names become the views below.
ALTER TABLE segment_metrics_hourly RENAME TO segment_metrics_hourly_folded;
ALTER TABLE segment_metrics_daily RENAME TO segment_metrics_daily_folded;
ALTER TABLE segment_stay_daily RENAME TO segment_stay_daily_folded;
ALTER TABLE segment_stay_monthly RENAME TO segment_stay_monthly_folded;
ALTER TABLE segment_entrant_channels_daily RENAME TO segment_entrant_channels_daily_folded;
ALTER TABLE stage_moves_hourly RENAME TO stage_moves_hourly_folded;
ALTER TABLE stage_moves_daily RENAME TO stage_moves_daily_folded;
ALTER TABLE stage_stay_daily RENAME TO stage_stay_daily_folded;
ALTER TABLE stage_stay_monthly RENAME TO stage_stay_monthly_folded;

-- Defines a delta function `p_name(p_rows <row type>[])` returning `p_returns` by `p_query`, a
-- query over `p_rows` (the rows a statement inserted) that filters every table it reads on
-- `= ANY (p_leads)`. On plain PostgreSQL the function runs the query once over all the rows
-- (static SQL: its plan is cached per connection, as the triggers' were). On a Citus coordinator
-- it runs it once per lead with that lead alone in `p_leads`, through EXECUTE … USING: Citus then
-- sees the lead's id as a constant and sends the whole query to the lead's shard (a router
-- query). With plpgsql's own parameters Citus cannot prune and refuses the lateral joins
-- ("complex joins are only supported when…"); a SQL function over distributed tables it refuses
-- outright ("could not create distributed plan"). The query text is written once, here.
CREATE FUNCTION pg_temp.leadrouter_define_delta_function(p_name text, p_row_type text, p_returns text, p_query text)
RETURNS void LANGUAGE plpgsql AS $define$
BEGIN
    EXECUTE format($f$
        CREATE FUNCTION %I(p_rows %I[]) RETURNS TABLE (%s) LANGUAGE plpgsql SET enable_seqscan = off AS $body$
        #variable_conflict use_column
        DECLARE
            p_leads uuid[];
        BEGIN
            IF NOT leadrouter_on_citus() THEN
                p_leads := ARRAY(SELECT DISTINCT n.lead_id FROM unnest(p_rows) n);
                RETURN QUERY %s;
                RETURN;
            END IF;
            FOR p_leads IN SELECT ARRAY[n.lead_id] FROM unnest(p_rows) n GROUP BY n.lead_id LOOP
                RETURN QUERY EXECUTE %L USING p_rows, p_leads;
            END LOOP;
        END $body$
        $f$, p_name, p_row_type, p_returns, p_query, replace(replace(p_query, 'p_rows', '$1'), 'p_leads', '$2'));
END $define$;

-- The deltas of the membership_history rows `p_rows` (as inserted: with their ids), as the
-- trigger of migrations 0021/0049 computed them. The caller's statement inserted the rows, and
-- this function (VOLATILE) sees them: an exit finds an entry of the same statement.
-- `enable_seqscan = off` and `segment || ''` for the reasons given in migration 0021.
SELECT pg_temp.leadrouter_define_delta_function('leadrouter_segment_deltas', 'membership_history',
    'lead_id uuid, segment text, at timestamptz, entries int, exits_rule int, exits_time int, exits_merge int, '
    'exits_ruleset int, exits_erase int, drop_offs int, k smallint, channel_first text, channel_last text', $q$
        WITH x AS (
            SELECT n.segment, n.occurred_at, n.change, n.lead_id,
                   CASE WHEN n.change = 'entered' THEN NULL
                        WHEN n.reason @> '{"erased": true}' THEN 'erase'
                        WHEN n.reason ? 'merged_into' THEN 'merge'
                        WHEN e.ruleset_version <> n.ruleset_version THEN 'ruleset'
                        WHEN n.event_id IS NULL THEN 'time'
                        ELSE 'rule' END AS why,
                   CASE WHEN e.occurred_at IS NOT NULL THEN
                        floor(4 * log(2, greatest(extract(epoch FROM n.occurred_at - e.occurred_at), 0)::numeric + 1))::smallint END AS k,
                   n.change = 'exited' AND NOT coalesce(n.reason ? 'merged_into', false) AND NOT EXISTS (
                        SELECT 1 FROM segment_goal_reached g
                        WHERE g.lead_id = n.lead_id AND g.lead_id = ANY (p_leads) AND g.segment = n.segment
                          AND g.entered_at <= n.occurred_at AND g.reached_at >= coalesce(e.occurred_at, '-infinity')) AS dropped
            FROM unnest(p_rows) n
            LEFT JOIN LATERAL (
                SELECT h.occurred_at, h.ruleset_version FROM membership_history h
                WHERE n.change = 'exited' AND h.lead_id = n.lead_id AND h.lead_id = ANY (p_leads) AND h.occurred_at <= n.occurred_at
                  AND h.segment || '' = n.segment AND h.change = 'entered'
                ORDER BY h.occurred_at DESC LIMIT 1) e ON true
            WHERE n.lead_id = ANY (p_leads)
        )
        SELECT x.lead_id, x.segment::text, x.occurred_at, (x.change = 'entered')::int, (x.why IS NOT DISTINCT FROM 'rule')::int,
               (x.why IS NOT DISTINCT FROM 'time')::int, (x.why IS NOT DISTINCT FROM 'merge')::int,
               (x.why IS NOT DISTINCT FROM 'ruleset')::int, (x.why IS NOT DISTINCT FROM 'erase')::int,
               x.dropped::int, x.k, c.first, c.last
        FROM x LEFT JOIN LATERAL (
            SELECT coalesce(l.source_first ->> 'channel', '(none)') AS first, coalesce(l.source_last ->> 'channel', '(none)') AS last
            FROM leads l WHERE x.change = 'entered' AND l.id = x.lead_id AND l.id = ANY (p_leads)) c ON true
    $q$);

-- The deltas of the stage_history rows `p_rows` (with their ids), as the trigger of 0048 computed
-- them: a move each, and the time in `from_stage` when the lead's previous row entered it.
SELECT pg_temp.leadrouter_define_delta_function('leadrouter_stage_deltas', 'stage_history',
    'lead_id uuid, at timestamptz, from_stage text, to_stage text, k smallint', $q$
        SELECT n.lead_id, n.occurred_at, n.from_stage, n.to_stage,
               CASE WHEN n.to_stage <> '' AND p.to_stage = n.from_stage THEN
                    floor(4 * log(2, greatest(extract(epoch FROM n.occurred_at - p.occurred_at), 0)::numeric + 1))::smallint END
        FROM unnest(p_rows) n
        LEFT JOIN LATERAL (
            SELECT h.occurred_at, h.to_stage FROM stage_history h
            WHERE n.from_stage <> '' AND h.lead_id = n.lead_id AND h.lead_id = ANY (p_leads) AND (h.occurred_at, h.id) < (n.occurred_at, n.id)
            ORDER BY h.occurred_at DESC, h.id DESC LIMIT 1) p ON true
        WHERE n.lead_id = ANY (p_leads)
    $q$);

-- Stage goals (not a rollup, but the statement before the stage goal deltas): for each goal that
-- held (`lead_id`, `stage`, `reached_at`, `within_ms`), the stay it belongs to — the lead's latest
-- entry of the stage at `reached_at` — when the goal held within the horizon; the earliest goal
-- of a (lead, stage) counts. Was a lateral `LIMIT 1` lookup in the INSERT itself, which Citus
-- refuses ("Limit clause is currently unsupported when a lateral subquery references a column
-- from complex subqueries"); defined as the delta functions are, so it is one router query per
-- lead there.
CREATE TYPE leadrouter_stage_goal_held AS (lead_id uuid, stage text, reached_at timestamptz, within_ms int8);
SELECT pg_temp.leadrouter_define_delta_function('leadrouter_stage_goal_entries', 'leadrouter_stage_goal_held',
    'lead_id uuid, stage text, entered_at timestamptz, from_stage text, reached_at timestamptz', $q$
        SELECT DISTINCT ON (n.lead_id, n.stage) n.lead_id, n.stage, h.occurred_at, h.from_stage, n.reached_at
        FROM unnest(p_rows) n
        CROSS JOIN LATERAL (
            SELECT h.occurred_at, h.from_stage FROM stage_history h
            WHERE h.lead_id = n.lead_id AND h.lead_id = ANY (p_leads) AND h.occurred_at <= n.reached_at AND h.to_stage = n.stage
            ORDER BY h.occurred_at DESC, h.id DESC LIMIT 1) h
        WHERE n.lead_id = ANY (p_leads) AND n.reached_at - h.occurred_at <= n.within_ms * interval '1 millisecond'
        ORDER BY n.lead_id, n.stage, n.reached_at
    $q$);

-- Rollups + unfolded deltas. Every reader sums these rows, so a (segment, bucket) present in
-- both parts counts once in total. Buckets as the triggers made them (UTC hour, day, month).
CREATE VIEW segment_metrics_hourly AS
SELECT segment, bucket, entries, exits_rule, exits_time, exits_merge, exits_ruleset, exits_erase, goal_reached, drop_offs
FROM segment_metrics_hourly_folded
UNION ALL
SELECT segment, date_bin('1 hour', at, timestamptz '2001-01-01 00:00:00Z'), entries, exits_rule, exits_time, exits_merge,
       exits_ruleset, exits_erase, goal_reached, drop_offs
FROM segment_rollup_deltas;

CREATE VIEW segment_metrics_daily AS
SELECT segment, bucket, entries, exits_rule, exits_time, exits_merge, exits_ruleset, exits_erase, goal_reached, drop_offs
FROM segment_metrics_daily_folded
UNION ALL
SELECT segment, date_bin('1 day', at, timestamptz '2001-01-01 00:00:00Z'), entries, exits_rule, exits_time, exits_merge,
       exits_ruleset, exits_erase, goal_reached, drop_offs
FROM segment_rollup_deltas;

CREATE VIEW segment_stay_daily AS
SELECT segment, bucket, k, exits FROM segment_stay_daily_folded
UNION ALL
SELECT segment, date_bin('1 day', at, timestamptz '2001-01-01 00:00:00Z'), k, 1 FROM segment_rollup_deltas WHERE k IS NOT NULL;

CREATE VIEW segment_stay_monthly AS
SELECT segment, bucket, k, exits FROM segment_stay_monthly_folded
UNION ALL
SELECT segment, date_trunc('month', at, 'UTC'), k, 1 FROM segment_rollup_deltas WHERE k IS NOT NULL;

CREATE VIEW segment_entrant_channels_daily AS
SELECT segment, bucket, touch, channel, entrants FROM segment_entrant_channels_daily_folded
UNION ALL
SELECT segment, date_bin('1 day', at, timestamptz '2001-01-01 00:00:00Z'), 'first', channel_first, 1
FROM segment_rollup_deltas WHERE channel_first IS NOT NULL
UNION ALL
SELECT segment, date_bin('1 day', at, timestamptz '2001-01-01 00:00:00Z'), 'last', channel_last, 1
FROM segment_rollup_deltas WHERE channel_last IS NOT NULL;

CREATE VIEW stage_moves_hourly AS
SELECT bucket, from_stage, to_stage, moves, goal_reached FROM stage_moves_hourly_folded
UNION ALL
SELECT date_bin('1 hour', at, timestamptz '2001-01-01 00:00:00Z'), from_stage, to_stage, moves, goal_reached FROM stage_rollup_deltas;

CREATE VIEW stage_moves_daily AS
SELECT bucket, from_stage, to_stage, moves, goal_reached FROM stage_moves_daily_folded
UNION ALL
SELECT date_bin('1 day', at, timestamptz '2001-01-01 00:00:00Z'), from_stage, to_stage, moves, goal_reached FROM stage_rollup_deltas;

CREATE VIEW stage_stay_daily AS
SELECT bucket, stage, k, exits FROM stage_stay_daily_folded
UNION ALL
SELECT date_bin('1 day', at, timestamptz '2001-01-01 00:00:00Z'), from_stage, k, 1 FROM stage_rollup_deltas WHERE k IS NOT NULL;

CREATE VIEW stage_stay_monthly AS
SELECT bucket, stage, k, exits FROM stage_stay_monthly_folded
UNION ALL
SELECT date_trunc('month', at, 'UTC'), from_stage, k, 1 FROM stage_rollup_deltas WHERE k IS NOT NULL;

-- Folds every delta committed so far into the rollup tables and deletes it, in ONE statement
-- (so in one transaction whatever the caller does): a delta is counted exactly when it is
-- deleted, and a row another fold deleted first is skipped by this one (its DELETE finds it
-- gone), so two folds can never count a row twice, and a crash rolls back both halves. The
-- caller holds the fold's advisory lock, so folds do not queue behind each other's row locks.
-- Returns how many delta rows were folded (segment + stage).
CREATE FUNCTION leadrouter_fold_rollup_deltas() RETURNS bigint LANGUAGE sql AS $$
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
