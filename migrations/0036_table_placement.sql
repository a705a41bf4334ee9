-- Where each table goes on a Citus cluster (docs/scale-out.md, Citus): one rule plus a short
-- list of exceptions, so a table added by any later migration is placed without being listed.
--
-- The rule: a table with a `lead_id` column is distributed by `lead_id`, co-located with
-- `leads` (distributed by its `id`), so everything about one lead lives on one shard and ingest's
-- transaction stays on one worker; any other table is a reference table (copied to every node:
-- small, read by joins everywhere, rarely written). A table that must differ gets a row in
-- leadrouter_table_placement, in the migration that creates it.
--
-- On plain PostgreSQL this only records the placement; CitusSchemaTests reads the view and
-- checks Citus's rules against the real schema (every primary key and unique index of a
-- distributed table contains its distribution column; foreign keys between distributed tables
-- include it; no foreign key from a reference table to a distributed one), so a migration cannot
-- silently break the path.

CREATE TABLE leadrouter_table_placement (
    table_name          text PRIMARY KEY,
    placement           text NOT NULL CHECK (placement IN ('distributed', 'reference', 'local')),
    distribution_column text,
    colocate_with       text,
    why                 text NOT NULL,
    CHECK ((placement = 'distributed') = (distribution_column IS NOT NULL))
);

INSERT INTO leadrouter_table_placement (table_name, placement, distribution_column, colocate_with, why) VALUES
    ('leads', 'distributed', 'id', NULL, 'the anchor of the co-location group: a lead is its id'),
    ('schema_migrations', 'local', NULL, NULL, 'the migrations runner''s own record, on the coordinator only'),
    ('leadrouter_table_placement', 'local', NULL, NULL, 'this list, read on the coordinator only');

-- Every ordinary or partitioned table of the schema (partitions follow their parent), with its
-- placement: the listed one, else the rule.
CREATE VIEW leadrouter_placements AS
SELECT c.relname::text AS table_name,
       COALESCE(p.placement, CASE WHEN l.attname IS NOT NULL THEN 'distributed' ELSE 'reference' END) AS placement,
       CASE WHEN p.table_name IS NOT NULL THEN p.distribution_column
            WHEN l.attname IS NOT NULL THEN 'lead_id' END AS distribution_column,
       CASE WHEN p.table_name IS NOT NULL THEN p.colocate_with
            WHEN l.attname IS NOT NULL THEN 'leads' END AS colocate_with
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
LEFT JOIN leadrouter_table_placement p ON p.table_name = c.relname
LEFT JOIN pg_attribute l ON l.attrelid = c.oid AND l.attname = 'lead_id' AND NOT l.attisdropped
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition;
