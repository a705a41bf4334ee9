-- Lead locks that Citus can take, for the paths 0056 left as one statement over many leads
-- (issue 19, docs/scale-out.md#citus-what-it-cannot-run-as-it-was-and-the-design-for-both): an
-- erasure's merge group, the queue API's lead re-read, and the activation's re-evaluation walk.
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
