-- Drift (issue 15, GET /v1/drift): what ingest saw, per UTC hour. Each node counts in memory
-- and adds its counts here every few seconds with an upsert that adds, so the figures survive
-- restarts and are the sum over every node. kind is one of
--   event_type      messages per canonical event type (product_viewed, identify, …)
--   unmapped_event  messages whose name maps to no event type, by the name as sent
--   messages        every applied message (name 'all'): the denominator of the capture rates
--   capture         messages whose lead, after the message, holds a watched field
--                   (valid_email, known_source, country, company_domain)
-- and, for the data inventory (GET /v1/inventory):
--   leads           leads created (name 'all')
--   lead_field      leads gaining (+1) or losing (−1) a field: summed over all hours, how many leads have it
--   field_seen      messages that set or changed a field (first_seen/last_seen: when)
--   field_type      the same per JSON type of the new value (name 'field:type')
-- first_seen/last_seen bound the messages counted in the row (receipt times).
CREATE TABLE insight_counts (
    kind        text        NOT NULL,
    name        text        NOT NULL CHECK (octet_length(name) <= 512),
    hour        timestamptz NOT NULL,
    count       bigint      NOT NULL,   -- lead_field rows add deltas: −1 when a lead loses a field
    first_seen  timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL,
    PRIMARY KEY (kind, name, hour)
);
-- The drift report reads the last few weeks of every kind.
CREATE INDEX insight_counts_hour_idx ON insight_counts (hour, kind);
