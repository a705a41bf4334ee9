-- Whether an owner can take a lead, in one lookup instead of three (issue 23, target 5;
-- docs/queues.md#assignment).
--
-- `leadrouter_assign_owner` asks `leadrouter_owner_blocked` about each member it considers, with
-- its team's round-robin row locked — so every query it runs is paid by every assignment of the
-- team in turn. It read the owner row, then the membership's capacity, then called
-- `leadrouter_owner_load` for the count: three statements and a function call per member, and a
-- team whose members are all at capacity (the steady state of docs/benchmarks/queues.md's
-- pricing load) asks about each of them for every new lead. Now the owner and the membership are
-- read in one statement (both small tables: reference tables on Citus) and the load is counted
-- in place, by the same count `leadrouter_owner_load` runs. Same answers, same order of checks.
CREATE OR REPLACE FUNCTION leadrouter_owner_blocked(p_owner text, p_team text) RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    o record;
    load integer;
BEGIN
    SELECT ow.active, ow.available, coalesce(tm.capacity, ow.capacity) AS cap INTO o
    FROM owners ow LEFT JOIN team_members tm ON tm.team_id = p_team AND tm.owner_id = ow.id
    WHERE ow.id = p_owner;
    IF NOT FOUND THEN RETURN 'unknown_owner'; END IF;
    IF NOT o.active THEN RETURN 'inactive'; END IF;
    IF NOT o.available THEN RETURN 'unavailable'; END IF;
    IF o.cap IS NOT NULL THEN
        SELECT count(*)::integer INTO load FROM queue_items WHERE owner_id = p_owner AND state <> 'closed';
        IF load >= o.cap THEN RETURN format('at_capacity (%s/%s)', load, o.cap); END IF;
    END IF;
    RETURN NULL;
END
$$;

-- Moving or reassigning a queue item failed on Citus since 0105: its UPDATE of `queue_items` (a
-- distributed table) said `assignment = CASE WHEN packed IS NULL THEN jsonb_build_object(…) END`,
-- and Citus refuses a non-IMMUTABLE function (jsonb_build_object is STABLE) in a CASE of a
-- distributed UPDATE (`non-IMMUTABLE functions are not allowed in CASE or COALESCE statements`,
-- seen as a 500 by GenerativeIngestTests on Citus, seed 931473193: a lead whose company made it
-- move from the high-intent queue). The value is now computed in plpgsql first and the UPDATE
-- writes the variable: the same value on both, and the INSERT of a new item (whose VALUES Citus
-- evaluates on the coordinator) is unchanged.
SELECT leadrouter_replace_in_function('leadrouter_route_to_queue',
    $q$    packed text;
    from_record jsonb;$q$,
    $q$    packed text;
    whole jsonb;
    from_record jsonb;$q$);
SELECT leadrouter_replace_in_function('leadrouter_route_to_queue',
    $q$                packed := leadrouter_skipped_pack(a -> 'skipped');
                UPDATE queue_items SET owner_id = a ->> 'owner_id', assigned_by = 'territory',
                       assignment = CASE WHEN packed IS NULL THEN jsonb_build_object('skipped', a -> 'skipped') END,$q$,
    $q$                packed := leadrouter_skipped_pack(a -> 'skipped');
                whole := CASE WHEN packed IS NULL THEN jsonb_build_object('skipped', a -> 'skipped') END;
                UPDATE queue_items SET owner_id = a ->> 'owner_id', assigned_by = 'territory',
                       assignment = whole,$q$);
SELECT leadrouter_replace_in_function('leadrouter_route_to_queue',
    $q$        packed := leadrouter_skipped_pack(coalesce(a -> 'skipped', '[]'::jsonb));
        UPDATE queue_items SET queue = p_queue, segment = p_segment, team_id = new_team, owner_id = new_owner,
               assigned_by = new_by,
               assignment = CASE WHEN packed IS NULL THEN jsonb_build_object('skipped', coalesce(a -> 'skipped', '[]'::jsonb)) END,$q$,
    $q$        packed := leadrouter_skipped_pack(coalesce(a -> 'skipped', '[]'::jsonb));
        whole := CASE WHEN packed IS NULL THEN jsonb_build_object('skipped', coalesce(a -> 'skipped', '[]'::jsonb)) END;
        UPDATE queue_items SET queue = p_queue, segment = p_segment, team_id = new_team, owner_id = new_owner,
               assigned_by = new_by,
               assignment = whole,$q$);
