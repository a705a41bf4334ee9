-- The distribution step (issue 19, docs/scale-out.md#citus-the-cluster): on a Citus coordinator,
-- `leadrouter_citus_distribute()` makes every table what leadrouter_placements says (reference
-- tables, then tables distributed by their column, co-located as listed). On plain PostgreSQL
-- (no citus extension) it returns 0 and changes nothing, so one schema serves both.
--
-- The migrator calls it after every run, not only here: a table that a later migration creates is
-- a plain table on the coordinator until the next `migrate` places it, and a database that gets
-- the extension later is distributed by its next `migrate`. Tables already placed are skipped.
-- Whether Citus has made `rel` a reference table or a distributed one. Citus turns a plain table
-- with a foreign key to a new reference table into a "Citus local" table on its own: that is not
-- placed yet (create_reference_table and create_distributed_table convert it).
CREATE FUNCTION leadrouter_citus_placed(rel regclass) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM pg_dist_partition d
                   WHERE d.logicalrelid = rel AND (d.partmethod = 'h' OR (d.partmethod = 'n' AND d.repmodel = 't')));
END
$$;

CREATE FUNCTION leadrouter_citus_distribute() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    t record;
    placed integer := 0;
    keys text[] := '{}';
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RETURN 0;
    END IF;
    -- Triggers stay on the tables (each one's fate on Citus is in docs/scale-out.md); several
    -- tables with foreign keys to reference tables in one transaction need sequential mode.
    PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
    CREATE TEMP TABLE leadrouter_to_place ON COMMIT DROP AS
        SELECT p.table_name::regclass AS rel, p.placement, p.distribution_column, p.colocate_with
        FROM leadrouter_placements p
        WHERE p.placement <> 'local' AND NOT leadrouter_citus_placed(p.table_name::regclass);
    -- The foreign keys touching those tables go while they are placed and come back after:
    -- Citus refuses many intermediate states (a plain table referencing a new reference table
    -- becomes a "Citus local" one, which then cannot reference a table being distributed).
    FOR t IN SELECT c.conrelid::regclass AS rel, c.conname, pg_get_constraintdef(c.oid) AS def
             FROM pg_constraint c
             WHERE c.contype = 'f' AND c.conparentid = 0
               AND (c.conrelid IN (SELECT rel FROM leadrouter_to_place) OR c.confrelid IN (SELECT rel FROM leadrouter_to_place)) LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', t.rel, t.conname);
        keys := keys || format('ALTER TABLE %s ADD CONSTRAINT %I %s', t.rel, t.conname, t.def);
    END LOOP;
    -- Reference tables, then each co-location anchor before the tables co-located with it.
    FOR t IN SELECT * FROM leadrouter_to_place
             ORDER BY placement DESC, (colocate_with IS NOT NULL), rel::text LOOP
        IF t.placement = 'reference' THEN
            PERFORM create_reference_table(t.rel);
        ELSE
            PERFORM create_distributed_table(t.rel, t.distribution_column, colocate_with => coalesce(t.colocate_with, 'none'));
        END IF;
        placed := placed + 1;
    END LOOP;
    FOR i IN 1 .. coalesce(array_length(keys, 1), 0) LOOP
        EXECUTE keys[i];
    END LOOP;
    DROP TABLE leadrouter_to_place;
    RETURN placed;
END
$$;
