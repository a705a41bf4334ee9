-- Fair assignment (issue 21, docs/queues.md#assignment).
--
-- Territory is a preference, not a funnel: a lead whose country no territory covers was given
-- to the members WITHOUT territories only (19 of 29 items to one rep). `territory_fallback`
-- (team setting from the ruleset) `all` (the default) shares those leads round robin (or least
-- loaded) among every member with capacity; `unassigned_members` keeps the old behaviour.
-- And a country that arrives while the lead's item is still unclaimed reassigns it to the
-- territory member who covers it (recorded in the item's history).
ALTER TABLE teams ADD COLUMN territory_fallback text NOT NULL DEFAULT 'all'
    CHECK (territory_fallback IN ('all', 'unassigned_members'));

CREATE OR REPLACE FUNCTION leadrouter_assign_owner(p_team text, p_country text, p_ship_to text, p_domain text,
                                        p_now timestamptz, p_depth integer DEFAULT 0)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    t teams;
    rr round_robin_state;
    last_pos integer;
    skipped jsonb := '[]';
    account_owner text;
    why text;
    chosen text;
    step text;
    pool_step text;
    m record;
    nested jsonb;
    codes text[] := array_remove(ARRAY[p_country, p_ship_to], NULL);
BEGIN
    SELECT * INTO t FROM teams WHERE id = p_team;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('team_id', p_team, 'owner_id', NULL, 'assigned_by', 'unassigned',
                                  'skipped', jsonb_build_array(jsonb_build_object('owner_id', NULL, 'step', 'team', 'reason', 'unknown_team')));
    END IF;
    -- The team's lock: one assignment of this team at a time, across nodes.
    INSERT INTO round_robin_state (team_id) VALUES (p_team) ON CONFLICT DO NOTHING;
    SELECT * INTO rr FROM round_robin_state WHERE team_id = p_team FOR UPDATE;
    SELECT position INTO last_pos FROM team_members WHERE team_id = p_team AND owner_id = rr.last_owner_id;
    last_pos := coalesce(last_pos, -1);

    -- 1. account
    IF p_domain IS NOT NULL THEN
        SELECT owner_id INTO account_owner FROM accounts WHERE domain = lower(p_domain);
        IF account_owner IS NOT NULL THEN
            why := leadrouter_owner_blocked(account_owner, p_team);
            IF why IS NULL THEN
                RETURN jsonb_build_object('team_id', p_team, 'owner_id', account_owner, 'assigned_by', 'account', 'skipped', skipped);
            END IF;
            skipped := skipped || jsonb_build_object('owner_id', account_owner, 'step', 'account', 'reason', why);
        END IF;
    END IF;

    -- 2. territory, then 3. the strategy over the generalists
    FOREACH pool_step IN ARRAY ARRAY['territory', 'strategy'] LOOP
        FOR m IN
            SELECT tm.owner_id, tm.position, leadrouter_owner_load(tm.owner_id) AS load
            FROM team_members tm
            WHERE tm.team_id = p_team
              AND CASE WHEN pool_step = 'territory' THEN tm.territories && codes
                       WHEN t.territory_fallback = 'all' THEN true
                       ELSE cardinality(tm.territories) = 0
                            OR NOT EXISTS (SELECT 1 FROM team_members g WHERE g.team_id = p_team AND cardinality(g.territories) = 0) END
              AND tm.owner_id IS DISTINCT FROM account_owner
            ORDER BY CASE WHEN t.strategy = 'least_loaded' THEN leadrouter_owner_load(tm.owner_id) ELSE 0 END,
                     (tm.position <= last_pos), tm.position
        LOOP
            -- a territory member already skipped is not reconsidered as a generalist
            CONTINUE WHEN skipped @> jsonb_build_array(jsonb_build_object('owner_id', m.owner_id));
            why := leadrouter_owner_blocked(m.owner_id, p_team);
            IF why IS NULL THEN chosen := m.owner_id; EXIT; END IF;
            skipped := skipped || jsonb_build_object('owner_id', m.owner_id, 'step',
                CASE WHEN pool_step = 'territory' THEN 'territory' ELSE t.strategy END, 'reason', why);
        END LOOP;
        IF chosen IS NOT NULL THEN
            step := CASE WHEN pool_step = 'territory' THEN 'territory'
                         WHEN t.strategy = 'least_loaded' THEN 'least_loaded' ELSE 'round_robin' END;
            UPDATE round_robin_state SET last_owner_id = chosen, turn = turn + 1, updated_at = p_now WHERE team_id = p_team;
            RETURN jsonb_build_object('team_id', p_team, 'owner_id', chosen, 'assigned_by', step, 'skipped', skipped);
        END IF;
    END LOOP;

    -- 4. nobody eligible
    IF t.escalate_to IS NOT NULL AND p_depth = 0 THEN
        nested := leadrouter_assign_owner(t.escalate_to, p_country, p_ship_to, p_domain, p_now, 1);
        IF nested ->> 'owner_id' IS NOT NULL THEN
            RETURN jsonb_build_object('team_id', t.escalate_to, 'owner_id', nested -> 'owner_id', 'assigned_by', 'escalation',
                                      'skipped', skipped || (nested -> 'skipped'));
        END IF;
        skipped := skipped || (nested -> 'skipped');
    END IF;
    RETURN jsonb_build_object('team_id', p_team, 'owner_id', NULL, 'assigned_by', 'unassigned', 'skipped', skipped);
END
$$;


CREATE OR REPLACE FUNCTION leadrouter_route_to_queue(p_lead uuid, p_queue text, p_segment text, p_team text, p_priority double precision,
                                          p_sla_due_at timestamptz, p_country text, p_ship_to text, p_domain text,
                                          p_now timestamptz, p_member_since timestamptz)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    item queue_items;
    a jsonb;
    from_record jsonb;
    new_team text;
    new_owner text;
    new_by text;
BEGIN
    SELECT * INTO item FROM queue_items WHERE lead_id = p_lead AND state <> 'closed' FOR UPDATE;
    IF FOUND AND item.queue = p_queue THEN
        UPDATE queue_items SET priority = p_priority, segment = p_segment, updated_at = p_now WHERE id = item.id;
        -- A country that arrived while nobody has claimed the item yet: a territory member of
        -- the item's team who covers it takes it over from an owner who does not (recorded).
        IF item.state = 'open' AND item.first_claimed_at IS NULL AND item.team_id IS NOT NULL
           AND coalesce(item.assigned_by, 'unassigned') IN ('round_robin', 'least_loaded', 'territory', 'unassigned')
           AND array_remove(ARRAY[p_country, p_ship_to], NULL) <> '{}'
           AND NOT EXISTS (SELECT 1 FROM team_members WHERE team_id = item.team_id AND owner_id = item.owner_id
                                                        AND territories && array_remove(ARRAY[p_country, p_ship_to], NULL))
           AND EXISTS (SELECT 1 FROM team_members WHERE team_id = item.team_id AND owner_id IS DISTINCT FROM item.owner_id
                                                    AND territories && array_remove(ARRAY[p_country, p_ship_to], NULL)) THEN
            a := leadrouter_assign_owner(item.team_id, p_country, p_ship_to, NULL, p_now, 1);
            IF a ->> 'assigned_by' = 'territory' AND a ->> 'owner_id' IS DISTINCT FROM item.owner_id THEN
                UPDATE queue_items SET owner_id = a ->> 'owner_id', assigned_by = 'territory',
                       assignment = jsonb_build_object('skipped', a -> 'skipped'),
                       history = history || jsonb_build_array(jsonb_build_object(
                           'at', p_now, 'event', 'reassigned', 'reason', 'country', 'country', coalesce(p_country, p_ship_to),
                           'from_owner', item.owner_id, 'to_owner', a ->> 'owner_id')),
                       updated_at = p_now
                WHERE id = item.id RETURNING * INTO item;
                RETURN jsonb_build_object('item_id', item.id, 'created', false, 'moved', false, 'reassigned', true,
                                          'owner_id', item.owner_id, 'assigned_by', item.assigned_by, 'team_id', item.team_id,
                                          'skipped', a -> 'skipped');
            END IF;
        END IF;
        RETURN item.assignment || jsonb_build_object('item_id', item.id, 'created', false, 'moved', false, 'owner_id', item.owner_id,
                                                     'assigned_by', item.assigned_by, 'team_id', item.team_id);
    END IF;
    IF FOUND THEN
        from_record := jsonb_build_object('queue', item.queue, 'segment', item.segment, 'team_id', item.team_id,
                                          'owner_id', item.owner_id, 'sla_due_at', item.sla_due_at);
        new_team := coalesce(p_team, item.team_id);
        new_owner := item.owner_id;
        new_by := item.assigned_by;
        a := jsonb_build_object('skipped', item.assignment -> 'skipped');
        IF new_team IS DISTINCT FROM item.team_id AND item.state = 'open' THEN
            a := leadrouter_assign_owner(new_team, p_country, p_ship_to, p_domain, p_now);
            new_team := a ->> 'team_id';
            new_owner := a ->> 'owner_id';
            new_by := a ->> 'assigned_by';
        END IF;
        UPDATE queue_items SET queue = p_queue, segment = p_segment, team_id = new_team, owner_id = new_owner,
               assigned_by = new_by, assignment = jsonb_build_object('skipped', coalesce(a -> 'skipped', '[]'::jsonb)),
               priority = p_priority,
               sla_due_at = CASE WHEN sla_breached_at IS NULL THEN least(sla_due_at, p_sla_due_at) ELSE sla_due_at END,
               history = history || jsonb_build_array(jsonb_build_object(
                   'at', p_now, 'event', 'moved', 'from', from_record,
                   'to', jsonb_build_object('queue', p_queue, 'segment', p_segment, 'team_id', new_team, 'owner_id', new_owner))),
               updated_at = p_now
        WHERE id = item.id RETURNING * INTO item;
        INSERT INTO outbox (topic, lead_id, payload) VALUES ('queue.item_moved', p_lead, jsonb_build_object(
            'item_id', item.id, 'lead_id', p_lead, 'moved_at', p_now, 'from', from_record,
            'to', jsonb_build_object('queue', item.queue, 'segment', item.segment, 'team_id', item.team_id,
                                     'owner_id', item.owner_id, 'sla_due_at', item.sla_due_at),
            'state', item.state));
        PERFORM pg_notify('leadrouter_queue', p_queue);
        RETURN jsonb_build_object('item_id', item.id, 'created', false, 'moved', true, 'team_id', item.team_id,
                                  'owner_id', item.owner_id, 'assigned_by', item.assigned_by,
                                  'skipped', coalesce(a -> 'skipped', '[]'::jsonb), 'moved_from', from_record,
                                  'sla_due_at', item.sla_due_at);
    END IF;
    SELECT * INTO item FROM queue_items WHERE lead_id = p_lead AND close_reason = 'acked'
        AND closed_at >= coalesce(p_member_since, p_now) ORDER BY closed_at DESC LIMIT 1;
    IF FOUND THEN
        RETURN item.assignment || jsonb_build_object('item_id', item.id, 'created', false, 'moved', false, 'acked', true,
                                                     'owner_id', item.owner_id, 'assigned_by', item.assigned_by, 'team_id', item.team_id);
    END IF;
    IF p_team IS NULL THEN
        a := jsonb_build_object('team_id', NULL, 'owner_id', NULL, 'assigned_by', 'unassigned', 'skipped', '[]'::jsonb);
    ELSE
        a := leadrouter_assign_owner(p_team, p_country, p_ship_to, p_domain, p_now);
    END IF;
    INSERT INTO queue_items (queue, lead_id, segment, team_id, owner_id, priority, sla_due_at, assigned_by, assignment,
                             created_at, updated_at)
    VALUES (p_queue, p_lead, p_segment, a ->> 'team_id', a ->> 'owner_id', p_priority, p_sla_due_at, a ->> 'assigned_by',
            jsonb_build_object('skipped', a -> 'skipped'), p_now, p_now)
    RETURNING * INTO item;
    PERFORM pg_notify('leadrouter_queue', p_queue);
    RETURN a || jsonb_build_object('item_id', item.id, 'created', true, 'moved', false);
END
$$;

