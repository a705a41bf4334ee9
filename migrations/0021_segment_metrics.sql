-- Issue 15: segment metrics and goal conversion (docs/insight.md). Hourly rollups of membership_history, kept by a
-- statement trigger in the transaction that writes the history: they commit (or roll back) with
-- the rows they count, so a rollup never lags, double-counts or misses a row, and a year of
-- metrics is a read of at most 8 784 rows per segment whatever the history holds. Retention may
-- prune membership_history; the rollups stay.

-- Entries and exits per segment and hour, exits by reason.
CREATE TABLE segment_metrics_hourly (
    segment        leadrouter_name NOT NULL,
    bucket         timestamptz NOT NULL,             -- the UTC hour the changes happened in
    entries        integer NOT NULL DEFAULT 0,
    exits_rule     integer NOT NULL DEFAULT 0,       -- an event made the lead leave
    exits_time     integer NOT NULL DEFAULT 0,       -- time passed (the sweeper, no event)
    exits_merge    integer NOT NULL DEFAULT 0,       -- the lead was merged into one already a member
    exits_ruleset  integer NOT NULL DEFAULT 0,       -- decided by another ruleset version than the entry
    exits_erase    integer NOT NULL DEFAULT 0,       -- the person was erased
    goal_reached   integer NOT NULL DEFAULT 0,       -- entrants of this hour that reached the goal in time
    drop_offs      integer NOT NULL DEFAULT 0,       -- exits of this hour without the goal reached
    PRIMARY KEY (segment, bucket)
);

-- Time in segment of the exits of each UTC day, as a histogram of fixed log buckets:
-- k = floor(4 · log2(seconds + 1)), so bucket k holds [2^(k/4) − 1, 2^((k+1)/4) − 1) seconds.
-- Daily, not hourly: the answer gives time in segment for the whole range, and a year of hourly
-- histograms was 30 rows per hour to add up (1.4 s per request in the benchmark).
CREATE TABLE segment_stay_daily (
    segment  leadrouter_name NOT NULL,
    bucket   timestamptz NOT NULL,                   -- the UTC day
    k        smallint NOT NULL,
    exits    integer NOT NULL,
    PRIMARY KEY (segment, bucket, k)
);

-- Entrants of each UTC day by the lead's first- and last-touch channel when it entered (daily
-- for the same reason).
CREATE TABLE segment_entrant_channels_daily (
    segment   leadrouter_name NOT NULL,
    bucket    timestamptz NOT NULL,                  -- the UTC day
    touch     text NOT NULL CHECK (touch IN ('first', 'last')),
    channel   text NOT NULL,                         -- '(none)' for a lead without that touch
    entrants  integer NOT NULL,
    PRIMARY KEY (segment, bucket, touch, channel)
);

-- A membership whose segment goal held within its horizon: the first time counts (ingest, the
-- sweeper and CRM status changes insert with ON CONFLICT DO NOTHING while the goal holds).
-- `entered_at` is the membership's entry, the same instant as its `membership_history` entry row.
CREATE TABLE segment_goal_reached (
    lead_id     uuid NOT NULL,
    segment     leadrouter_name NOT NULL,
    entered_at  timestamptz NOT NULL,
    reached_at  timestamptz NOT NULL,
    PRIMARY KEY (lead_id, segment, entered_at)
);

-- Conversions are counted in the hour their entrants entered (a cohort: `goal_reached` of a
-- step over its `entries`); drop-offs in the hour of the exit (left without reaching the goal).
CREATE FUNCTION leadrouter_segment_goal_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO segment_metrics_hourly AS m (segment, bucket, goal_reached)
    SELECT segment, date_trunc('hour', entered_at, 'UTC'), count(*) FROM new_rows GROUP BY 1, 2
    ON CONFLICT (segment, bucket) DO UPDATE SET goal_reached = m.goal_reached + excluded.goal_reached;
    RETURN NULL;
END $$;

CREATE TRIGGER segment_goal_reached_rollup AFTER INSERT ON segment_goal_reached
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION leadrouter_segment_goal_rollup();

