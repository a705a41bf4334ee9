-- Queue items' skipped owners stored packed (issue 23, target 7; docs/queues.md#assignment).
--
-- `queue_items.assignment` was `{"skipped": [{"step", "reason", "owner_id"}, …]}` as jsonb: on the
-- sample ruleset every pricing request finds the three inside-sales reps at capacity, so a new
-- item carried ~280 B of it (~140 B per event on scripts/bench-storage.sh, the largest column of
-- the table). The same list now goes into `skipped_packed`, one short text:
--
--     r25/25:rep_anna,r25/25:rep_ben,r25/25:rep_carla        (48 B instead of ~280)
--
-- an entry per skipped owner, in order, separated by `,`: the step's letter (`a`ccount,
-- `t`erritory, `r`ound_robin, `l`east_loaded, `o` account_owner, `T`eam), the reason (`L/C` for
-- `at_capacity (L/C)`; `i`nactive, `u`navailable, `o` unknown_owner, `T` unknown_team), then
-- `:owner_id` unless the owner is null. `assignment` is then NULL. A list the text cannot hold
-- exactly (another reason or step, an owner id with a comma, other keys) keeps the whole jsonb in
-- `assignment` as before, and so do rows written before this migration and an escalation
-- (`Store.markBreached` adds `escalation`): `leadrouter_skipped_pack` checks that unpacking gives
-- back the same jsonb and answers NULL otherwise. Every reader reads
-- `leadrouter_queue_assignment(assignment, skipped_packed)`, the same jsonb value as before, so
-- the routing answers, the queue reads and the privacy export are byte-identical.

-- On Citus: functions are created after a table was changed in this transaction (refused otherwise).
SELECT set_config('citus.multi_shard_modify_mode', 'sequential', true);

ALTER TABLE queue_items ALTER COLUMN assignment DROP NOT NULL;
ALTER TABLE queue_items ADD COLUMN skipped_packed text;
ALTER TABLE queue_items ADD CONSTRAINT queue_items_assignment_kept CHECK (assignment IS NOT NULL OR skipped_packed IS NOT NULL);

-- The skipped list packed as `p` (above; '' for none), as the jsonb it was. Built as JSON text and
-- cast once: half the time of a jsonb_agg over the entries (10 000 calls: 190 against 470 ms).
-- Any text gives valid JSON or NULL (an unknown step letter), never an error: the owner and
-- the reason go through to_json, so the pack below can try a text and compare.
-- IMMUTABLE plpgsql (never inlined), so Citus may evaluate it on the workers.
CREATE FUNCTION leadrouter_skipped_unpack(p text) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    e text;
    head text;
    c integer;
    doc text := '';
BEGIN
    IF p = '' THEN RETURN '[]'; END IF;
    FOREACH e IN ARRAY string_to_array(p, ',') LOOP
        c := strpos(e, ':');
        head := CASE WHEN c > 0 THEN left(e, c - 1) ELSE e END;
        doc := doc || CASE WHEN doc = '' THEN '[' ELSE ', ' END || '{"step": "'
            || CASE left(e, 1) WHEN 'a' THEN 'account' WHEN 't' THEN 'territory' WHEN 'r' THEN 'round_robin'
                               WHEN 'l' THEN 'least_loaded' WHEN 'o' THEN 'account_owner' WHEN 'T' THEN 'team' END
            || '", "reason": ' || to_json(CASE substr(head, 2) WHEN 'i' THEN 'inactive' WHEN 'u' THEN 'unavailable'
                                                               WHEN 'o' THEN 'unknown_owner' WHEN 'T' THEN 'unknown_team'
                                                               ELSE 'at_capacity (' || substr(head, 2) || ')' END)::text
            || ', "owner_id": ' || CASE WHEN c > 0 THEN to_json(substr(e, c + 1))::text ELSE 'null' END || '}';
    END LOOP;
    RETURN (doc || ']')::jsonb;
END
$$;

-- The skipped list `p_skipped` packed; NULL when the text cannot hold it exactly. Whatever the
-- entries hold, the text is tried: a step or reason it has no letter for becomes a `,` (an
-- empty entry), an owner id with a comma splits its entry, and the comparison with the unpacked
-- text refuses them all. ~25 µs for three entries, half of it the comparison (bench-route-cpu.sh).
CREATE FUNCTION leadrouter_skipped_pack(p_skipped jsonb) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    e jsonb;
    reason text;
    packed text := '';
BEGIN
    IF jsonb_typeof(p_skipped) IS DISTINCT FROM 'array' THEN RETURN NULL; END IF;
    FOR e IN SELECT jsonb_array_elements(p_skipped) LOOP
        reason := e ->> 'reason';
        packed := packed || CASE WHEN packed = '' THEN '' ELSE ',' END
            || CASE e ->> 'step' WHEN 'round_robin' THEN 'r' WHEN 'territory' THEN 't' WHEN 'account' THEN 'a'
                                 WHEN 'least_loaded' THEN 'l' WHEN 'account_owner' THEN 'o' WHEN 'team' THEN 'T' ELSE ',' END
            || CASE WHEN left(reason, 13) = 'at_capacity (' AND right(reason, 1) = ')' AND length(reason) >= 14
                        THEN substr(reason, 14, length(reason) - 14)
                    WHEN reason = 'unavailable' THEN 'u' WHEN reason = 'inactive' THEN 'i'
                    WHEN reason = 'unknown_owner' THEN 'o' WHEN reason = 'unknown_team' THEN 'T' ELSE ',' END
            || coalesce(':' || (e ->> 'owner_id'), '');
    END LOOP;
    -- exact or nothing: key sets, JSON types and spellings all come back the same
    RETURN CASE WHEN leadrouter_skipped_unpack(packed) = p_skipped THEN packed END;
