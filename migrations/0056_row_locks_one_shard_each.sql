-- Row locks that Citus can take (issue 19, docs/scale-out.md#citus-what-it-cannot-run-as-it-was-and-the-design-for-both):
-- Citus locks rows (FOR UPDATE) only in a statement that reaches one shard, and runs a recursive
-- CTE over a distributed table only when it filters on the distribution column. The lane
-- batch's leads, the sweeper's due leads and ingest's merge chains were each locked by one
-- statement over many leads. These functions keep that statement on plain PostgreSQL (nothing
-- changes there: the same plan, the same round trips) and, on a Citus coordinator, find the
-- leads first without locking and then lock each with a statement of its own (`id = …`: one
-- shard), still in the caller's one round trip.

-- Whether this database is a Citus coordinator (the extension is there).
CREATE FUNCTION leadrouter_on_citus() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')
$$;

-- The leads of these identity keys, locked, in id order (the lane batch: two batches that share
-- leads lock them in the same order and cannot deadlock).
CREATE FUNCTION leadrouter_lock_leads_of(p_kinds text[], p_values text[]) RETURNS SETOF leads
LANGUAGE plpgsql AS $$
DECLARE
    lead uuid;
BEGIN
    IF NOT leadrouter_on_citus() THEN
        RETURN QUERY SELECT * FROM leads WHERE id IN (
                         SELECT i.lead_id FROM identities i
                         JOIN unnest(p_kinds, p_values) AS k(kind, value) ON i.kind = k.kind AND i.value = k.value)
                     ORDER BY id FOR UPDATE;
        RETURN;
    END IF;
    FOR lead IN SELECT DISTINCT i.lead_id FROM identities i
                JOIN unnest(p_kinds, p_values) AS k(kind, value) ON i.kind = k.kind AND i.value = k.value
                ORDER BY 1 LOOP
        RETURN QUERY SELECT * FROM leads WHERE id = lead FOR UPDATE;
    END LOOP;
END
$$;

-- Up to p_limit leads due for re-evaluation at p_now, locked, earliest first; a lead another
-- node holds is skipped (SKIP LOCKED) and the next due one taken instead, so a full batch means
-- there may be more (the sweeper's loop relies on it). On Citus the candidates are read lazily
-- (a plpgsql FOR loop fetches a few rows at a time) and one that stopped being due is left out.
CREATE FUNCTION leadrouter_lock_due_leads(p_now timestamptz, p_limit integer) RETURNS SETOF leads
LANGUAGE plpgsql AS $$
DECLARE
    lead uuid;
    taken integer := 0;
    found_lead leads;
BEGIN
    IF NOT leadrouter_on_citus() THEN
        RETURN QUERY SELECT * FROM leads
                     WHERE next_evaluation_at <= p_now AND merged_into IS NULL
                       AND NOT EXISTS (SELECT 1 FROM quarantined_leads q WHERE q.lead_id = leads.id)
                     ORDER BY next_evaluation_at LIMIT p_limit FOR UPDATE SKIP LOCKED;
        RETURN;
    END IF;
    IF p_limit <= 0 THEN
        RETURN;
    END IF;
    FOR lead IN SELECT l.id FROM leads l
                WHERE l.next_evaluation_at <= p_now AND l.merged_into IS NULL
                  AND NOT EXISTS (SELECT 1 FROM quarantined_leads q WHERE q.lead_id = l.id)
                ORDER BY l.next_evaluation_at LOOP
        SELECT * INTO found_lead FROM leads
        WHERE id = lead AND next_evaluation_at <= p_now AND merged_into IS NULL
        FOR UPDATE SKIP LOCKED;
        CONTINUE WHEN NOT FOUND;
        RETURN NEXT found_lead;
        taken := taken + 1;
        EXIT WHEN taken >= p_limit;
    END LOOP;
END
$$;

-- The ids of p_ids and of every lead they were merged into, however long the chains. On Citus
-- one primary-key lookup per link; a pointer cycle, which merges never write, ends.
CREATE FUNCTION leadrouter_merge_chain(p_ids uuid[]) RETURNS SETOF uuid
LANGUAGE plpgsql STABLE AS $$
DECLARE
    seen uuid[] := '{}';
    todo uuid[] := p_ids;
    lead uuid;
    next_lead uuid;
BEGIN
    IF NOT leadrouter_on_citus() THEN
        RETURN QUERY WITH RECURSIVE chain(id) AS (
                         SELECT unnest(p_ids)
                         UNION
                         SELECT l.merged_into FROM leads l JOIN chain c ON l.id = c.id WHERE l.merged_into IS NOT NULL)
                     SELECT id FROM chain;
        RETURN;
    END IF;
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
    IF NOT leadrouter_on_citus() THEN
        RETURN QUERY SELECT * FROM leads WHERE id IN (SELECT leadrouter_merge_chain(p_ids)) ORDER BY id FOR UPDATE;
        RETURN;
    END IF;
    FOR lead IN SELECT c FROM leadrouter_merge_chain(p_ids) AS c ORDER BY 1 LOOP
        RETURN QUERY SELECT * FROM leads WHERE id = lead FOR UPDATE;
    END LOOP;
END
$$;

-- The lead that answers for p_id now (the end of its chain), if any.
CREATE FUNCTION leadrouter_live_lead(p_id uuid) RETURNS SETOF leads
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY SELECT * FROM leads WHERE id = ANY (ARRAY(SELECT leadrouter_merge_chain(ARRAY[p_id]))) AND merged_into IS NULL;
END
$$;
