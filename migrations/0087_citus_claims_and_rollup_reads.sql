-- Two fixes for Citus that change nothing on plain PostgreSQL (issue 19,
-- docs/scale-out.md#citus-what-it-cannot-run-as-it-was-and-the-design-for-both): queue claims
-- that go on to further candidates, and rollup reads that cannot see half of a fold.
--
-- 1. Queue claims.
--
-- 0082's Citus branch picked p_limit open items without a lock and claimed each with a one-row
-- UPDATE that waited for any concurrent claim of the same row and then found it claimed: two
-- claimers that picked the same items got one of them each, the loser fewer than it asked for —
-- often none while hundreds were still open, which a client reads as "the queue is empty"
-- (QueueClaimTests, eight concurrent claimers). Now each picked item is first locked by a
-- one-row `FOR UPDATE SKIP LOCKED` naming its lead_id (one shard, which Citus runs): an item
-- another claimer holds is skipped at once instead of waited for, as plain PostgreSQL's one
-- statement does, and the candidates are read again past the ones tried until p_limit are
-- claimed or none is left. A claim returns fewer than p_limit only when fewer open items were
-- left untried, so an empty answer means the queue had nothing claimable. Plain PostgreSQL
-- keeps 0082's one statement (unchanged below).
CREATE OR REPLACE FUNCTION leadrouter_claim_queue_items(p_queue text, p_owner text, p_claimer text, p_limit integer,
                                                        p_lease_seconds double precision, p_now timestamptz, p_order text)
RETURNS SETOF queue_items
LANGUAGE plpgsql AS $$
DECLARE
    picked record;
    token uuid;
    claimed queue_items;
    tried uuid[] := '{}';
    taken integer := 0;
    wanted integer;
    seen integer;
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
    LOOP
        wanted := p_limit - taken;
        EXIT WHEN wanted <= 0;
        seen := 0;
        -- Each statement of a plpgsql function reads a fresh snapshot (READ COMMITTED): items
        -- claimed and committed by others since the last pass are no longer candidates.
        FOR picked IN SELECT i.id, i.lead_id FROM queue_items i
                      WHERE i.queue = p_queue AND i.state = 'open' AND (p_owner IS NULL OR i.owner_id IS NULL OR i.owner_id = p_owner)
                        AND i.id <> ALL (tried)
                      ORDER BY CASE WHEN p_order = 'priority' THEN NULL ELSE i.sla_due_at END ASC NULLS LAST,
                               i.priority DESC, i.created_at, i.id
                      LIMIT wanted LOOP
            seen := seen + 1;
            tried := tried || picked.id;
            -- One shard: Citus runs `SKIP LOCKED` here. A row another claimer holds is passed over.
            PERFORM 1 FROM queue_items q
            WHERE q.id = picked.id AND q.lead_id = picked.lead_id AND q.state = 'open'
            FOR UPDATE SKIP LOCKED;
            CONTINUE WHEN NOT FOUND;
            -- Citus refuses a VOLATILE function in an UPDATE of a distributed table: the token is made here.
            token := gen_random_uuid();
            UPDATE queue_items q SET state = 'claimed', claim_token = token, claimed_by = p_claimer,
                   lease_until = p_now + make_interval(secs => p_lease_seconds), attempts = q.attempts + 1,
                   first_claimed_at = coalesce(q.first_claimed_at, p_now), updated_at = p_now
            WHERE q.id = picked.id AND q.lead_id = picked.lead_id
            RETURNING q.* INTO claimed;
            RETURN NEXT claimed;
            taken := taken + 1;
        END LOOP;
        EXIT WHEN seen < wanted;
    END LOOP;
END
$$;

-- 2. Reads of the rollups that do not race a fold on Citus (PrivacyStageHistoryTests: a funnel read
-- counted 3 003 001 where 4 004 002 was right).
--
-- The rollup views add the folded rows (reference tables) to the unfolded deltas (distributed);
-- a fold deletes deltas and adds them to the folded rows in one transaction. On plain
-- PostgreSQL one statement reads one snapshot, so a read sees a fold whole or not at all. Citus
-- has no snapshot across nodes: a statement reads the reference tables' coordinator placement
-- with the coordinator's snapshot and each worker's deltas with that worker's, taken at other
-- moments, so a read that overlaps a fold's commit can miss the folded deltas (folded rows from
-- before, deltas from after) or count them twice. So on Citus a fold and the reads exclude each
-- other by an advisory lock on the coordinator (every node and every fold goes through it):
-- readers take it shared for their transaction, in front of their statements (the read
-- statements' snapshots are taken after it); the fold takes it exclusive after winning the
-- fold's own try-lock, so it waits for the reads in flight (milliseconds) and new reads queue
-- behind it for the fold's one statement. Citus commits the fold's prepared transactions on the
-- workers before the coordinator releases the lock, so a reader that gets the lock sees the
-- whole fold on every node. On plain PostgreSQL both are no-ops.
CREATE FUNCTION leadrouter_rollup_read_guard() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF leadrouter_on_citus() THEN
        PERFORM pg_advisory_xact_lock_shared(7814358272960130162);  -- "lr-rollr"
    END IF;
END
$$;

CREATE FUNCTION leadrouter_rollup_fold_guard() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF leadrouter_on_citus() THEN
        PERFORM pg_advisory_xact_lock(7814358272960130162);
    END IF;
END
$$;
