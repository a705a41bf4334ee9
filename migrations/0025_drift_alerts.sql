-- drift.detected (issue 15): which drift alerts were announced, so each is sent once while its
-- condition lasts and again only after it cleared. Written by one node at a time (the drift
-- check takes a transaction advisory lock). id is the alert's `kind:subject:window`.
CREATE TABLE drift_alerts (
    id              text        PRIMARY KEY CHECK (octet_length(id) <= 600),
    first_detected  timestamptz NOT NULL,   -- when this occurrence was first seen (announced)
    last_detected   timestamptz NOT NULL,
    resolved_at     timestamptz             -- set when a check no longer finds it
);
