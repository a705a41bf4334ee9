-- Issue 23, target 7 (bytes stored per event): a lead's action state stored packed
-- (docs/benchmarks/storage.md, 2026-12-07 entry of branch storage-slim2).
--
-- `leads.action_state` (interest counts, segment scores, sent logs, time zone; migration 0030)
-- was ~150–300 B of jsonb per lead whose keys and shapes repeat from lead to lead; PostgreSQL
-- compresses nothing in a row under ~2 KB. The service now writes it to `action_packed` as
-- `PackedJSON` with dictionary 2 (one byte naming the dictionary, then raw deflate), ~30–60 B
-- with the score's parts, which ride in it (`score_parts` then holds `{}`), and unpacks it to
-- its exact JSON wherever a lead row is read (LeadRecord, the privacy export).
--
-- Rows written before keep their jsonb and read as before; the next write of such a lead moves
-- its state to `action_packed` and clears `action_state` (a stored database upgrades lead by
-- lead, without a table rewrite under lock here). Adding a nullable column touches only the
-- catalogue; the CHECK is NOT VALID so existing rows are not scanned (none has both).
ALTER TABLE leads ADD COLUMN action_packed bytea;
ALTER TABLE leads ADD CONSTRAINT leads_action_state_once CHECK (action_state IS NULL OR action_packed IS NULL) NOT VALID;
