-- Merges move a lead's rows without updating the distribution column (issue 19,
-- docs/scale-out.md#citus-what-it-cannot-run-as-it-was-and-the-design-for-both). Citus refuses
-- `UPDATE … SET lead_id` on a table distributed by lead_id (`modifying the partition value of
-- rows is not allowed`): the loser's rows are on another shard than the survivor's. A merge
-- now copies them under the survivor and deletes the originals, in its own transaction
-- (Store.markMerged, Store.moveIdentitiesAndEvents), keeping their ids.

SELECT set_config('citus.enable_unsafe_triggers', 'on', true), set_config('citus.multi_shard_modify_mode', 'sequential', true);

-- The loser's open queue item went to the survivor by a trigger on leads.merged_into, which
-- updated queue_items.lead_id; Store.markMerged moves it now.
DROP TRIGGER leads_merge_moves_queue_items ON leads;
DROP FUNCTION leadrouter_move_queue_items_on_merge();

-- The loser's membership history goes to the survivor. On plain PostgreSQL an UPDATE, as before:
-- a copy would be counted again by the rollup trigger on INSERT (migration 0021). On Citus a
-- copy and a delete (the rollups there do not come from that trigger).
CREATE FUNCTION leadrouter_move_membership_history(p_loser uuid, p_survivor uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT leadrouter_on_citus() THEN
        UPDATE membership_history SET lead_id = p_survivor WHERE lead_id = p_loser;
        RETURN;
    END IF;
    WITH moved AS (
        DELETE FROM membership_history WHERE lead_id = p_loser
        RETURNING id, segment, change, reason, ruleset_version, event_id, occurred_at, reason_packed)
    INSERT INTO membership_history (id, lead_id, segment, change, reason, ruleset_version, event_id, occurred_at, reason_packed)
    SELECT id, p_survivor, segment, change, reason, ruleset_version, event_id, occurred_at, reason_packed FROM moved;
END
$$;