-- One set-based pass over the rows one INSERT added (a lane batch, a sweep, an erasure, a merge).
-- An exit's entry is its lead's latest earlier entry of the segment (membership_history_lead_time_idx).
-- The entry lookup compares `segment || ''` so that only the lead's index can serve it: with
-- stale statistics the planner ANDed in membership_history_segment_time_idx, reading every
-- entry of the segment before the exit (9 ms per exit instead of 10 µs, EXPLAIN ANALYZE).
-- `enable_seqscan = off` for the function: its plan is cached per connection, and one made while
-- membership_history was small (a new install, before autovacuum analysed it) would scan the
-- whole table for every exit for the life of the connection; the lookups must be index probes.
-- Drop-offs: exits (merges aside: the membership lives on in the survivor) whose stay reached no goal;
-- a goal row of the lead and segment reached since the paired entry counts (after a merge the
-- membership's entry may be the other lead's).
CREATE FUNCTION leadrouter_segment_rollup() RETURNS trigger LANGUAGE plpgsql SET enable_seqscan = off AS $$
BEGIN
    WITH x AS (
        SELECT n.segment, date_trunc('hour', n.occurred_at, 'UTC') AS bucket, n.change, n.lead_id,
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
                    WHERE g.lead_id = n.lead_id AND g.segment = n.segment AND g.entered_at <= n.occurred_at
                      AND g.reached_at >= coalesce(e.occurred_at, '-infinity')) AS dropped
        FROM new_rows n
        LEFT JOIN LATERAL (
            SELECT h.occurred_at, h.ruleset_version FROM membership_history h
            WHERE n.change = 'exited' AND h.lead_id = n.lead_id AND h.occurred_at <= n.occurred_at
              AND h.segment || '' = n.segment AND h.change = 'entered'
            ORDER BY h.occurred_at DESC LIMIT 1) e ON true
    ), counts AS (
        INSERT INTO segment_metrics_hourly AS m (segment, bucket, entries, exits_rule, exits_time, exits_merge, exits_ruleset, exits_erase, drop_offs)
        SELECT segment, bucket, count(*) FILTER (WHERE change = 'entered'), count(*) FILTER (WHERE why = 'rule'),
               count(*) FILTER (WHERE why = 'time'), count(*) FILTER (WHERE why = 'merge'),
               count(*) FILTER (WHERE why = 'ruleset'), count(*) FILTER (WHERE why = 'erase'), count(*) FILTER (WHERE dropped)
        FROM x GROUP BY segment, bucket
        ON CONFLICT (segment, bucket) DO UPDATE SET
            entries = m.entries + excluded.entries, exits_rule = m.exits_rule + excluded.exits_rule,
            exits_time = m.exits_time + excluded.exits_time, exits_merge = m.exits_merge + excluded.exits_merge,
            exits_ruleset = m.exits_ruleset + excluded.exits_ruleset, exits_erase = m.exits_erase + excluded.exits_erase,
            drop_offs = m.drop_offs + excluded.drop_offs
    ), stays AS (
        INSERT INTO segment_stay_daily AS s (segment, bucket, k, exits)
        SELECT segment, date_trunc('day', bucket, 'UTC'), k, count(*) FROM x WHERE k IS NOT NULL GROUP BY 1, 2, 3
        ON CONFLICT (segment, bucket, k) DO UPDATE SET exits = s.exits + excluded.exits
    )
    INSERT INTO segment_entrant_channels_daily AS c (segment, bucket, touch, channel, entrants)
    SELECT x.segment, date_trunc('day', x.bucket, 'UTC'), t.touch, coalesce(t.channel, '(none)'), count(*)
    FROM x JOIN leads l ON l.id = x.lead_id
    CROSS JOIN LATERAL (VALUES ('first', l.source_first ->> 'channel'), ('last', l.source_last ->> 'channel')) AS t(touch, channel)
    WHERE x.change = 'entered'
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (segment, bucket, touch, channel) DO UPDATE SET entrants = c.entrants + excluded.entrants;
    RETURN NULL;
END $$;

CREATE TRIGGER membership_history_rollup AFTER INSERT ON membership_history
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION leadrouter_segment_rollup();

-- History stored before: entries and exits (an exit with an event by rule, without by time).
INSERT INTO segment_metrics_hourly (segment, bucket, entries, exits_rule, exits_time, exits_erase)
SELECT segment, date_trunc('hour', occurred_at, 'UTC'), count(*) FILTER (WHERE change = 'entered'),
       count(*) FILTER (WHERE change = 'exited' AND event_id IS NOT NULL),
       count(*) FILTER (WHERE change = 'exited' AND event_id IS NULL AND NOT coalesce(reason @> '{"erased": true}', false)),
       count(*) FILTER (WHERE change = 'exited' AND event_id IS NULL AND coalesce(reason @> '{"erased": true}', false))
FROM membership_history GROUP BY 1, 2;
