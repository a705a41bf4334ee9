-- The dashboard's login cookies (issue 15) are signed with HMAC-SHA256 under this secret, shared
-- by every node and kept across restarts: a cookie set by one node is valid on all of them, and a
-- restart no longer logs everyone out. One row, created by the first node that starts
-- (INSERT … ON CONFLICT DO NOTHING with 32 random bytes), read by every node at start.
-- Rotating it (logging everyone out): DELETE FROM dashboard_session_secret, then restart the nodes.
CREATE TABLE dashboard_session_secret (
    id          smallint    PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    secret      bytea       NOT NULL CHECK (octet_length(secret) >= 32),
    created_at  timestamptz NOT NULL DEFAULT now()
);
