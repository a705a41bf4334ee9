-- `leadrouter_on_citus()` as an expression PostgreSQL inlines (issue 23, docs/benchmarks/ingest.md,
-- 2026-12-07 "event-cpu"). Migration 0056 wrote it as `SELECT EXISTS (SELECT … FROM pg_extension
-- …)`: a body with a sub-select is never inlined, so every plpgsql function that branches on it
-- (`IF NOT leadrouter_on_citus()`: the lane batch's lead lock, the stage and segment rollup delta
-- functions, the sweeper's and the queue's locks) called it as a SQL function, whose body
-- PostgreSQL parses and plans again in every transaction — three to four times per lane batch.
-- In a profile of `/v1/events` at 64 connections it was the largest single function of
-- `pg_stat_user_functions` (7.8 % of PostgreSQL's time); counted by callgrind in a single-user
-- backend, one `leadrouter_lock_leads_of` transaction took 502 k instructions with it, 397 k
-- with this one (417 k with a plpgsql body, whose plan is cached but still executed per call).
--
-- The Citus extension creates its metadata table `pg_dist_partition` in `pg_catalog` and drops it
-- with the extension, on the coordinator and the workers alike, so the table exists exactly when
-- the extension does — what the old body asked. `to_regclass` (STABLE: looked up at each call,
-- never folded into a cached plan) is a catalog cache lookup, and the one-expression body is
-- inlined into the caller's plan: plpgsql evaluates `NOT (to_regclass(…) IS NOT NULL)` as a simple
-- expression, with no function call at all. Same name, signature and result; `CREATE OR REPLACE`
-- leaves every caller as it is, on plain PostgreSQL and on a Citus coordinator.
CREATE OR REPLACE FUNCTION leadrouter_on_citus() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL
$$;
