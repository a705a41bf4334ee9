-- Issue 15: the stage funnel (GET /v1/stages/metrics, docs/insight.md). Every change of a lead's
-- stage, at the engine's `now`, written by the transaction that stores the decision (ingest, the
-- sweeper, CRM status changes, merges, erasure), and hourly/daily rollups of it kept by statement
-- triggers, as segment metrics are (migrations 0021, 0022): they commit with the rows they count.
-- History starts here: a stage a lead held before this migration has no entry row, so its stay
-- is not measured and it cannot convert to the stage's goal (its exit is counted).

-- One row per change of `leads.stage`. '' stands for "no stage": a new lead's first stage comes
-- from '', a merged or erased lead's last one goes to ''. Not moved by a merge: a lead's rows stay
-- one unbroken sequence, so a stay is the time between a row and the lead's previous one.
CREATE TABLE stage_history (
    id               bigserial,
    lead_id          uuid NOT NULL,
    from_stage       text NOT NULL,
    to_stage         text NOT NULL,
    reason           text NOT NULL CHECK (reason IN ('event', 'time_based', 'crm', 'ruleset_change', 'merge', 'erase')),
    ruleset_version  integer NOT NULL,
    event_id         uuid,                 -- the event evaluated, NULL otherwise
    occurred_at      timestamptz NOT NULL, -- the engine's `now` of the decision
    PRIMARY KEY (lead_id, id),
    CHECK (from_stage <> to_stage)
);
-- A lead's previous row (stays) and its latest entry of a stage (goals).
CREATE INDEX stage_history_lead_time_idx ON stage_history (lead_id, occurred_at, id);

-- Moves between stages per UTC hour and per UTC day, by (from, to): entries, moves to the next or
-- any later stage and exits are all sums of these, taken at read time in the funnel order of the
-- active ruleset, so a ruleset that reorders or renames stages does not invalidate the rollups.
-- `goal_reached` counts, in the row of their entry (hour of the entry, the stage they came from),
-- entrants of `to_stage` that reached its goal within the horizon.
CREATE TABLE stage_moves_hourly (
    bucket        timestamptz NOT NULL,
    from_stage    text NOT NULL,
    to_stage      text NOT NULL,
    moves         integer NOT NULL DEFAULT 0,
    goal_reached  integer NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, from_stage, to_stage)
);
CREATE TABLE stage_moves_daily (LIKE stage_moves_hourly INCLUDING ALL);

-- Time in stage of the departures of each UTC day to another stage, in the log buckets of
-- segment_stay_daily (k = floor(4 · log2(seconds + 1)), StayHistogram).
CREATE TABLE stage_stay_daily (
    bucket  timestamptz NOT NULL,
    stage   text NOT NULL,
    k       smallint NOT NULL,
    exits   integer NOT NULL,
    PRIMARY KEY (bucket, stage, k)
);

-- The same per UTC month (date_trunc('month', …, 'UTC')): a year of stays is 12 rows per bucket
-- instead of 366; the days of a range's partial first and last months come from the daily table.
CREATE TABLE stage_stay_monthly (LIKE stage_stay_daily INCLUDING ALL);

-- A stay whose stage goal held within its horizon of the entry (the first time counts).
CREATE TABLE stage_goal_reached (
    lead_id     uuid NOT NULL,
    stage       text NOT NULL,
    entered_at  timestamptz NOT NULL,
    from_stage  text NOT NULL,           -- where the entry came from: the rollup row it is counted in
    reached_at  timestamptz NOT NULL,
    PRIMARY KEY (lead_id, stage, entered_at)
);

