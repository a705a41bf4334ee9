-- Issue 16: background jobs (first kind: a ruleset backtest), run by one node each, polled through
-- GET /v1/jobs/{id}. A job a node stopped running (its heartbeat older than a minute) is marked
-- failed by any other node; it is not resumed (docs/rulesets.md#backtest).
CREATE TABLE jobs (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind              text NOT NULL CHECK (kind IN ('backtest')),
    status            text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    params            jsonb NOT NULL,
    progress          double precision NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
    result            jsonb,
    error             text,
    created_by        text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    started_at        timestamptz,
    heartbeat_at      timestamptz,
    finished_at       timestamptz,
    cancel_requested  boolean NOT NULL DEFAULT false
);
-- The runners' lookup: the oldest queued job.
CREATE INDEX jobs_queued_idx ON jobs (created_at) WHERE status = 'queued';
-- The activation guard: the last finished backtest of a version.
CREATE INDEX jobs_backtest_version_idx ON jobs (((params->>'version')::integer), finished_at DESC)
    WHERE kind = 'backtest' AND status = 'done';
