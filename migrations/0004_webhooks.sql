-- Webhooks (issue 7): segment filters, subscriptions managed by the config file, a per-attempt
-- retry window, and the indexes the dispatcher and the delivery workers use.

-- Segment filter: NULL = every segment; otherwise segment.entered/exited match on the payload's
-- `segment`, lead.routed on its `primary_segment`; other topics are not segment-specific.
ALTER TABLE subscriptions ADD COLUMN segments text[] CHECK (segments IS NULL OR cardinality(segments) > 0);
-- Set for subscriptions declared in the service configuration (webhooks.subscriptions[].name):
-- they are upserted at start and deleted when they leave the file.
ALTER TABLE subscriptions ADD COLUMN config_name text;
CREATE UNIQUE INDEX subscriptions_config_name_idx ON subscriptions (config_name)
    WHERE config_name IS NOT NULL AND deleted_at IS NULL;

-- max age is measured from here; a manual retry or a replay starts a new window.
ALTER TABLE deliveries ADD COLUMN window_started_at timestamptz NOT NULL DEFAULT now();
-- GET /v1/deliveries?subscription=… (newest first).
CREATE INDEX deliveries_subscription_time_idx ON deliveries (subscription_id, status, id DESC);
-- Replay: outbox rows by time.
CREATE INDEX outbox_created_idx ON outbox (created_at, id);

-- Whether outbox message (topic, payload) is for subscription (topics, segments): used by the
-- dispatcher and by replay, so both select exactly the same messages.
CREATE FUNCTION webhook_matches(topics text[], segments text[], topic text, payload jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT topic = ANY (topics) AND (
        segments IS NULL
        OR topic NOT IN ('segment.entered', 'segment.exited', 'lead.routed')
        OR coalesce(payload ->> 'segment', payload ->> 'primary_segment') = ANY (segments))
$$;

-- Delivery workers lease the earliest due delivery: (next_attempt_at, id) in index order lets
-- `ORDER BY next_attempt_at, id LIMIT n` stop at the first eligible row instead of sorting every
-- due one (deliveries created by one dispatch share next_attempt_at).
DROP INDEX deliveries_due_idx;
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at, id) WHERE status = 'pending';
-- deliveries is a queue: rows change state several times each, and dead index entries in the
-- partial indexes slow every lease until vacuumed, so vacuum it early.
ALTER TABLE deliveries SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02,
                            autovacuum_vacuum_cost_delay = 0);
