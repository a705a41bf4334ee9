-- Key lifecycle (list, revoke, rotate), public write keys and owner-bound queue keys.
--
-- `public`: a browser/app write key. It carries only `ingest` and may call the Segment-compatible
-- endpoints only (enforced by the API; the CHECK keeps the stored scopes honest).
-- `owner_id`: the key claims, acks and releases queue items only as this owner. Not a foreign key:
-- owners come from the ruleset's teams and a key may be made before the service first starts.
-- An owner-bound key cannot be `admin` (it could mint itself an unbound key).
-- `expires_at`: set on the old key by a rotation (its grace period); the key stops working then.
-- `rotated_from`: the key a rotation replaced, for the audit trail.
ALTER TABLE api_keys
    ADD COLUMN public       boolean NOT NULL DEFAULT false,
    ADD COLUMN owner_id     text CHECK (owner_id IS NULL OR owner_id ~ '^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$'),
    ADD COLUMN expires_at   timestamptz,
    ADD COLUMN rotated_from uuid REFERENCES api_keys (id);

ALTER TABLE api_keys ADD CONSTRAINT api_keys_public_ingest_only
    CHECK (NOT public OR (scopes = ARRAY['ingest'] AND signing_secret IS NULL));
ALTER TABLE api_keys ADD CONSTRAINT api_keys_owner_not_admin
    CHECK (owner_id IS NULL OR NOT ('admin' = ANY (scopes)));
