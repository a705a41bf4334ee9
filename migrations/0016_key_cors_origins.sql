-- Per-key CORS origins: the browser origins allowed to send with this key, replacing the global
-- default `ingest.cors_allowed_origins` for it. NULL: the key follows the default. '{*}': any
-- origin. Otherwise exact lower-case origins (`https://shop.example.com`); the API and the CLI
-- check the shape before storing.
ALTER TABLE api_keys ADD COLUMN cors_allowed_origins text[];

ALTER TABLE api_keys ADD CONSTRAINT api_keys_cors_allowed_origins_bounded
    CHECK (cors_allowed_origins IS NULL OR cardinality(cors_allowed_origins) <= 100);
