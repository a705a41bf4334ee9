-- The delivery lease planned for index lookups, as the dispatcher's statement already is
-- (Store.indexPlans; issue 23 target 6, docs/benchmarks/webhooks.md 2026-12-08). plpgsql caches
-- the plan of its RETURN QUERY per session, generic after five runs; made while a new database's
-- `deliveries` was nearly empty and not yet analysed (autovacuum first visits a database up to
-- a minute after it appears), that plan checked each candidate's per-lead order (the NOT EXISTS)
-- by scanning the whole table — 157 candidates × 4 555 rows = 20 000 buffers, 330 ms a lease at
-- 5 000 deliveries, over a second at 15 000 — and kept it until an ANALYZE invalidated it: the
-- keep-up benchmark's "stalls" (38–56 % delivered during the load, drained after 10–36 s).
-- With these settings every plan the function makes looks the order up in
-- deliveries_lead_order_idx, whatever the statistics. JIT off as with indexPlans: a node these
-- settings disable but cannot avoid (the scan of `subscriptions`) would cross jit_above_cost.
ALTER FUNCTION leadrouter_lease_deliveries(integer, double precision)
    SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off;
