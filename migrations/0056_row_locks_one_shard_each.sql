-- Row locks that Citus can take (issue 19, docs/scale-out.md#citus-what-it-cannot-run-as-it-was):
-- Citus locks rows (FOR UPDATE) only in a statement that reaches one shard. The lane batch's
-- leads and the sweeper's due leads were each locked by one statement over many leads; these
-- functions find the leads first without locking, then lock each with a statement of its own
-- (`id = …`: one shard), in the same round trip as before. On plain PostgreSQL they do the same
-- work as one index lookup per lead instead of one scan for all.

-- The leads of these identity keys, locked, in id order (the lane batch: two batches that share
-- leads lock them in the same order and cannot deadlock).
CREATE FUNCTION leadrouter_lock_leads_of(p_kinds text[], p_values text[]) RETURNS SETOF leads
LANGUAGE plpgsql AS $$
DECLARE
    lead uuid;
BEGIN
    FOR lead IN SELECT DISTINCT i.lead_id FROM identities i
                JOIN unnest(p_kinds, p_values) AS k(kind, value) ON i.kind = k.kind AND i.value = k.value
                ORDER BY 1 LOOP
        RETURN QUERY SELECT * FROM leads WHERE id = lead FOR UPDATE;
    END LOOP;
END
$$;

-- Up to p_limit leads due for re-evaluation at p_now, locked, earliest first; a lead another
-- node holds is skipped (SKIP LOCKED) and the next due one taken instead, so a full batch means
-- there may be more (the sweeper's loop relies on it); one that stopped being due is left out.
-- The candidates are read lazily (a plpgsql FOR loop fetches a few rows at a time).
CREATE FUNCTION leadrouter_lock_due_leads(p_now timestamptz, p_limit integer) RETURNS SETOF leads
LANGUAGE plpgsql AS $$
DECLARE
    lead uuid;
    taken integer := 0;
    row leads;
BEGIN
    IF p_limit <= 0 THEN
        RETURN;
    END IF;
    FOR lead IN SELECT l.id FROM leads l
                WHERE l.next_evaluation_at <= p_now AND l.merged_into IS NULL
                  AND NOT EXISTS (SELECT 1 FROM quarantined_leads q WHERE q.lead_id = l.id)
                ORDER BY l.next_evaluation_at LOOP
        SELECT * INTO row FROM leads
        WHERE id = lead AND next_evaluation_at <= p_now AND merged_into IS NULL
        FOR UPDATE SKIP LOCKED;
        CONTINUE WHEN NOT FOUND;
        RETURN NEXT row;
        taken := taken + 1;
        EXIT WHEN taken >= p_limit;
    END LOOP;
END
$$;

-- The ids of p_ids and of every lead they were merged into, however long the chains: one
-- primary-key lookup per lead (a recursive CTE over a distributed table needs a filter on the
-- distribution column in Citus). A pointer cycle, which merges never write, ends.
CREATE FUNCTION leadrouter_merge_chain(p_ids uuid[]) RETURNS SETOF uuid
LANGUAGE plpgsql STABLE AS $$
DECLARE
    seen uuid[] := '{}';
    todo uuid[] := p_ids;
    lead uuid;
    next_lead uuid;
BEGIN
    WHILE cardinality(todo) > 0 LOOP
        lead := todo[1];
        todo := todo[2:];
        CONTINUE WHEN lead = ANY (seen);
        seen := seen || lead;
        SELECT merged_into INTO next_lead FROM leads WHERE id = lead;
        IF next_lead IS NOT NULL THEN
            todo := todo || next_lead;
        END IF;
    END LOOP;
    RETURN QUERY SELECT unnest(seen);
END
$$;

-- The leads of those chains, locked in id order (ingest: a lead and whatever it was merged into).
CREATE FUNCTION leadrouter_lock_merge_chains(p_ids uuid[]) RETURNS SETOF leads
LANGUAGE plpgsql AS $$
DECLARE
    lead uuid;
BEGIN
    FOR lead IN SELECT c FROM leadrouter_merge_chain(p_ids) AS c ORDER BY 1 LOOP
        RETURN QUERY SELECT * FROM leads WHERE id = lead FOR UPDATE;
    END LOOP;
END
$$;

-- The lead that answers for p_id now (the end of its chain), if any.
CREATE FUNCTION leadrouter_live_lead(p_id uuid) RETURNS SETOF leads
LANGUAGE plpgsql STABLE AS $$
DECLARE
    chain uuid[] := ARRAY(SELECT leadrouter_merge_chain(ARRAY[p_id]));
BEGIN
    RETURN QUERY SELECT * FROM leads WHERE id = ANY (chain) AND merged_into IS NULL;
END
$$;
