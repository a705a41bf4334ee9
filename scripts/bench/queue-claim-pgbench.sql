-- The claim leadrouter runs for POST /v1/queues/{queue}/claim (Store.claim), one item, as one
-- autocommitted statement: the database's own ceiling for SKIP LOCKED claims on the same table.
WITH picked AS (
    SELECT id FROM queue_items
    WHERE queue = 'bench' AND state = 'open' AND (NULL::text IS NULL OR owner_id IS NULL OR owner_id = NULL)
    ORDER BY priority DESC, created_at, id
    LIMIT 1 FOR UPDATE SKIP LOCKED)
UPDATE queue_items q SET state = 'claimed', claim_token = gen_random_uuid(), claimed_by = 'pgbench',
       lease_until = now() + make_interval(secs => 3600), attempts = attempts + 1,
       first_claimed_at = coalesce(first_claimed_at, now()), updated_at = now()
FROM picked WHERE q.id = picked.id
RETURNING q.id, q.queue, q.lead_id, q.segment, q.team_id, q.owner_id, q.state, q.priority, q.claim_token, q.claimed_by,
          q.lease_until, q.sla_due_at, q.close_reason, q.outcome, q.attempts, q.assigned_by, q.assignment,
          q.first_claimed_at, q.sla_breached_at, q.created_at, q.updated_at, q.closed_at;
