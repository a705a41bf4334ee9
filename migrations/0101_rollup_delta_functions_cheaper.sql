-- The rollup delta functions of the lane transaction, cheaper for PostgreSQL (issue 23, PostgreSQL
-- CPU per event; docs/benchmarks/ingest.md, 2026-12-07 "pg-cpu"; docs/insight.md). Two changes
-- to the functions of migrations 0070/0080, the deltas they write unchanged:
--
-- 1. They plan their query once per connection. Their plain-PostgreSQL query is static plpgsql
-- SQL with one parameter, the inserted rows (`p_rows`), so PostgreSQL's plan cache builds
-- a custom plan for the array it is given on each of the first five calls and then keeps the
-- generic plan only when it looks no dearer than those. For these queries it never did (the
-- custom plans see the array's real length, the generic one assumes ten rows), so every lane
-- transaction parsed nothing but planned the query again: under single events at 64 connections
-- `leadrouter_segment_deltas` took 1.24 ms a call against 0.09 ms for its query
-- (pg_stat_user_functions against pg_stat_statements), `leadrouter_stage_goal_entries` 0.48
-- against 0.10. The plan is the same either way — a nested loop over `unnest(p_rows)` with an
-- index probe per row, which `enable_seqscan = off` already favours at any size — so the generic
-- plan is forced. Large statements stay flat per row (`BASE_BEFORE=0101
-- scripts/bench-rollup-deltas-scaling.sh`, 10 000 rows with 0102 too: segment 55.8 → 20.0 µs,
-- stage 13.9 → 9.2 µs of backend CPU per row, the same deltas). On a Citus coordinator the functions run `EXECUTE … USING` per lead, a one-shot
-- plan this setting does not touch.
ALTER FUNCTION leadrouter_segment_deltas(membership_history[]) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION leadrouter_stage_deltas(stage_history[]) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION leadrouter_stage_goal_entries(leadrouter_stage_goal_held[]) SET plan_cache_mode = force_generic_plan;

-- 2. The time-in-stage/segment bucket `k` without a numeric logarithm. Migration 0070
-- computed it as `floor(4 * log(2, greatest(seconds, 0)::numeric + 1))`: a numeric `ln` per
-- history row with a previous entry, ~30 µs each (8 000 of them: 245 ms in a plpgsql loop), so
-- most of `leadrouter_stage_deltas`'s time for a lane batch of ~8 stage moves.
--
-- The same bucket, exactly: k is the largest integer with 2^(k/4) <= x (x = seconds + 1), i.e.
-- with 2^k <= x^4. x has at most six decimal places (microseconds), so x^4 is exact in numeric
-- (multiplication keeps every digit) and `width_bucket` finds k by binary search among the
-- constants 2^0 .. 2^175 (x^4 < 2^173 for every span PostgreSQL timestamps allow; beyond, k stays
-- 175). Against the logarithm at every whole 2^n - 1 seconds (n ≤ 43) and every bucket bound
-- 2^(k/4) - 1 (k ≤ 172), each ± 1–2 µs: the same k for every stay shorter than 96 years; from
-- there (k ≥ 125) the numeric logarithm's rounding crossed bounds upwards at 116 of those 1 100
-- points (`leadrouter_stay_bucket(3037000498.976049)` is 125: x^4 < 2^126; the logarithm said
-- 126), where this one is exact. Swift's `StayHistogram.bucket` defines the same buckets (in Double).
--
-- Two SQL functions, so that the planner inlines both into the delta queries (no call per row):
-- `leadrouter_stay_bucket` names its argument once, and the inner function's repeated `p_x` is a
-- cheap expression (`greatest(extract(…), 0) + 1`), which PostgreSQL substitutes four times.
DO $define$
BEGIN
    EXECUTE format($f$
        CREATE FUNCTION leadrouter_stay_bucket_of(p_x numeric) RETURNS smallint
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN (width_bucket(p_x * p_x * p_x * p_x, %L::numeric[]) - 1)::smallint
        $f$, (SELECT array_agg(2::numeric ^ g ORDER BY g)::text FROM generate_series(0, 175) g));
END $define$;
COMMENT ON FUNCTION leadrouter_stay_bucket_of(numeric) IS
    'The stay bucket of x = seconds + 1 (x >= 1): the largest k with 2^k <= x^4, by binary search among 2^0 .. 2^175 (migration 0101).';

CREATE FUNCTION leadrouter_stay_bucket(p_seconds numeric) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN leadrouter_stay_bucket_of(greatest(p_seconds, 0) + 1);
COMMENT ON FUNCTION leadrouter_stay_bucket(numeric) IS
    'The rollups'' time-in-stage/segment bucket k of a stay of p_seconds: floor(4 * log2(p_seconds + 1)), exactly (migration 0101).';

SELECT set_config('citus.multi_shard_modify_mode', 'sequential', true);
SELECT leadrouter_replace_in_function('leadrouter_stage_deltas',
    'floor(4 * log(2, greatest(extract(epoch FROM n.occurred_at - p.occurred_at), 0)::numeric + 1))::smallint',
    'leadrouter_stay_bucket(extract(epoch FROM n.occurred_at - p.occurred_at)::numeric)');
SELECT leadrouter_replace_in_function('leadrouter_segment_deltas',
    'floor(4 * log(2, greatest(extract(epoch FROM n.occurred_at - e.occurred_at), 0)::numeric + 1))::smallint',
    'leadrouter_stay_bucket(extract(epoch FROM n.occurred_at - e.occurred_at)::numeric)');
