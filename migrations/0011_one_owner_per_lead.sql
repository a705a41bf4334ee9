-- One open sales item and one owner per lead (issue 21, docs/queues.md).
--
-- A lead that asked for pricing and then a demo was open in two queues with two owners and two
-- SLAs. Now a lead has at most one not-closed item: a later route of the lead's primary segment
-- to another queue MOVES that item (new queue, segment, team, owner when the team changes,
-- the sooner SLA; the move is kept in `history` and announced as `queue.item_moved`), and the
-- lead row's `owner_id` is the open item's owner at every commit (kept so by a trigger on
-- queue_items, checked by a deferred constraint trigger).

-- Items opened twice for one lead before this migration: the most recently routed one stays.
WITH ranked AS (
    SELECT id, row_number() OVER (PARTITION BY lead_id ORDER BY updated_at DESC, created_at DESC, id) AS n
    FROM queue_items WHERE state <> 'closed')
UPDATE queue_items q SET state = 'closed', close_reason = 'cancelled', closed_at = now(), lease_until = NULL, updated_at = now()
FROM ranked WHERE q.id = ranked.id AND ranked.n > 1;

DROP INDEX queue_items_one_open_per_lead;
CREATE UNIQUE INDEX queue_items_one_open_per_lead ON queue_items (lead_id) WHERE state <> 'closed';

-- What happened to the item after it was opened: moves, reassignments, escalations, breaches,
-- each {at, event, ...} (oldest first).
ALTER TABLE queue_items ADD COLUMN history jsonb NOT NULL DEFAULT '[]';

UPDATE leads l SET owner_id = q.owner_id FROM queue_items q
WHERE q.lead_id = l.id AND q.state <> 'closed' AND l.owner_id IS DISTINCT FROM q.owner_id;

-- The lead's owner follows its open item: creation, a move to another team, escalation,
-- reassignment, a merge that hands the item to the survivor. (The item of a brand-new lead is
-- written before the lead row; SalesRouting sets that lead's owner after the row is written.)
CREATE FUNCTION leadrouter_lead_owner_follows_item() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE leads SET owner_id = NEW.owner_id WHERE id = NEW.lead_id AND owner_id IS DISTINCT FROM NEW.owner_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER queue_items_new_owner_to_lead AFTER INSERT ON queue_items
    FOR EACH ROW WHEN (NEW.state <> 'closed') EXECUTE FUNCTION leadrouter_lead_owner_follows_item();
CREATE TRIGGER queue_items_owner_to_lead AFTER UPDATE OF owner_id, lead_id, state ON queue_items
    FOR EACH ROW WHEN (NEW.state <> 'closed' AND (OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.lead_id <> NEW.lead_id
                                                  OR OLD.state = 'closed'))
    EXECUTE FUNCTION leadrouter_lead_owner_follows_item();

-- The check, at commit: a lead with an open item has that item's owner (NULL when unassigned).
CREATE FUNCTION leadrouter_check_lead_owner() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    lead uuid;
    item_owner text;
    lead_owner text;
BEGIN
    IF TG_TABLE_NAME = 'leads' THEN lead := NEW.id; ELSE lead := NEW.lead_id; END IF;
    SELECT owner_id INTO item_owner FROM queue_items WHERE lead_id = lead AND state <> 'closed';
    IF NOT FOUND THEN RETURN NULL; END IF;
    SELECT owner_id INTO lead_owner FROM leads WHERE id = lead;
    IF NOT FOUND THEN RETURN NULL; END IF;   -- the deferred foreign key reports a missing lead
    IF lead_owner IS DISTINCT FROM item_owner THEN
        RAISE EXCEPTION 'lead % has owner % but its open queue item has owner %', lead, lead_owner, item_owner
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER queue_items_lead_owner_agrees AFTER INSERT OR UPDATE OF owner_id, lead_id, state ON queue_items
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.state <> 'closed')
    EXECUTE FUNCTION leadrouter_check_lead_owner();
CREATE CONSTRAINT TRIGGER leads_owner_agrees_with_item AFTER UPDATE OF owner_id ON leads
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id)
    EXECUTE FUNCTION leadrouter_check_lead_owner();

-- The sales action of a decision. The lead's not-closed item (in any queue):
--   * in `p_queue`: priority and segment updated;
--   * in another queue: moved here (the engine routes the primary segment, so this route
--     outranks the one that opened it, or that segment was left): queue, segment, team; a new
--     owner from leadrouter_assign_owner when the team changes and nobody holds a claim on it;
--     the sooner of the two SLA due times (a breach already recorded stays); the move appended
--     to `history` and a `queue.item_moved` outbox row;
-- none: unless sales acked an item of the lead since it entered the routing segment
-- (`p_member_since`), a new item with an owner from leadrouter_assign_owner.
-- Returns {item_id, created, moved, team_id, owner_id, assigned_by, skipped, acked?, moved_from?}.
DROP FUNCTION leadrouter_route_to_queue(uuid, text, text, text, double precision, timestamptz, text, text, text, timestamptz, timestamptz);
CREATE FUNCTION leadrouter_route_to_queue(p_lead uuid, p_queue text, p_segment text, p_team text, p_priority double precision,
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

-- A merged lead's open item goes to the survivor unless the survivor has one already (then the
-- loser's is cancelled): one open item per person. The owner trigger above moves the owner too.
CREATE OR REPLACE FUNCTION leadrouter_move_queue_items_on_merge() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE queue_items l SET state = 'closed', close_reason = 'cancelled', closed_at = now(), lease_until = NULL, updated_at = now()
    WHERE l.lead_id = NEW.id AND l.state <> 'closed'
      AND EXISTS (SELECT 1 FROM queue_items s WHERE s.lead_id = NEW.merged_into AND s.state <> 'closed');
    UPDATE queue_items SET lead_id = NEW.merged_into, updated_at = now(),
           history = history || jsonb_build_array(jsonb_build_object('at', now(), 'event', 'lead_merged', 'from_lead', NEW.id))
    WHERE lead_id = NEW.id AND state <> 'closed';
    RETURN NULL;
END
$$;
