-- `leads.segments` derived where it is read (issue 23, target 7; docs/postgres.md).
--
-- The lead's current segments were stored twice in its row: as `segments` (text[], ~38 B a row on
-- scripts/bench-storage.sh, ~35 B per event) and as the keys of `segment_entered` (segment →
-- entered at), both written from the engine's memberships in the same statements (the lead
-- INSERT/UPDATE, erasure and merges emptied both). Nothing in the service read `segments` but the
-- privacy export (`to_jsonb(l)`), so the column goes and the export derives it from
-- `segment_entered` with `leadrouter_lead_segments`: the keys in byte order, as the service sorted
-- them (segment names are `leadrouter_name`s, ASCII, where Swift's order and "C" agree).
-- Dropping a column rewrites nothing: old rows keep their bytes until their next update.

-- On Citus: functions are created after a table was changed in this transaction (refused otherwise).
SELECT set_config('citus.multi_shard_modify_mode', 'sequential', true);

ALTER TABLE leads DROP COLUMN segments;

CREATE FUNCTION leadrouter_lead_segments(p_segment_entered jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT ARRAY(SELECT k FROM jsonb_object_keys(p_segment_entered) AS k ORDER BY k COLLATE "C")
$$;
