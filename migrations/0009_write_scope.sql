-- Scope `write` (CRM changes: PATCH /v1/leads/{id}), so that a `read` key can no longer change
-- a lead. `admin` implies it, as it implies every scope. Existing keys are not widened: a CRM
-- integration that sets statuses needs a key with `write` (e.g. `--scopes read,write`).
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check
    CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['ingest', 'read', 'write', 'queue', 'admin']);
