-- Lead locks that Citus can take, for the paths 0056 left as one statement over many leads
-- (issue 19, docs/scale-out.md#citus-what-it-cannot-run-as-it-was-and-the-design-for-both): an
-- erasure's merge group, the queue API's lead re-read, the activation's re-evaluation walk, and
-- the queue's claims and item locks (rows of many leads, or of one item found by id alone).
-- Citus locks rows (FOR UPDATE) only in a statement that reaches one shard. As in 0056, each
-- function keeps the one statement on plain PostgreSQL (the same plan, the same round trip) and
-- on a Citus coordinator finds the leads without a lock, then locks each with a statement of
-- its own (`id = …`: one shard), in id order, still in the caller's one round trip.

-- The leads p_ids, locked in id order (missing ids are absent). Store.leadsForUpdate and
-- Store.lockLeadRows (erasure).
CREATE FUNCTION leadrouter_lock_leads(p_ids uuid[]) RETURNS SETOF leads
LANGUAGE plpgsql AS $$
DECLARE
    lead uuid;
BEGIN
    IF NOT leadrouter_on_citus() THEN
        RETURN QUERY SELECT * FROM leads WHERE id = ANY (p_ids) ORDER BY id FOR UPDATE;
        RETURN;
    END IF;
    FOR lead IN SELECT DISTINCT u FROM unnest(p_ids) AS u WHERE u IS NOT NULL ORDER BY 1 LOOP
        RETURN QUERY SELECT * FROM leads WHERE id = lead FOR UPDATE;
    END LOOP;
END
$$;

-- The next p_limit live, unquarantined leads after p_after in id order, locked: one batch of a
-- ruleset activation's re-evaluation walk (Store.leadsForReevaluation; one node walks an
-- activation at a time, under the activation row's lock, so it waits rather than skips). On
-- Citus the candidates are read a batch at a time in id order and each is locked by its own
-- statement, which re-checks that it is still live; one left out that way (merged meanwhile) is
-- made up from the leads after it, so a short batch still means the walk is over.
CREATE FUNCTION leadrouter_lock_leads_after(p_after uuid, p_limit integer) RETURNS SETOF leads
LANGUAGE plpgsql AS $$
DECLARE
    lead uuid;
    last_seen uuid := p_after;
    wanted integer;
    seen integer;
    taken integer := 0;
    found_lead leads;
BEGIN
    IF NOT leadrouter_on_citus() THEN
        RETURN QUERY SELECT * FROM leads
                     WHERE id > p_after AND merged_into IS NULL
                       AND NOT EXISTS (SELECT 1 FROM quarantined_leads q WHERE q.lead_id = leads.id)
                     ORDER BY id LIMIT p_limit FOR UPDATE;
        RETURN;
    END IF;
    WHILE taken < p_limit LOOP
        wanted := p_limit - taken;
        seen := 0;
        FOR lead IN SELECT l.id FROM leads l
                    WHERE l.id > last_seen AND l.merged_into IS NULL
                      AND NOT EXISTS (SELECT 1 FROM quarantined_leads q WHERE q.lead_id = l.id)
                    ORDER BY l.id LIMIT wanted LOOP
            seen := seen + 1;
            last_seen := lead;
            SELECT * INTO found_lead FROM leads WHERE id = lead AND merged_into IS NULL FOR UPDATE;
            CONTINUE WHEN NOT FOUND;
            RETURN NEXT found_lead;
            taken := taken + 1;
        END LOOP;
        EXIT WHEN seen < wanted;
    END LOOP;
END
$$;

-- Claims up to p_limit open items of p_queue (the owner's and unassigned ones when p_owner is
-- given) in p_order ('sla' or 'priority', ClaimOrder), for p_claimer with a lease of
-- p_lease_seconds from p_now (Store.claim). On plain PostgreSQL the one statement with
-- `FOR UPDATE SKIP LOCKED`: concurrent claimers pass over each other's rows. On Citus the items
-- are picked without a lock, then each is claimed by a one-row UPDATE naming its lead_id (one
-- shard) that re-checks `state = 'open'`: an item another claimer took meanwhile no longer
-- matches (that UPDATE waits for the other claim to commit, then skips it), so a claim may
-- return fewer items than were open, never one twice.
CREATE FUNCTION leadrouter_claim_queue_items(p_queue text, p_owner text, p_claimer text, p_limit integer,
                                             p_lease_seconds double precision, p_now timestamptz, p_order text)
RETURNS SETOF queue_items
LANGUAGE plpgsql AS $$
DECLARE
    picked record;
    token uuid;
BEGIN
    IF NOT leadrouter_on_citus() THEN
        IF p_order = 'priority' THEN
            RETURN QUERY
                WITH chosen AS (
                    SELECT id FROM queue_items
                    WHERE queue = p_queue AND state = 'open' AND (p_owner IS NULL OR owner_id IS NULL OR owner_id = p_owner)
                    ORDER BY priority DESC, created_at, id
                    LIMIT p_limit FOR UPDATE SKIP LOCKED)
                UPDATE queue_items q SET state = 'claimed', claim_token = gen_random_uuid(), claimed_by = p_claimer,
                       lease_until = p_now + make_interval(secs => p_lease_seconds), attempts = q.attempts + 1,
                       first_claimed_at = coalesce(q.first_claimed_at, p_now), updated_at = p_now
                FROM chosen WHERE q.id = chosen.id
                RETURNING q.*;
        ELSE
            RETURN QUERY
                WITH chosen AS (
                    SELECT id FROM queue_items
                    WHERE queue = p_queue AND state = 'open' AND (p_owner IS NULL OR owner_id IS NULL OR owner_id = p_owner)
                    ORDER BY sla_due_at ASC NULLS LAST, priority DESC, created_at, id
                    LIMIT p_limit FOR UPDATE SKIP LOCKED)
                UPDATE queue_items q SET state = 'claimed', claim_token = gen_random_uuid(), claimed_by = p_claimer,
                       lease_until = p_now + make_interval(secs => p_lease_seconds), attempts = q.attempts + 1,
                       first_claimed_at = coalesce(q.first_claimed_at, p_now), updated_at = p_now
                FROM chosen WHERE q.id = chosen.id
                RETURNING q.*;
        END IF;
        RETURN;
    END IF;
    FOR picked IN SELECT i.id, i.lead_id FROM queue_items i
                  WHERE i.queue = p_queue AND i.state = 'open' AND (p_owner IS NULL OR i.owner_id IS NULL OR i.owner_id = p_owner)
                  ORDER BY CASE WHEN p_order = 'priority' THEN NULL ELSE i.sla_due_at END ASC NULLS LAST,
                           i.priority DESC, i.created_at, i.id
                  LIMIT p_limit LOOP
        -- Citus refuses a VOLATILE function in an UPDATE of a distributed table: the token is made here.
        token := gen_random_uuid();
        RETURN QUERY
            UPDATE queue_items q SET state = 'claimed', claim_token = token, claimed_by = p_claimer,
                   lease_until = p_now + make_interval(secs => p_lease_seconds), attempts = q.attempts + 1,
                   first_claimed_at = coalesce(q.first_claimed_at, p_now), updated_at = p_now
            WHERE q.id = picked.id AND q.lead_id = picked.lead_id AND q.state = 'open'
            RETURNING q.*;
    END LOOP;
END
$$;

-- The item p_id of p_queue (or moved from it: its history names the queue), locked
-- (Store.queueItemForUpdate). On Citus its lead is looked up first, so the lock names the shard.
CREATE FUNCTION leadrouter_lock_queue_item(p_id uuid, p_queue text) RETURNS SETOF queue_items
LANGUAGE plpgsql AS $$
DECLARE
    lead uuid;
BEGIN
    IF NOT leadrouter_on_citus() THEN
        RETURN QUERY SELECT * FROM queue_items
                     WHERE id = p_id AND (queue = p_queue OR history @> jsonb_build_array(jsonb_build_object('from', jsonb_build_object('queue', p_queue))))
                     FOR UPDATE;
        RETURN;
    END IF;
    FOR lead IN SELECT i.lead_id FROM queue_items i WHERE i.id = p_id LOOP
        RETURN QUERY SELECT * FROM queue_items
                     WHERE id = p_id AND lead_id = lead
                       AND (queue = p_queue OR history @> jsonb_build_array(jsonb_build_object('from', jsonb_build_object('queue', p_queue))))
                     FOR UPDATE;
    END LOOP;
END
$$;
