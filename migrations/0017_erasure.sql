-- Erasure (issue 17): DELETE /v1/leads/{id} and `leadrouter leads erase` remove a person's data
-- in one transaction and leave a tombstone; their identities can be suppressed so that new
-- messages for them are dropped instead of re-creating the person (Segment's "suppress with
-- delete").

-- The tombstone: one row per erased lead row (the live lead and every lead merged into it share
-- an erasure id), so GET /v1/leads/{id} answers 410 for any of their ids. `counts` says how many
-- rows of each kind were erased or redacted, for audits and so that reports can explain why
-- totals moved; it holds numbers only, never a value.
CREATE TABLE erased_leads (
    lead_id      uuid        PRIMARY KEY REFERENCES leads (id),
    erasure_id   uuid        NOT NULL,           -- the request that erased it (same for a merged group)
    live_lead_id uuid        NOT NULL,           -- the lead the group answered as
    erased_at    timestamptz NOT NULL,
    suppressed   boolean     NOT NULL,           -- identities went to suppressed_identities
    counts       jsonb       NOT NULL DEFAULT '{}'
);
-- Audits by request.
CREATE INDEX erased_leads_erasure_idx ON erased_leads (erasure_id);

-- Suppressed identities: SHA-256 of '<kind>:<value>' (the normalised value ingest resolves with),
-- never the value itself. Ingest looks every message's keys up here in its first round trip and
-- drops a message that carries one; `dropped` counts them.
CREATE TABLE suppressed_identities (
    hash             bytea       PRIMARY KEY CHECK (length(hash) = 32),
    kind             text        NOT NULL CHECK (kind IN ('email', 'user_id', 'anonymous_id')),
    erasure_id       uuid,                        -- NULL when added by hand
    created_at       timestamptz NOT NULL DEFAULT now(),
    dropped          bigint      NOT NULL DEFAULT 0 CHECK (dropped >= 0),
    last_dropped_at  timestamptz
);

-- The hash ingest and erasure agree on (one definition, used by both through SQL).
CREATE FUNCTION leadrouter_identity_hash(kind text, value text) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN sha256(convert_to(kind || ':' || value, 'UTF8'));
