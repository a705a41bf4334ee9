-- Issue 15 follow-up (docs/insight.md): daily sums of segment_metrics_hourly. A year at
-- interval=day or week summed 8 784 hourly rows per request (25–30 ms of PostgreSQL time per
-- request at load 8, most of the metrics read); the daily rows make it 366. Kept by statement
-- triggers on the hourly table itself, so the rollup trigger of migration 0021 stays as it is
-- and the daily row commits (or rolls back) with the hourly rows it sums.
CREATE TABLE segment_metrics_daily (
    segment        leadrouter_name NOT NULL,
    bucket         timestamptz NOT NULL,             -- the UTC day
    entries        integer NOT NULL DEFAULT 0,
    exits_rule     integer NOT NULL DEFAULT 0,
    exits_time     integer NOT NULL DEFAULT 0,
    exits_merge    integer NOT NULL DEFAULT 0,
    exits_ruleset  integer NOT NULL DEFAULT 0,
    exits_erase    integer NOT NULL DEFAULT 0,
    goal_reached   integer NOT NULL DEFAULT 0,
    drop_offs      integer NOT NULL DEFAULT 0,
    PRIMARY KEY (segment, bucket)
);

-- Adds what one statement changed in segment_metrics_hourly: inserted rows whole, updated rows
-- as new minus old. An INSERT … ON CONFLICT DO UPDATE fires both triggers, each with its own rows.
-- date_bin, not date_trunc(…, 'UTC'): plain arithmetic, no time zone lookup per row.
CREATE FUNCTION leadrouter_segment_daily_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO segment_metrics_daily AS d (segment, bucket, entries, exits_rule, exits_time, exits_merge, exits_ruleset, exits_erase, goal_reached, drop_offs)
        SELECT segment, date_bin('1 day', bucket, timestamptz '2001-01-01 00:00:00Z'), sum(entries), sum(exits_rule), sum(exits_time),
               sum(exits_merge), sum(exits_ruleset), sum(exits_erase), sum(goal_reached), sum(drop_offs)
        FROM new_rows GROUP BY 1, 2
        ON CONFLICT (segment, bucket) DO UPDATE SET
            entries = d.entries + excluded.entries, exits_rule = d.exits_rule + excluded.exits_rule,
            exits_time = d.exits_time + excluded.exits_time, exits_merge = d.exits_merge + excluded.exits_merge,
            exits_ruleset = d.exits_ruleset + excluded.exits_ruleset, exits_erase = d.exits_erase + excluded.exits_erase,
            goal_reached = d.goal_reached + excluded.goal_reached, drop_offs = d.drop_offs + excluded.drop_offs;
    ELSE
        INSERT INTO segment_metrics_daily AS d (segment, bucket, entries, exits_rule, exits_time, exits_merge, exits_ruleset, exits_erase, goal_reached, drop_offs)
        SELECT n.segment, date_bin('1 day', n.bucket, timestamptz '2001-01-01 00:00:00Z'), sum(n.entries - o.entries),
               sum(n.exits_rule - o.exits_rule), sum(n.exits_time - o.exits_time), sum(n.exits_merge - o.exits_merge),
               sum(n.exits_ruleset - o.exits_ruleset), sum(n.exits_erase - o.exits_erase),
               sum(n.goal_reached - o.goal_reached), sum(n.drop_offs - o.drop_offs)
        FROM new_rows n JOIN old_rows o USING (segment, bucket) GROUP BY 1, 2
        ON CONFLICT (segment, bucket) DO UPDATE SET
            entries = d.entries + excluded.entries, exits_rule = d.exits_rule + excluded.exits_rule,
            exits_time = d.exits_time + excluded.exits_time, exits_merge = d.exits_merge + excluded.exits_merge,
            exits_ruleset = d.exits_ruleset + excluded.exits_ruleset, exits_erase = d.exits_erase + excluded.exits_erase,
            goal_reached = d.goal_reached + excluded.goal_reached, drop_offs = d.drop_offs + excluded.drop_offs;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER segment_metrics_hourly_daily_insert AFTER INSERT ON segment_metrics_hourly
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION leadrouter_segment_daily_rollup();
CREATE TRIGGER segment_metrics_hourly_daily_update AFTER UPDATE ON segment_metrics_hourly
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION leadrouter_segment_daily_rollup();

-- The hours kept before.
INSERT INTO segment_metrics_daily (segment, bucket, entries, exits_rule, exits_time, exits_merge, exits_ruleset, exits_erase, goal_reached, drop_offs)
SELECT segment, date_bin('1 day', bucket, timestamptz '2001-01-01 00:00:00Z'), sum(entries), sum(exits_rule), sum(exits_time),
       sum(exits_merge), sum(exits_ruleset), sum(exits_erase), sum(goal_reached), sum(drop_offs)
FROM segment_metrics_hourly GROUP BY 1, 2;
