-- Ingest throughput (issue 5): less written per event.

-- Every decision document was stored three times per event — in decisions.decision, as
-- decisions.explanation (its "explanation" member again) and as processed_messages.response (the
-- idempotent answer): about 2 KB of rows and WAL per event.
--
-- The idempotent answer of a message is the decision its event produced: the record points at
-- that row instead of holding a copy. Decisions stay with the lead they were written for (merges
-- do not move them), so (lead_id, decision_id) finds the row by its primary key. `response`
-- stays for records written before this migration and for answers that are not a stored decision.
ALTER TABLE processed_messages ADD COLUMN decision_id uuid;

-- The explanation is the decision document's own "explanation" member (what every reader uses);
-- the column only duplicated it. Dropping a column is a catalogue change: no table rewrite.
ALTER TABLE decisions DROP COLUMN explanation;

-- Every event rewrites its lead's row. Pages filled to the brim put each new row version on
-- another page, with new index entries; with room left on each page, and the indexed
-- next_evaluation_at left alone by most events (a row keeps an earlier schedule it holds, see
-- Store.leadSaveQueries), the update stays on its page as a HOT update and the page prunes its
-- dead versions by itself. Applies to pages written from now on; an existing table gets it
-- when it is rewritten (VACUUM FULL or pg_repack, at a quiet moment).
ALTER TABLE leads SET (fillfactor = 70);
