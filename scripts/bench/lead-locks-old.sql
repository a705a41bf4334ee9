-- The lane batch's lead lock before migration 0056: one statement for all the batch's leads.
\set k random(1, :leads - 32)
BEGIN;
SELECT id FROM leads WHERE id IN (
    SELECT i.lead_id FROM identities i
    JOIN unnest(ARRAY(SELECT 'user_id' FROM generate_series(1, 32)), ARRAY(SELECT 'u-' || (:k + g) FROM generate_series(1, 32) g)) AS k(kind, value)
      ON i.kind = k.kind AND i.value = k.value)
ORDER BY id FOR UPDATE;
ROLLBACK;  -- no commit flush: the lock statement is what is measured
