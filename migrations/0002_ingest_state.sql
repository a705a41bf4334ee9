-- Ingest (issue 5): what the segmentation engine's lead state needs beyond schema v1, so a lead
-- round-trips through its row exactly (one read, one write per event).

-- When the status last changed (a later CRM/event status only wins if it is newer) and the
-- per-rule score parts (caps apply per rule); the entry time of each current membership
-- (membership.age), keyed by segment name, as ISO timestamps.
ALTER TABLE leads
    ADD COLUMN status_at        timestamptz,
    ADD COLUMN score_parts      jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN segment_entered  jsonb NOT NULL DEFAULT '{}';

-- POST /v1/events: optional per-key HMAC-SHA256 check of X-Leadrouter-Signature.
ALTER TABLE api_keys
    ADD COLUMN signing_secret   text;

-- GET /v1/leads/{id}/decisions pages newest first with an (evaluated_at, id) cursor.
CREATE INDEX decisions_lead_time_id_idx ON decisions (lead_id, evaluated_at DESC, id DESC);
