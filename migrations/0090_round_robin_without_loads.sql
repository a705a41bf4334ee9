-- Round robin without every member's load (issue 23, target 5; docs/queues.md#assignment).
--
-- `leadrouter_assign_owner` runs while its team's round-robin row is locked, so what it costs is
-- paid by every sales-routed event of the team in turn. Its member query counted each member's
-- open items (`leadrouter_owner_load`) in its select list for every strategy, although only
-- `least_loaded` orders by it and nothing reads the column: with three reps at capacity that was
-- six counts per assignment, three of them unused (pg_stat_statements over 10 s of pricing
-- requests, docs/benchmarks/queues.md). The load is now computed only in the ORDER BY of
-- `least_loaded` (a CASE evaluates its branch only when taken); `leadrouter_owner_blocked` still
-- counts the load of each member it considers, so capacities are as exact as before.
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
            SELECT tm.owner_id, tm.position
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
