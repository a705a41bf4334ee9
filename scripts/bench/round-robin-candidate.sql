-- CANDIDATE, not a migration: measured by scripts/bench-round-robin-locks.sh; kept as
-- migrations/0034_round_robin_turns.sql on branch rr-lock-candidate with its tests. Not merged
-- (docs/benchmarks/queues.md#round-robin-lock-waits says why).
-- Round robin that does not serialise sales-routed events (issue 23, target 5; docs/queues.md#assignment).
--
-- Until now every assignment locked the team's round_robin_state row (FOR UPDATE) and held it
-- until the event's whole transaction committed: under pricing load, every new sales-routed
-- lead of a team queued behind the one before it, for the length of that one's transaction.
-- The lock did two jobs, now done separately and without waiting:
--   * the rotation: a per-team sequence hands out turns (nextval never blocks and never rolls
--     back); turn t offers the member at t mod k of the pool (k members, position order), and a
--     member who cannot take the lead costs one more turn, so skipping a full member does not
--     give its share to its neighbour. Concurrent routers draw distinct turns, so they spread.
--   * capacity: only an owner with a capacity needs a lock, and it is the OWNER's row (FOR NO
--     KEY UPDATE, held to commit, so the next assignment to them counts this item): taken with
--     SKIP LOCKED, an owner being assigned by another transaction right now is passed over for
--     the next turn, and waited for only when nobody else in the pool can take the lead — so a
--     lead is never left unassigned, or over capacity, because of concurrency.
-- Cost: turns are not given back when a transaction rolls back (a member may miss one turn),
-- least_loaded breaks ties by position instead of after the team's last pick, and round_robin_state's
-- last_owner_id/turn are no longer written.

-- Makes `p_team`'s turn sequence if it is missing.
CREATE FUNCTION leadrouter_team_turns_create(p_team text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I MINVALUE 0 START 0', 'leadrouter_turn_' || md5(p_team));
END
$$;

-- A team's sequence is made with the team (ruleset sync), so no event's transaction creates it:
-- an uncommitted CREATE would make every other router of the team wait for that transaction.
CREATE FUNCTION leadrouter_teams_turns_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM leadrouter_team_turns_create(NEW.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER teams_turns AFTER INSERT ON teams FOR EACH ROW EXECUTE FUNCTION leadrouter_teams_turns_trigger();
SELECT leadrouter_team_turns_create(id) FROM teams;

-- The next turn of `p_team`'s rotation (the sequence is made here only for a team inserted
-- before this migration's trigger existed and missed by it, which cannot happen after it ran).
CREATE FUNCTION leadrouter_team_turn(p_team text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    seq text := 'leadrouter_turn_' || md5(p_team);
BEGIN
    IF to_regclass(seq) IS NULL THEN
        BEGIN
            PERFORM leadrouter_team_turns_create(p_team);
        EXCEPTION WHEN unique_violation OR duplicate_table THEN NULL;  -- another router made it first
        END;
    END IF;
    RETURN nextval(seq);
END
$$;

-- Why `p_owner` cannot take a lead for `p_team` now, or NULL when they can (reasons as in
-- leadrouter_owner_blocked). When they have a capacity and room, their owner row is locked to
-- commit and the room counted again; 'busy' when another transaction holds it and `p_wait` is false.
CREATE FUNCTION leadrouter_owner_take(p_owner text, p_team text, p_wait boolean) RETURNS text LANGUAGE plpgsql AS $$
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
    IF cap IS NULL THEN RETURN NULL; END IF;
    -- full already (committed items): no lock, so a full owner never makes anyone wait
    load := leadrouter_owner_load(p_owner);
    IF load >= cap THEN RETURN format('at_capacity (%s/%s)', load, cap); END IF;
    IF p_wait THEN
        PERFORM 1 FROM owners WHERE id = p_owner FOR NO KEY UPDATE;
    ELSE
        PERFORM 1 FROM owners WHERE id = p_owner FOR NO KEY UPDATE SKIP LOCKED;
        IF NOT FOUND THEN RETURN 'busy'; END IF;
    END IF;
    -- this transaction now holds an owner lock: it must not wait for another (see the rotation)
    PERFORM set_config('leadrouter.owner_locked', 'on', true);
    -- a new statement, a new snapshot: the previous holder's item is counted
    load := leadrouter_owner_load(p_owner);
    IF load >= cap THEN RETURN format('at_capacity (%s/%s)', load, cap); END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION leadrouter_assign_owner(p_team text, p_country text, p_ship_to text, p_domain text,
                                        p_now timestamptz, p_depth integer DEFAULT 0)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    t teams;
    skipped jsonb := '[]';
    account_owner text;
    why text;
    chosen text;
    step text;
    pool_step text;
    pool text[];
    seen text[];
    busy text[];
    cand text;
    k integer;
    attempts integer;
    nested jsonb;
    codes text[] := array_remove(ARRAY[p_country, p_ship_to], NULL);
BEGIN
    SELECT * INTO t FROM teams WHERE id = p_team;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('team_id', p_team, 'owner_id', NULL, 'assigned_by', 'unassigned',
                                  'skipped', jsonb_build_array(jsonb_build_object('owner_id', NULL, 'step', 'team', 'reason', 'unknown_team')));
    END IF;

    -- 1. account
    IF p_domain IS NOT NULL THEN
        SELECT owner_id INTO account_owner FROM accounts WHERE domain = lower(p_domain);
        IF account_owner IS NOT NULL THEN
            why := leadrouter_owner_take(account_owner, p_team, true);
            IF why IS NULL THEN
                RETURN jsonb_build_object('team_id', p_team, 'owner_id', account_owner, 'assigned_by', 'account', 'skipped', skipped);
            END IF;
            skipped := skipped || jsonb_build_object('owner_id', account_owner, 'step', 'account', 'reason', why);
        END IF;
    END IF;

    -- 2. territory, then 3. the strategy over the generalists
    FOREACH pool_step IN ARRAY ARRAY['territory', 'strategy'] LOOP
        step := CASE WHEN pool_step = 'territory' THEN 'territory' ELSE t.strategy END;
        -- a territory member already skipped is not reconsidered as a generalist
        pool := ARRAY(
            SELECT tm.owner_id FROM team_members tm
            WHERE tm.team_id = p_team
              AND CASE WHEN pool_step = 'territory' THEN tm.territories && codes
                       WHEN t.territory_fallback = 'all' THEN true
                       ELSE cardinality(tm.territories) = 0
                            OR NOT EXISTS (SELECT 1 FROM team_members g WHERE g.team_id = p_team AND cardinality(g.territories) = 0) END
              AND tm.owner_id IS DISTINCT FROM account_owner
              AND NOT skipped @> jsonb_build_array(jsonb_build_object('owner_id', tm.owner_id))
            ORDER BY CASE WHEN t.strategy = 'least_loaded' THEN leadrouter_owner_load(tm.owner_id) ELSE 0 END, tm.position);
        k := cardinality(pool);
        CONTINUE WHEN k = 0;
        seen := '{}';
        busy := '{}';
        IF t.strategy <> 'least_loaded' THEN
            -- one turn per member offered; concurrent routers may draw a member this call has
            -- seen, so at most 2k turns, then the members not yet offered in position order
            attempts := 0;
            WHILE cardinality(seen) < k AND attempts < 2 * k LOOP
                attempts := attempts + 1;
                cand := pool[(leadrouter_team_turn(p_team) % k) + 1];
                CONTINUE WHEN cand = ANY(seen);
                seen := seen || cand;
                -- The turn's member is waited for (exact rotation) unless this transaction
                -- already holds an owner lock (an earlier lead of its batch): holding one while
                -- waiting for another could deadlock with a batch doing the reverse; it passes over.
                why := leadrouter_owner_take(cand, p_team,
                                             current_setting('leadrouter.owner_locked', true) IS DISTINCT FROM 'on');
                IF why IS NULL THEN chosen := cand; EXIT; END IF;
                IF why = 'busy' THEN busy := busy || cand;
                ELSE skipped := skipped || jsonb_build_object('owner_id', cand, 'step', step, 'reason', why); END IF;
            END LOOP;
        END IF;
        IF chosen IS NULL THEN
            FOREACH cand IN ARRAY pool LOOP
                CONTINUE WHEN cand = ANY(seen);
                why := leadrouter_owner_take(cand, p_team, false);
                IF why IS NULL THEN chosen := cand; EXIT; END IF;
                IF why = 'busy' THEN busy := busy || cand;
                ELSE skipped := skipped || jsonb_build_object('owner_id', cand, 'step', step, 'reason', why); END IF;
            END LOOP;
        END IF;
        -- nobody else can: wait for those another transaction is assigning right now
        IF chosen IS NULL THEN
            FOREACH cand IN ARRAY busy LOOP
                why := leadrouter_owner_take(cand, p_team, true);
                IF why IS NULL THEN chosen := cand; EXIT; END IF;
                skipped := skipped || jsonb_build_object('owner_id', cand, 'step', step, 'reason', why);
            END LOOP;
        END IF;
        IF chosen IS NOT NULL THEN
            RETURN jsonb_build_object('team_id', p_team, 'owner_id', chosen, 'skipped', skipped, 'assigned_by',
                CASE WHEN pool_step = 'territory' THEN 'territory'
                     WHEN t.strategy = 'least_loaded' THEN 'least_loaded' ELSE 'round_robin' END);
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
