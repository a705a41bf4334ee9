-- The lane batch's lead lock since migration 0056: a function (on plain PostgreSQL it runs the old statement).
\set k random(1, :leads - 32)
BEGIN;
SELECT id FROM leadrouter_lock_leads_of(ARRAY(SELECT 'user_id' FROM generate_series(1, 32)),
                                        ARRAY(SELECT 'u-' || (:k + g) FROM generate_series(1, 32) g));
ROLLBACK;  -- no commit flush: the lock statement is what is measured
