-- Sales queues and owner assignment (issue 6, docs/queues.md).
--
-- Assignment runs in the database, as ONE statement per routed lead, inside the decision's
-- transaction: the team's round_robin_state row is locked (FOR UPDATE) first, so rotations and
-- capacity counts stay exact when several nodes route leads of one team at the same time.

-- Availability is the rep's own switch (PATCH /v1/owners/{id}); `active` stays the HR flag.
ALTER TABLE owners ADD COLUMN available boolean NOT NULL DEFAULT true;

-- The team that takes a lead nobody in this team can take, and an SLA breach.
ALTER TABLE teams ADD COLUMN escalate_to leadrouter_name;

-- How the item got its owner (account, territory, round_robin, least_loaded, escalation,
-- unassigned) with whom assignment skipped and why; the first claim (time to claim); the SLA breach.
ALTER TABLE queue_items
    ADD COLUMN assigned_by      text,
    ADD COLUMN assignment       jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN first_claimed_at timestamptz,
    ADD COLUMN sla_breached_at  timestamptz,
    ADD COLUMN outcome          text;

-- Closing reasons: an unsubscribed lead leaves the queue too.
ALTER TABLE queue_items DROP CONSTRAINT queue_items_close_reason_check;
ALTER TABLE queue_items ADD CONSTRAINT queue_items_close_reason_check CHECK (close_reason IS NULL OR
    close_reason IN ('acked', 'exited_segment', 'converted', 'unsubscribed', 'expired', 'cancelled'));

-- The item of a brand-new lead is written before the lead row in the same transaction (the
-- routing call comes first, the pipelined lead insert after): the reference is checked at commit.
ALTER TABLE queue_items ALTER CONSTRAINT queue_items_lead_id_fkey DEFERRABLE INITIALLY DEFERRED;

-- Capacity: an owner's load is their open + claimed items.
CREATE INDEX queue_items_owner_load_idx ON queue_items (owner_id) WHERE state <> 'closed';
-- SLA worker: unclaimed items past due, not yet escalated.
CREATE INDEX queue_items_sla_due_idx ON queue_items (sla_due_at)
    WHERE state = 'open' AND first_claimed_at IS NULL AND sla_breached_at IS NULL;
-- GET /v1/queues/{queue}/stats: time to claim over claimed items.
CREATE INDEX queue_items_claimed_time_idx ON queue_items (queue, first_claimed_at) WHERE first_claimed_at IS NOT NULL;

-- An owner's open + claimed items.
CREATE FUNCTION leadrouter_owner_load(p_owner text) RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT count(*)::integer FROM queue_items WHERE owner_id = p_owner AND state <> 'closed'
$$;

-- Why `p_owner` cannot take a lead for team `p_team` now, or NULL when they can: unknown,
-- inactive, unavailable, or at capacity (the team membership's capacity, else the owner's).
CREATE FUNCTION leadrouter_owner_blocked(p_owner text, p_team text) RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    o owners;
    cap integer;
    load integer;
BEGIN
    SELECT * INTO o FROM owners WHERE id = p_owner;
    IF NOT FOUND THEN RETURN 'unknown_owner'; END IF;
    IF NOT o.active THEN RETURN 'inactive'; END IF;
    IF NOT o.available THEN RETURN 'unavailable'; END IF;
    SELECT capacity INTO cap FROM team_members WHERE team_id = p_team AND owner_id = p_owner;
    cap := coalesce(cap, o.capacity);
    IF cap IS NOT NULL THEN
        load := leadrouter_owner_load(p_owner);
        IF load >= cap THEN RETURN format('at_capacity (%s/%s)', load, cap); END IF;
    END IF;
    RETURN NULL;
END
$$;

-- Picks the owner of a new item for team `p_team`:
--   1. account: the company domain's owner (accounts), if they can take it;
--   2. territory: members covering the lead's country or ship-to region, rotated by the strategy;
--   3. strategy: round_robin (next in position order after the team's last pick) or least_loaded
--      (fewest open + claimed items) over the members without territories (all members if every
--      member has some); members unavailable or at capacity are skipped;
--   4. nobody: the team's escalate_to team (once), else unassigned.
-- Returns {team_id, owner_id, assigned_by, skipped: [{owner_id, step, reason}]}.
CREATE FUNCTION leadrouter_assign_owner(p_team text, p_country text, p_ship_to text, p_domain text,
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

-- The sales action of a decision: updates the lead's not-closed item of `p_queue` (priority,
-- segment) or creates one with an owner from leadrouter_assign_owner and wakes long polls
-- (NOTIFY on commit). A lead whose item was acked since it entered the routing segment
-- (`p_member_since`) is not queued again: sales already worked it.
-- Returns {item_id, created, team_id, owner_id, assigned_by, skipped}.
CREATE FUNCTION leadrouter_route_to_queue(p_lead uuid, p_queue text, p_segment text, p_team text, p_priority double precision,
                                          p_sla_due_at timestamptz, p_country text, p_ship_to text, p_domain text,
                                          p_now timestamptz, p_member_since timestamptz)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    item queue_items;
    a jsonb;
BEGIN
    SELECT * INTO item FROM queue_items WHERE queue = p_queue AND lead_id = p_lead AND state <> 'closed' FOR UPDATE;
    IF FOUND THEN
        UPDATE queue_items SET priority = p_priority, segment = p_segment, updated_at = p_now WHERE id = item.id;
        RETURN item.assignment || jsonb_build_object('item_id', item.id, 'created', false, 'owner_id', item.owner_id,
                                                     'assigned_by', item.assigned_by, 'team_id', item.team_id);
    END IF;
    SELECT * INTO item FROM queue_items WHERE queue = p_queue AND lead_id = p_lead AND close_reason = 'acked'
        AND created_at >= coalesce(p_member_since, p_now) ORDER BY closed_at DESC LIMIT 1;
    IF FOUND THEN
        RETURN item.assignment || jsonb_build_object('item_id', item.id, 'created', false, 'owner_id', item.owner_id,
                                                     'assigned_by', item.assigned_by, 'team_id', item.team_id);
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
    RETURN a || jsonb_build_object('item_id', item.id, 'created', true);
END
$$;

-- A lead merged into another takes its queue items along: each not-closed item moves to the
-- survivor, unless the survivor already has one in that queue (then the loser's is cancelled),
-- so a merged person is never worked twice.
CREATE FUNCTION leadrouter_move_queue_items_on_merge() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE queue_items l SET state = 'closed', close_reason = 'cancelled', closed_at = now(), lease_until = NULL, updated_at = now()
    WHERE l.lead_id = NEW.id AND l.state <> 'closed'
      AND EXISTS (SELECT 1 FROM queue_items s WHERE s.lead_id = NEW.merged_into AND s.queue = l.queue AND s.state <> 'closed');
    UPDATE queue_items SET lead_id = NEW.merged_into, updated_at = now() WHERE lead_id = NEW.id AND state <> 'closed';
    RETURN NULL;
END
$$;
CREATE TRIGGER leads_merge_moves_queue_items AFTER UPDATE OF merged_into ON leads
    FOR EACH ROW WHEN (OLD.merged_into IS NULL AND NEW.merged_into IS NOT NULL)
    EXECUTE FUNCTION leadrouter_move_queue_items_on_merge();
