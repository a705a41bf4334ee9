-- One sales-routed event, reduced to what matters for the team lock: a new lead, its routing
-- (leadrouter_route_to_queue → leadrouter_assign_owner), then SLEEP_MS of the rest of the
-- event's transaction (decision, outbox, …), then COMMIT. Used by scripts/bench-round-robin-locks.sh.
\set n random(1, 2000000000)
BEGIN;
INSERT INTO leads (id) VALUES (md5(:n || '-' || :client_id)::uuid) ON CONFLICT DO NOTHING;
SELECT leadrouter_route_to_queue(md5(:n || '-' || :client_id)::uuid, 'bench', 'decision.bench', 'inside', 50, NULL,
                                 NULL, NULL, NULL, now(), now());
SELECT pg_sleep(:sleep_ms / 1000.0);
COMMIT;
