-- The last recursive queries over leads, as functions Citus can run (issue 19,
-- docs/scale-out.md#citus-what-it-cannot-run-as-it-was-and-the-design-for-both). Citus runs a
-- recursive CTE over a distributed table only when it filters on the distribution column; the
-- lead lists (which old ids were merged into a lead) and erasure (a lead's whole merge group)
-- followed `merged_into` downwards with one. As 0056's leadrouter_merge_chain: the same CTE on
-- plain PostgreSQL, and on Citus one query per level of the merge tree (`merged_into = ANY(…)`
-- over every shard).

-- Every lead merged into one of p_leads, directly or along a chain, with the lead of p_leads it
-- ended in (Store.mergedIds).
CREATE FUNCTION leadrouter_merged_into(p_leads uuid[]) RETURNS TABLE (survivor uuid, id uuid)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
    r record;
    seen uuid[] := p_leads;
    ids uuid[] := p_leads;          -- this level's leads
    ends uuid[] := p_leads;         -- the lead of p_leads each of them ended in
    next_ids uuid[];
    next_ends uuid[];
BEGIN
    IF NOT leadrouter_on_citus() THEN
        RETURN QUERY WITH RECURSIVE m(survivor, id) AS (
                         SELECT merged_into, id FROM leads WHERE merged_into = ANY(p_leads)
                         UNION
                         SELECT m.survivor, l.id FROM leads l JOIN m ON l.merged_into = m.id)
                     SELECT survivor, id FROM m;
        RETURN;
    END IF;
    WHILE cardinality(ids) > 0 LOOP
        next_ids := '{}';
        next_ends := '{}';
        FOR r IN SELECT l.id, l.merged_into FROM leads l WHERE l.merged_into = ANY(ids) LOOP
            CONTINUE WHEN r.id = ANY(seen);   -- a cycle, which merges never write, ends
            seen := seen || r.id;
            survivor := ends[array_position(ids, r.merged_into)];
            id := r.id;
            RETURN NEXT;
            next_ids := next_ids || r.id;
            next_ends := next_ends || survivor;
        END LOOP;
        ids := next_ids;
        ends := next_ends;
    END LOOP;
END
$$;

-- The merge group of p_id: the end of its merged_into chain (live_id) and every lead merged
-- into that end, the end included (Store.mergeGroup; no rows when there is no such lead).
CREATE FUNCTION leadrouter_merge_group(p_id uuid) RETURNS TABLE (id uuid, live_id uuid)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
    live_lead uuid;
BEGIN
    IF NOT leadrouter_on_citus() THEN
        RETURN QUERY WITH RECURSIVE up(id) AS (
                         SELECT p_id
                         UNION
                         SELECT l.merged_into FROM leads l JOIN up ON l.id = up.id WHERE l.merged_into IS NOT NULL),
                     live AS (SELECT id FROM leads WHERE id IN (SELECT id FROM up) AND merged_into IS NULL),
                     down(id) AS (
                         SELECT id FROM live
                         UNION
                         SELECT l.id FROM leads l JOIN down ON l.merged_into = down.id)
                     SELECT down.id, live.id FROM down, live;
        RETURN;
    END IF;
    SELECT l.id INTO live_lead FROM leadrouter_live_lead(p_id) AS l;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    RETURN QUERY SELECT live_lead, live_lead UNION SELECT m.id, live_lead FROM leadrouter_merged_into(ARRAY[live_lead]) AS m;
END
$$;
