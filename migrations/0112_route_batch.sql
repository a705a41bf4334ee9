-- A lane batch's routes in one statement, and no write of the team's round-robin row per
-- assignment just to find it (issue 23, target 5; docs/queues.md#assignment).
--
-- Every statement of a routing round trip after the team rows are locked is paid with the lock
-- held by every sales-routed batch of that team in turn. A batch of ten new leads sent ten
-- `SELECT leadrouter_route_to_queue(…)` statements (each parsed, bound, executed, counted and
-- answered on its own); `leadrouter_route_batch` runs the same function for each of them, in the
-- order given, in ONE statement and answers a jsonb array of their answers, in that order. What
-- each route does, and in what order, is unchanged.
CREATE FUNCTION leadrouter_route_batch(p_routes jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    r jsonb;
    answers jsonb := '[]';
BEGIN
    -- Times travel as epoch microseconds (exact; `Date` as a parameter is rounded the same way).
    FOR r IN SELECT e FROM jsonb_array_elements(p_routes) WITH ORDINALITY AS x(e, n) ORDER BY n LOOP
        answers := answers || jsonb_build_array(leadrouter_route_to_queue(
            (r ->> 'l')::uuid, r ->> 'q', r ->> 's', r ->> 't', (r ->> 'p')::float8,
            timestamptz 'epoch' + (r ->> 'd')::int8 * interval '1 microsecond',
            r ->> 'c', r ->> 'r', r ->> 'o',
            timestamptz 'epoch' + (r ->> 'n')::int8 * interval '1 microsecond',
            timestamptz 'epoch' + (r ->> 'm')::int8 * interval '1 microsecond'));
    END LOOP;
    RETURN answers;
END
$$;

-- `leadrouter_assign_owner` ran `INSERT INTO round_robin_state … ON CONFLICT DO NOTHING` before
-- locking the row, for every assignment: the row exists from the team's first assignment (and
-- from ruleset activation) on, so that is an index probe and a speculative-insert attempt each
-- time. The row is now locked first and inserted only when it is missing.
SELECT leadrouter_replace_in_function('leadrouter_assign_owner',
    $q$    INSERT INTO round_robin_state (team_id) VALUES (p_team) ON CONFLICT DO NOTHING;
    SELECT * INTO rr FROM round_robin_state WHERE team_id = p_team FOR UPDATE;$q$,
    $q$    SELECT * INTO rr FROM round_robin_state WHERE team_id = p_team FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO round_robin_state (team_id) VALUES (p_team) ON CONFLICT DO NOTHING;
        SELECT * INTO rr FROM round_robin_state WHERE team_id = p_team FOR UPDATE;
    END IF;$q$);