-- One set-based pass over the rows a statement added. A stay is measured when a lead moves from a
-- stage to another and its previous row entered that stage (a stay begun before 0048 is not).
-- `enable_seqscan = off`: the plan is cached per connection; the lookups must be index probes
-- whatever the statistics said when it was made (as leadrouter_segment_rollup, 0021).
CREATE FUNCTION leadrouter_stage_rollup() RETURNS trigger LANGUAGE plpgsql SET enable_seqscan = off AS $$
BEGIN
    WITH x AS (
        SELECT n.from_stage, n.to_stage, date_bin('1 hour', n.occurred_at, timestamptz '2001-01-01 00:00:00Z') AS hour,
               CASE WHEN n.to_stage <> '' AND p.to_stage = n.from_stage THEN
                    floor(4 * log(2, greatest(extract(epoch FROM n.occurred_at - p.occurred_at), 0)::numeric + 1))::smallint END AS k
        FROM new_rows n
        LEFT JOIN LATERAL (
            SELECT h.occurred_at, h.to_stage FROM stage_history h
            WHERE n.from_stage <> '' AND h.lead_id = n.lead_id AND (h.occurred_at, h.id) < (n.occurred_at, n.id)
            ORDER BY h.occurred_at DESC, h.id DESC LIMIT 1) p ON true
    ), hourly AS (
        INSERT INTO stage_moves_hourly AS m (bucket, from_stage, to_stage, moves)
        SELECT hour, from_stage, to_stage, count(*) FROM x GROUP BY 1, 2, 3
        ON CONFLICT (bucket, from_stage, to_stage) DO UPDATE SET moves = m.moves + excluded.moves
    ), daily AS (
        INSERT INTO stage_moves_daily AS m (bucket, from_stage, to_stage, moves)
        SELECT date_bin('1 day', hour, timestamptz '2001-01-01 00:00:00Z'), from_stage, to_stage, count(*) FROM x GROUP BY 1, 2, 3
        ON CONFLICT (bucket, from_stage, to_stage) DO UPDATE SET moves = m.moves + excluded.moves
    ), stays AS (
        INSERT INTO stage_stay_daily AS s (bucket, stage, k, exits)
        SELECT date_bin('1 day', hour, timestamptz '2001-01-01 00:00:00Z'), from_stage, k, count(*) FROM x WHERE k IS NOT NULL GROUP BY 1, 2, 3
        ON CONFLICT (bucket, stage, k) DO UPDATE SET exits = s.exits + excluded.exits
    )
    INSERT INTO stage_stay_monthly AS s (bucket, stage, k, exits)
    SELECT date_trunc('month', hour, 'UTC'), from_stage, k, count(*) FROM x WHERE k IS NOT NULL GROUP BY 1, 2, 3
    ON CONFLICT (bucket, stage, k) DO UPDATE SET exits = s.exits + excluded.exits;
    RETURN NULL;
END $$;

CREATE TRIGGER stage_history_rollup AFTER INSERT ON stage_history
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION leadrouter_stage_rollup();

-- Conversions in the hour and day of their entry, on the row of the move that made it.
CREATE FUNCTION leadrouter_stage_goal_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH hourly AS (
        INSERT INTO stage_moves_hourly AS m (bucket, from_stage, to_stage, goal_reached)
        SELECT date_bin('1 hour', entered_at, timestamptz '2001-01-01 00:00:00Z'), from_stage, stage, count(*) FROM new_rows GROUP BY 1, 2, 3
        ON CONFLICT (bucket, from_stage, to_stage) DO UPDATE SET goal_reached = m.goal_reached + excluded.goal_reached
    )
    INSERT INTO stage_moves_daily AS m (bucket, from_stage, to_stage, goal_reached)
    SELECT date_bin('1 day', entered_at, timestamptz '2001-01-01 00:00:00Z'), from_stage, stage, count(*) FROM new_rows GROUP BY 1, 2, 3
    ON CONFLICT (bucket, from_stage, to_stage) DO UPDATE SET goal_reached = m.goal_reached + excluded.goal_reached;
    RETURN NULL;
END $$;

CREATE TRIGGER stage_goal_reached_rollup AFTER INSERT ON stage_goal_reached
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION leadrouter_stage_goal_rollup();
