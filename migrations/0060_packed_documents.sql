-- Issue 23, target 7 (bytes stored per event): decisions and membership reasons stored packed.
--
-- A decision document (~1.2 KB of jsonb, half of it the explanation) and a membership change's
-- reason (~0.5 KB) repeat the same keys, segment names and rule texts row after row; PostgreSQL
-- compresses no value in a row under ~2 KB, and then without a dictionary. The service now
-- stores them as raw deflate with a preset dictionary (`PackedJSON` in Sources/LeadStore: one
-- byte naming the dictionary, then the deflate stream), ~0.1 KB each, and unpacks them to their
-- exact bytes wherever they are read (docs/benchmarks/storage.md, docs/ingest.md).
--
-- Rows written before keep their jsonb; so do those SQL writes itself (merge and erasure
-- reasons: the segment rollup trigger of 0021 reads those, never an engine's reason) and
-- decisions an erasure redacted. Adding nullable columns and dropping NOT NULL touch only the
-- catalogue; the CHECK is NOT VALID so existing rows are not scanned (they all hold jsonb).
ALTER TABLE decisions ALTER COLUMN decision DROP NOT NULL, ADD COLUMN packed bytea;
ALTER TABLE decisions ADD CONSTRAINT decisions_document_once CHECK ((decision IS NULL) <> (packed IS NULL)) NOT VALID;
ALTER TABLE membership_history ADD COLUMN reason_packed bytea;
ALTER TABLE membership_history ADD CONSTRAINT membership_history_reason_once CHECK (reason IS NULL OR reason_packed IS NULL) NOT VALID;
