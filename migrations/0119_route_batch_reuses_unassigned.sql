-- A lane batch asks a full team once (issue 23, target 5; docs/queues.md#assignment).
--
-- When every member of a team is at capacity (the steady state of the pricing benchmark,
-- docs/benchmarks/queues.md: three reps at 25/25 and every further new lead unassigned), each
-- new item of the team ran the whole of `leadrouter_assign_owner` under the team's round-robin
-- lock — the team row, the rotation's position, the member query and, per member, the owner,
-- its capacity and a count of its open items — to find, once more, that nobody can take it.
--
-- Inside one `leadrouter_route_batch` statement nothing but the batch's own routes changes what
-- assignment reads, apart from other sessions' commits: so an answer that assigned nobody is
-- kept for the rest of the batch (keyed by everything assignment reads of the lead: team,
-- country, ship-to region, company domain) and given again to the next new item with the same
-- key — until a route of the batch assigns an owner or touches an existing item, which forgets
-- every kept answer (it may have changed a load or the rotation). Only "nobody" is reused, never
-- an owner: a kept answer can only leave an item unassigned, never put one over a capacity. What
-- another session commits meanwhile (an ack that frees a rep) is seen by the next batch instead
-- of the next route of this one, as if this batch's routes had run before it.
--
-- The kept answers live in a transaction-local setting that only `leadrouter_route_batch` sets
-- (and empties when it ends), so a `leadrouter_route_to_queue` statement of its own assigns as
-- before.
CREATE FUNCTION leadrouter_assign_owner_in_batch(p_team text, p_country text, p_ship_to text, p_domain text, p_now timestamptz)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    kept text := current_setting('leadrouter.unassigned', true);
    key text;
    a jsonb;
BEGIN
    IF kept IS NULL OR kept = '' THEN
        RETURN leadrouter_assign_owner(p_team, p_country, p_ship_to, p_domain, p_now);
    END IF;
    key := jsonb_build_array(p_team, p_country, p_ship_to, p_domain)::text;
    a := kept::jsonb -> key;
    IF a IS NOT NULL THEN RETURN a; END IF;
    a := leadrouter_assign_owner(p_team, p_country, p_ship_to, p_domain, p_now);
    IF a ->> 'owner_id' IS NULL THEN
        PERFORM set_config('leadrouter.unassigned', (kept::jsonb || jsonb_build_object(key, a))::text, true);
    END IF;
    RETURN a;
END
$$;

-- A new item's assignment goes through it (the other two calls, a move to another team and a
-- reassignment for a country, touch an existing item: their routes forget the kept answers).
SELECT leadrouter_replace_in_function('leadrouter_route_to_queue',
    $q$        a := leadrouter_assign_owner(p_team, p_country, p_ship_to, p_domain, p_now);
    END IF;
    packed := leadrouter_skipped_pack(a -> 'skipped');$q$,
    $q$        a := leadrouter_assign_owner_in_batch(p_team, p_country, p_ship_to, p_domain, p_now);
    END IF;
    packed := leadrouter_skipped_pack(a -> 'skipped');$q$);

CREATE OR REPLACE FUNCTION leadrouter_route_batch(p_routes jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    r jsonb;
    answer jsonb;
    answers jsonb := '[]';
BEGIN
    PERFORM set_config('leadrouter.unassigned', '{}', true);
    -- Times travel as epoch microseconds (exact; `Date` as a parameter is rounded the same way).
    FOR r IN SELECT e FROM jsonb_array_elements(p_routes) WITH ORDINALITY AS x(e, n) ORDER BY n LOOP
        answer := leadrouter_route_to_queue(
            (r ->> 'l')::uuid, r ->> 'q', r ->> 's', r ->> 't', (r ->> 'p')::float8,
            timestamptz 'epoch' + (r ->> 'd')::int8 * interval '1 microsecond',
            r ->> 'c', r ->> 'r', r ->> 'o',
            timestamptz 'epoch' + (r ->> 'n')::int8 * interval '1 microsecond',
            timestamptz 'epoch' + (r ->> 'm')::int8 * interval '1 microsecond');
        -- an owner assigned, or an existing item updated, moved or reassigned: forget
        IF answer ->> 'owner_id' IS NOT NULL OR (answer ->> 'created')::boolean IS NOT TRUE THEN
            PERFORM set_config('leadrouter.unassigned', '{}', true);
        END IF;
        answers := answers || jsonb_build_array(answer);
    END LOOP;
    PERFORM set_config('leadrouter.unassigned', '', true);
    RETURN answers;
END
$$;
