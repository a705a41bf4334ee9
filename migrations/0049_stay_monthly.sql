-- Issue 15, the metrics read target (docs/insight.md, docs/benchmarks/insight.md): time in
-- segment per UTC month. A year of stays summed 366 days × ~30 log buckets per segment (11 000
-- rows, the largest read of a year's metrics); whole months make it 12 × 30, and only the days of
-- the range's partial first and last months come from segment_stay_daily.
CREATE TABLE segment_stay_monthly (LIKE segment_stay_daily INCLUDING ALL);

-- The rollup function of migration 0021, unchanged but for `monthly_stays`: the month's row is
-- written by the same statement as the day's, so both commit with the history they count.
CREATE OR REPLACE FUNCTION leadrouter_segment_rollup() RETURNS trigger LANGUAGE plpgsql SET enable_seqscan = off AS $$
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
    ), monthly_stays AS (
        INSERT INTO segment_stay_monthly AS s (segment, bucket, k, exits)
        SELECT segment, date_trunc('month', bucket, 'UTC'), k, count(*) FROM x WHERE k IS NOT NULL GROUP BY 1, 2, 3
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

-- The stays kept before.
INSERT INTO segment_stay_monthly (segment, bucket, k, exits)
SELECT segment, date_trunc('month', bucket, 'UTC'), k, sum(exits) FROM segment_stay_daily GROUP BY 1, 2, 3;
