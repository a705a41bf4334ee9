-- The skipped list's pack checks each entry as it packs it instead of unpacking the text and
-- comparing (issue 23, target 5; docs/queues.md#assignment).
--
-- `leadrouter_skipped_pack` (0105) runs for every new queue item, under the team's round-robin
-- lock: it built the text, then proved it exact by `leadrouter_skipped_unpack` (a JSON text
-- built and parsed) and a jsonb comparison — about half of its ~25 µs. The same proof, done per
-- entry from what the unpack would give back: an entry packs when it is an object with exactly
-- the keys step, reason and owner_id; the step is one of the six the text has a letter for; the
-- reason is one of the four with a letter, or `at_capacity (X)` whose X holds neither `,` nor `:`
-- (the entry's separators) and is not itself a letter (`at_capacity (u)` would come back as
-- `unavailable`); and the owner is JSON null or a string without `,`. Anything else answers NULL
-- (the item keeps the jsonb), as before: the same texts and the same refusals
-- (Tests/PostgresTests/SkippedPackTests.swift; a cross-check of 1 879 generated lists, 182 of them
-- packable, gave identical answers to 0105's). `leadrouter_skipped_unpack` stays as the reader.
CREATE OR REPLACE FUNCTION leadrouter_skipped_pack(p_skipped jsonb) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    e jsonb;
    reason text;
    code text;
    step text;
    owner text;
    packed text := '';
BEGIN
    IF jsonb_typeof(p_skipped) IS DISTINCT FROM 'array' THEN RETURN NULL; END IF;
    FOR e IN SELECT jsonb_array_elements(p_skipped) LOOP
        IF jsonb_typeof(e) <> 'object' OR NOT e ?& ARRAY['step', 'reason', 'owner_id']
           OR e - ARRAY['step', 'reason', 'owner_id'] <> '{}' THEN
            RETURN NULL;
        END IF;
        -- ->> of a non-string never spells one of these names
        step := CASE e ->> 'step' WHEN 'round_robin' THEN 'r' WHEN 'territory' THEN 't' WHEN 'account' THEN 'a'
                                  WHEN 'least_loaded' THEN 'l' WHEN 'account_owner' THEN 'o' WHEN 'team' THEN 'T' END;
        reason := e ->> 'reason';
        code := CASE WHEN reason = 'unavailable' THEN 'u' WHEN reason = 'inactive' THEN 'i'
                     WHEN reason = 'unknown_owner' THEN 'o' WHEN reason = 'unknown_team' THEN 'T'
                     WHEN left(reason, 13) = 'at_capacity (' AND right(reason, 1) = ')' AND length(reason) >= 14
                          THEN substr(reason, 14, length(reason) - 14) END;
        owner := e ->> 'owner_id';
        IF step IS NULL OR code IS NULL OR strpos(code, ',') > 0 OR strpos(code, ':') > 0
           OR (code IN ('i', 'u', 'o', 'T') AND left(reason, 13) = 'at_capacity (')
           OR strpos(owner, ',') > 0 OR jsonb_typeof(e -> 'owner_id') NOT IN ('string', 'null') THEN
            RETURN NULL;
        END IF;
        packed := packed || CASE WHEN packed = '' THEN '' ELSE ',' END || step || code || coalesce(':' || owner, '');
    END LOOP;
    RETURN packed;
END
$$;
