-- The lead-owner check (0011) on Citus (issue 19): a trigger on a distributed table fires on its
-- shards, where TG_TABLE_NAME is the shard's name (`leads_102008`), so the check took a leads
-- row for a queue item and failed at COMMIT (`record "new" has no field "lead_id"`). A leads
-- row is now recognised by its name or a shard's of it; the function is otherwise unchanged.
SELECT set_config('citus.multi_shard_modify_mode', 'sequential', true);
SELECT leadrouter_replace_in_function('leadrouter_check_lead_owner',
    $q$IF TG_TABLE_NAME = 'leads' THEN$q$,
    $q$IF TG_TABLE_NAME ~ '^leads(_[0-9]+)?$' THEN$q$);