END
$$;

-- An item's assignment as it was always read: the stored jsonb, else the packed skipped list.
CREATE FUNCTION leadrouter_queue_assignment(p_assignment jsonb, p_skipped_packed text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(p_assignment, jsonb_build_object('skipped', leadrouter_skipped_unpack(p_skipped_packed)))
$$;

-- Routing (0015, with 0075's outbox write) writes the skipped list packed at its three writes and
-- reads an item's assignment through leadrouter_queue_assignment at its three reads; the rest of
-- the function is unchanged.
SELECT leadrouter_replace_in_function('leadrouter_route_to_queue',
    $q$    a jsonb;
    from_record jsonb;$q$,
    $q$    a jsonb;
    packed text;
    from_record jsonb;$q$);
-- a country reassigns the item
SELECT leadrouter_replace_in_function('leadrouter_route_to_queue',
    $q$                UPDATE queue_items SET owner_id = a ->> 'owner_id', assigned_by = 'territory',
                       assignment = jsonb_build_object('skipped', a -> 'skipped'),$q$,
    $q$                packed := leadrouter_skipped_pack(a -> 'skipped');
                UPDATE queue_items SET owner_id = a ->> 'owner_id', assigned_by = 'territory',
                       assignment = CASE WHEN packed IS NULL THEN jsonb_build_object('skipped', a -> 'skipped') END,
                       skipped_packed = packed,$q$);
-- the item already in this queue answers
SELECT leadrouter_replace_in_function('leadrouter_route_to_queue',
    $q$        RETURN item.assignment || jsonb_build_object('item_id', item.id, 'created', false, 'moved', false, 'owner_id', item.owner_id,$q$,
    $q$        RETURN leadrouter_queue_assignment(item.assignment, item.skipped_packed)
               || jsonb_build_object('item_id', item.id, 'created', false, 'moved', false, 'owner_id', item.owner_id,$q$);
-- a move keeps the skipped list unless a new team assigns again
SELECT leadrouter_replace_in_function('leadrouter_route_to_queue',
    $q$        a := jsonb_build_object('skipped', item.assignment -> 'skipped');$q$,
    $q$        a := jsonb_build_object('skipped', leadrouter_queue_assignment(item.assignment, item.skipped_packed) -> 'skipped');$q$);
SELECT leadrouter_replace_in_function('leadrouter_route_to_queue',
    $q$        UPDATE queue_items SET queue = p_queue, segment = p_segment, team_id = new_team, owner_id = new_owner,
               assigned_by = new_by, assignment = jsonb_build_object('skipped', coalesce(a -> 'skipped', '[]'::jsonb)),$q$,
    $q$        packed := leadrouter_skipped_pack(coalesce(a -> 'skipped', '[]'::jsonb));
        UPDATE queue_items SET queue = p_queue, segment = p_segment, team_id = new_team, owner_id = new_owner,
               assigned_by = new_by,
               assignment = CASE WHEN packed IS NULL THEN jsonb_build_object('skipped', coalesce(a -> 'skipped', '[]'::jsonb)) END,
               skipped_packed = packed,$q$);
-- the item acked since the lead entered the segment answers
SELECT leadrouter_replace_in_function('leadrouter_route_to_queue',
    $q$        RETURN item.assignment || jsonb_build_object('item_id', item.id, 'created', false, 'moved', false, 'acked', true,$q$,
    $q$        RETURN leadrouter_queue_assignment(item.assignment, item.skipped_packed)
               || jsonb_build_object('item_id', item.id, 'created', false, 'moved', false, 'acked', true,$q$);
-- a new item
SELECT leadrouter_replace_in_function('leadrouter_route_to_queue',
    $q$    INSERT INTO queue_items (queue, lead_id, segment, team_id, owner_id, priority, sla_due_at, assigned_by, assignment,
                             created_at, updated_at)
    VALUES (p_queue, p_lead, p_segment, a ->> 'team_id', a ->> 'owner_id', p_priority, p_sla_due_at, a ->> 'assigned_by',
            jsonb_build_object('skipped', a -> 'skipped'), p_now, p_now)$q$,
    $q$    packed := leadrouter_skipped_pack(a -> 'skipped');
    INSERT INTO queue_items (queue, lead_id, segment, team_id, owner_id, priority, sla_due_at, assigned_by, assignment,
                             skipped_packed, created_at, updated_at)
    VALUES (p_queue, p_lead, p_segment, a ->> 'team_id', a ->> 'owner_id', p_priority, p_sla_due_at, a ->> 'assigned_by',
            CASE WHEN packed IS NULL THEN jsonb_build_object('skipped', a -> 'skipped') END, packed, p_now, p_now)$q$);
