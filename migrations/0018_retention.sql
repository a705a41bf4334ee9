-- Retention (issue 17): nothing removed old rows, so the database only grew. The retention job
-- (one node at a time, under an advisory lock) prunes by age; these functions are its DDL, the
-- only part that needs identifiers built at run time.

-- Monthly event partitions (events_YYYY_MM, created by leadrouter_ensure_event_partitions) whose
-- whole month ends at or before `cutoff`, oldest first. events_default is never listed.
CREATE FUNCTION leadrouter_event_partitions_ending_by(cutoff timestamptz)
RETURNS TABLE (partition_name text, month_start timestamptz, month_end timestamptz) LANGUAGE sql STABLE AS $$
    SELECT c.relname::text, to_timestamp(substr(c.relname, 8), 'YYYY_MM'),
           to_timestamp(substr(c.relname, 8), 'YYYY_MM') + interval '1 month'
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'events'::regclass AND c.relname ~ '^events_[0-9]{4}_[0-9]{2}$'
      AND to_timestamp(substr(c.relname, 8), 'YYYY_MM') + interval '1 month' <= cutoff
    ORDER BY 2
$$;

-- Detaches and drops one monthly partition (a name the function above listed); false when it
-- is not (or no longer) one.
CREATE FUNCTION leadrouter_drop_event_partition(name text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF name !~ '^events_[0-9]{4}_[0-9]{2}$' OR NOT EXISTS (
        SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'events'::regclass AND c.relname = name) THEN
        RETURN false;
    END IF;
    EXECUTE format('ALTER TABLE events DETACH PARTITION %I', name);
    EXECUTE format('DROP TABLE %I', name);
    RETURN true;
END
$$;

-- Pruning delivered deliveries by age; old outbox rows are found by 0004's outbox_created_idx,
-- and whether a delivery still refers to one by its outbox id (the unique key starts with the
-- subscription, which does not serve that lookup).
CREATE INDEX deliveries_delivered_idx ON deliveries (delivered_at) WHERE status = 'delivered';
CREATE INDEX deliveries_outbox_idx ON deliveries (outbox_id);
-- Pruning decisions by age (the lead-first indexes serve reads, not this). One more index entry
-- per decision on the write path: the price of not scanning the audit trail every hour.
CREATE INDEX decisions_evaluated_idx ON decisions (evaluated_at);
