-- Lead rows the service cannot decode (a BC timestamp stored before input validation existed,
-- a row corrupted by hand) are quarantined instead of failing every request and sweep that reads
-- them: one row per lead, upserted each time a decode fails. `reason` is the decoder's message
-- (column and kind of failure, never the value). The lead's next_evaluation_at is cleared when it
-- is quarantined so the sweeper stops picking it; releasing it (DELETE /v1/quarantine/{id})
-- deletes the row and schedules the lead for evaluation again.
CREATE TABLE quarantined_leads (
    lead_id     uuid        PRIMARY KEY REFERENCES leads (id) ON DELETE CASCADE,
    reason      text        NOT NULL CHECK (octet_length(reason) <= 1024),
    first_seen  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now(),
    attempts    bigint      NOT NULL DEFAULT 1 CHECK (attempts > 0)
);
