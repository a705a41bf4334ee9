-- Issue 23, target 7 (bytes stored per event): decisions keep one B-tree instead of two
-- (docs/benchmarks/storage.md, 2026-12-07 entry of branch storage-half).
--
-- A decision had two unique keys, (lead_id, id) and (lead_id, seq DESC), ~70 B of index per
-- decision each. Every read finds a decision inside one lead's decisions: its page
-- (GET /v1/leads/{id}/decisions, by seq), the page cursor and a duplicate message's stored answer
-- (by id, among that lead's rows), the export (by time, among that lead's rows), erasure (by
-- lead), retention (by (lead_id, seq) since this migration). So the key is (lead_id, seq): unique
-- as before (the writer numbers a lead's decisions under its row lock), lead_id first (Citus,
-- CitusSchemaTests), and a lookup by id reads the lead's part of this index and filters — the ids
-- stay unique by construction (a random UUID per decision, PendingStatements). A backward scan serves the pages'
-- ORDER BY seq DESC.
--
-- On an existing database this rebuilds the key while it holds the table locked (minutes on a
-- table of many millions of rows): run `migrate` at a quiet moment.
ALTER TABLE decisions DROP CONSTRAINT decisions_pkey;
DROP INDEX decisions_lead_seq_idx;
ALTER TABLE decisions ADD CONSTRAINT decisions_pkey PRIMARY KEY (lead_id, seq);
