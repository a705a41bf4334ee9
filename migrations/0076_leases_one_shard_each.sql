-- Leases and queue upkeep that Citus can run (issue 19, docs/scale-out.md#citus-what-it-cannot-run-as-it-was-and-the-design-for-both).
-- Citus locks rows (FOR UPDATE … SKIP LOCKED) only in a statement that reaches one shard, and
-- the delivery lease, the queue's expired leases and its SLA breaches each locked due rows of
-- many leads in one statement. As 0056 did for leads, each function below keeps that one
-- statement on plain PostgreSQL (same plan, same round trip) and on a Citus coordinator picks
-- the due rows without a lock, then takes each with a statement of its own that names its
-- lead_id (one shard) and re-checks that the row is still due: a row another node took
-- meanwhile no longer matches (the UPDATE waits for that node's transaction and then skips it).

-- Up to p_limit due deliveries leased for p_lease_seconds (an attempt each), with what sending
-- needs; never a delivery that has an earlier pending or in-flight one of the same subscription
-- and lead (per-lead order). Store.leaseDeliveries.
CREATE FUNCTION leadrouter_lease_deliveries(p_limit integer, p_lease_seconds double precision)
RETURNS TABLE (id bigint, subscription_id uuid, outbox_id bigint, lead_id uuid, attempts integer,
               window_started_at timestamptz, url text, secret text, max_attempts integer, topic text,
               payload text, created_at timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    due record;
BEGIN
    IF NOT leadrouter_on_citus() THEN
        RETURN QUERY
            WITH due AS (
                SELECT d.id FROM deliveries d
                JOIN subscriptions s ON s.id = d.subscription_id AND s.active AND s.deleted_at IS NULL
                WHERE d.status = 'pending' AND d.next_attempt_at <= now()
                  AND NOT EXISTS (SELECT 1 FROM deliveries e
                                  WHERE e.subscription_id = d.subscription_id AND e.lead_id = d.lead_id
                                    AND e.outbox_id < d.outbox_id AND e.status IN ('pending', 'in_flight'))
                ORDER BY d.next_attempt_at, d.id LIMIT p_limit
                FOR UPDATE OF d SKIP LOCKED
            )
            UPDATE deliveries d SET status = 'in_flight', attempts = d.attempts + 1,
                                    lease_until = now() + make_interval(secs => p_lease_seconds)
            FROM due, subscriptions s, outbox o
            WHERE d.id = due.id AND s.id = d.subscription_id AND o.id = d.outbox_id AND o.lead_id = d.lead_id
            RETURNING d.id, d.subscription_id, d.outbox_id, d.lead_id, d.attempts, d.window_started_at,
                      s.url, s.secret, s.max_attempts, o.topic, o.payload::text, o.created_at;
        RETURN;
    END IF;
    FOR due IN SELECT d.id, d.lead_id FROM deliveries d
               JOIN subscriptions s ON s.id = d.subscription_id AND s.active AND s.deleted_at IS NULL
               WHERE d.status = 'pending' AND d.next_attempt_at <= now()
                 AND NOT EXISTS (SELECT 1 FROM deliveries e
                                 WHERE e.subscription_id = d.subscription_id AND e.lead_id = d.lead_id
                                   AND e.outbox_id < d.outbox_id AND e.status IN ('pending', 'in_flight'))
               ORDER BY d.next_attempt_at, d.id LIMIT p_limit LOOP
        RETURN QUERY
            UPDATE deliveries d SET status = 'in_flight', attempts = d.attempts + 1,
                                    lease_until = now() + make_interval(secs => p_lease_seconds)
            FROM subscriptions s, outbox o
            WHERE d.id = due.id AND d.lead_id = due.lead_id AND d.status = 'pending' AND d.next_attempt_at <= now()
              AND s.id = d.subscription_id AND o.id = d.outbox_id AND o.lead_id = d.lead_id
            RETURNING d.id, d.subscription_id, d.outbox_id, d.lead_id, d.attempts, d.window_started_at,
                      s.url, s.secret, s.max_attempts, o.topic, o.payload::text, o.created_at;
    END LOOP;
END
$$;

-- Reopens up to p_limit queue items whose lease ran out at p_now and wakes their queues' long
-- polls (NOTIFY); returns how many. Store.reopenExpiredLeases.
CREATE FUNCTION leadrouter_reopen_expired_leases(p_now timestamptz, p_limit integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    item record;
    reopened_queue text;
    queues text[] := '{}';
    n integer := 0;
BEGIN
    IF NOT leadrouter_on_citus() THEN
        WITH expired AS (
            SELECT id FROM queue_items WHERE state = 'claimed' AND lease_until <= p_now
            ORDER BY lease_until LIMIT p_limit FOR UPDATE SKIP LOCKED),
        reopened AS (
            UPDATE queue_items q SET state = 'open', claim_token = NULL, claimed_by = NULL, lease_until = NULL, updated_at = p_now
            FROM expired WHERE q.id = expired.id RETURNING q.queue),
        woken AS (SELECT pg_notify('leadrouter_queue', queue) FROM (SELECT DISTINCT queue FROM reopened) AS d)
        SELECT (SELECT count(*) FROM reopened) + 0 * (SELECT count(*) FROM woken) INTO n;  -- woken runs only when read
        RETURN n;
    END IF;
    FOR item IN SELECT id, lead_id FROM queue_items WHERE state = 'claimed' AND lease_until <= p_now
                ORDER BY lease_until LIMIT p_limit LOOP
        UPDATE queue_items SET state = 'open', claim_token = NULL, claimed_by = NULL, lease_until = NULL, updated_at = p_now
        WHERE id = item.id AND lead_id = item.lead_id AND state = 'claimed' AND lease_until <= p_now
        RETURNING queue INTO reopened_queue;
        CONTINUE WHEN NOT FOUND;
        n := n + 1;
        IF NOT reopened_queue = ANY (queues) THEN
            queues := queues || reopened_queue;
            PERFORM pg_notify('leadrouter_queue', reopened_queue);
        END IF;
    END LOOP;
    RETURN n;
END
$$;

-- Up to p_limit not-closed, not-yet-breached items whose SLA is due at p_now, each locked with
-- its lead's row, earliest due first; an item or lead another transaction holds is left for the
-- next round (SKIP LOCKED). Returns their ids. Store.breachedItemsForUpdate.
CREATE FUNCTION leadrouter_lock_breached_items(p_now timestamptz, p_limit integer)
RETURNS TABLE (id uuid, lead_id uuid)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    item record;
BEGIN
    IF NOT leadrouter_on_citus() THEN
        RETURN QUERY
            SELECT i.id, i.lead_id FROM queue_items i JOIN leads l ON l.id = i.lead_id
            WHERE i.state <> 'closed' AND i.sla_breached_at IS NULL AND i.sla_due_at <= p_now
            ORDER BY i.sla_due_at LIMIT p_limit FOR UPDATE OF i, l SKIP LOCKED;
        RETURN;
    END IF;
    FOR item IN SELECT i.id, i.lead_id FROM queue_items i
                WHERE i.state <> 'closed' AND i.sla_breached_at IS NULL AND i.sla_due_at <= p_now
                ORDER BY i.sla_due_at LIMIT p_limit LOOP
        RETURN QUERY
            SELECT i.id, i.lead_id FROM queue_items i JOIN leads l ON l.id = i.lead_id
            WHERE i.id = item.id AND i.lead_id = item.lead_id AND l.id = item.lead_id
              AND i.state <> 'closed' AND i.sla_breached_at IS NULL AND i.sla_due_at <= p_now
            FOR UPDATE OF i, l SKIP LOCKED;
    END LOOP;
END
$$;

-- An owner's open + claimed items. 0003's SQL function was inlined into the routing query over
-- team members (a reference table), where Citus cannot plan a correlated count over a
-- distributed one (`could not create distributed plan`); a plpgsql body is not inlined, so
-- each call is a query of its own (on Citus a count over every shard).
CREATE OR REPLACE FUNCTION leadrouter_owner_load(p_owner text) RETURNS integer LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT count(*)::integer FROM queue_items WHERE owner_id = p_owner AND state <> 'closed');
END
$$;
