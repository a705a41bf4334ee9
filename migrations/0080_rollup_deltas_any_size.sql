-- Rollup delta functions at any statement size (issue 15; docs/insight.md "How the rollups are
-- kept"). Migration 0070's delta functions filter every table they read with
-- `lead_id = ANY (p_leads)`, the statement's distinct leads, so that Citus can route each query
-- to one lead's shard. On plain PostgreSQL that array held every lead of the statement: each row
-- was compared with each lead (a linear search per row, and per index probe), so a statement cost
-- rows × distinct leads — 10 000 history rows over 5 000 leads took 9 s, and a 100 000-row seed
-- chunk did not finish. Its estimates also crossed the JIT thresholds: 1.65 s of a 2 000-row
-- statement went to compiling (auto_explain).
--
-- The functions are redefined from the same query text (repeated below, unchanged) by a new
-- `leadrouter_define_delta_function`:
--
-- * on plain PostgreSQL every `<column> = ANY (p_leads)` of the query reads `true`: the array
--   held all the statement's leads, so the filter never removed a row, and each lookup is
--   already keyed by `lead_id = n.lead_id` (an index probe, O(log) per row). Nothing else of the
--   query changes, so what a row adds is the same as before;
-- * on a Citus coordinator the query runs once per lead as before (`EXECUTE … USING`, the lead's
--   id a constant Citus routes by), but with only that lead's rows in `p_rows`, not all of the
--   statement's: the per-lead loop was rows × leads there too;
-- * `jit = off`: the queries are index probes per row, which JIT compilation never pays back
--   (with it, a 10 000-row statement took 351–395 ms of backend CPU instead of 301–319 ms).

-- OR REPLACE: `leadrouter migrate` applies every migration on one connection, where 0070's
-- pg_temp function of the same name may still exist.
CREATE OR REPLACE FUNCTION pg_temp.leadrouter_define_delta_function(p_name text, p_row_type text, p_returns text, p_query text)
RETURNS void LANGUAGE plpgsql AS $define$
BEGIN
    EXECUTE format($f$
        CREATE OR REPLACE FUNCTION %I(p_rows %I[]) RETURNS TABLE (%s) LANGUAGE plpgsql SET enable_seqscan = off SET jit = off AS $body$
        #variable_conflict use_column
        DECLARE
            p_leads uuid[];
            p_lead_rows %I[];
        BEGIN
            IF NOT leadrouter_on_citus() THEN
                RETURN QUERY %s;
                RETURN;
            END IF;
            FOR p_leads, p_lead_rows IN SELECT ARRAY[n.lead_id], array_agg(n) FROM unnest(p_rows) n GROUP BY n.lead_id LOOP
                RETURN QUERY EXECUTE %L USING p_lead_rows, p_leads;
            END LOOP;
        END $body$
        $f$, p_name, p_row_type, p_returns, p_row_type,
        regexp_replace(p_query, '[a-z_]+\.[a-z_]+ = ANY \(p_leads\)', 'true', 'g'),
        replace(replace(p_query, 'p_rows', '$1'), 'p_leads', '$2'));
END $define$;

-- The segment deltas, as in migration 0070.
SELECT pg_temp.leadrouter_define_delta_function('leadrouter_segment_deltas', 'membership_history',
    'lead_id uuid, segment text, at timestamptz, entries int, exits_rule int, exits_time int, exits_merge int, '
    'exits_ruleset int, exits_erase int, drop_offs int, k smallint, channel_first text, channel_last text', $q$
        WITH x AS (
            SELECT n.segment, n.occurred_at, n.change, n.lead_id,
                   CASE WHEN n.change = 'entered' THEN NULL
                        WHEN n.reason @> '{"erased": true}' THEN 'erase'
                        WHEN n.reason ? 'merged_into' THEN 'merge'
                        WHEN e.ruleset_version <> n.ruleset_version THEN 'ruleset'
                        WHEN n.event_id IS NULL THEN 'time'
                        ELSE 'rule' END AS why,
                   CASE WHEN e.occurred_at IS NOT NULL THEN
                        floor(4 * log(2, greatest(extract(epoch FROM n.occurred_at - e.occurred_at), 0)::numeric + 1))::smallint END AS k,
                   n.change = 'exited' AND NOT coalesce(n.reason ? 'merged_into', false) AND NOT EXISTS (
                        SELECT 1 FROM segment_goal_reached g
                        WHERE g.lead_id = n.lead_id AND g.lead_id = ANY (p_leads) AND g.segment = n.segment
                          AND g.entered_at <= n.occurred_at AND g.reached_at >= coalesce(e.occurred_at, '-infinity')) AS dropped
            FROM unnest(p_rows) n
            LEFT JOIN LATERAL (
                SELECT h.occurred_at, h.ruleset_version FROM membership_history h
                WHERE n.change = 'exited' AND h.lead_id = n.lead_id AND h.lead_id = ANY (p_leads) AND h.occurred_at <= n.occurred_at
                  AND h.segment || '' = n.segment AND h.change = 'entered'
                ORDER BY h.occurred_at DESC LIMIT 1) e ON true
            WHERE n.lead_id = ANY (p_leads)
        )
        SELECT x.lead_id, x.segment::text, x.occurred_at, (x.change = 'entered')::int, (x.why IS NOT DISTINCT FROM 'rule')::int,
               (x.why IS NOT DISTINCT FROM 'time')::int, (x.why IS NOT DISTINCT FROM 'merge')::int,
               (x.why IS NOT DISTINCT FROM 'ruleset')::int, (x.why IS NOT DISTINCT FROM 'erase')::int,
               x.dropped::int, x.k, c.first, c.last
        FROM x LEFT JOIN LATERAL (
            SELECT coalesce(l.source_first ->> 'channel', '(none)') AS first, coalesce(l.source_last ->> 'channel', '(none)') AS last
            FROM leads l WHERE x.change = 'entered' AND l.id = x.lead_id AND l.id = ANY (p_leads)) c ON true
    $q$);

-- The stage deltas, as in migration 0070.
SELECT pg_temp.leadrouter_define_delta_function('leadrouter_stage_deltas', 'stage_history',
    'lead_id uuid, at timestamptz, from_stage text, to_stage text, k smallint', $q$
        SELECT n.lead_id, n.occurred_at, n.from_stage, n.to_stage,
               CASE WHEN n.to_stage <> '' AND p.to_stage = n.from_stage THEN
                    floor(4 * log(2, greatest(extract(epoch FROM n.occurred_at - p.occurred_at), 0)::numeric + 1))::smallint END
        FROM unnest(p_rows) n
        LEFT JOIN LATERAL (
            SELECT h.occurred_at, h.to_stage FROM stage_history h
            WHERE n.from_stage <> '' AND h.lead_id = n.lead_id AND h.lead_id = ANY (p_leads) AND (h.occurred_at, h.id) < (n.occurred_at, n.id)
            ORDER BY h.occurred_at DESC, h.id DESC LIMIT 1) p ON true
        WHERE n.lead_id = ANY (p_leads)
    $q$);

-- The stays that stage goals belong to, as in migration 0070.
SELECT pg_temp.leadrouter_define_delta_function('leadrouter_stage_goal_entries', 'leadrouter_stage_goal_held',
    'lead_id uuid, stage text, entered_at timestamptz, from_stage text, reached_at timestamptz', $q$
        SELECT DISTINCT ON (n.lead_id, n.stage) n.lead_id, n.stage, h.occurred_at, h.from_stage, n.reached_at
        FROM unnest(p_rows) n
        CROSS JOIN LATERAL (
            SELECT h.occurred_at, h.from_stage FROM stage_history h
            WHERE h.lead_id = n.lead_id AND h.lead_id = ANY (p_leads) AND h.occurred_at <= n.reached_at AND h.to_stage = n.stage
            ORDER BY h.occurred_at DESC, h.id DESC LIMIT 1) h
        WHERE n.lead_id = ANY (p_leads) AND n.reached_at - h.occurred_at <= n.within_ms * interval '1 millisecond'
        ORDER BY n.lead_id, n.stage, n.reached_at
    $q$);

DROP FUNCTION pg_temp.leadrouter_define_delta_function(text, text, text, text);

-- When each delta was written, for the `/metrics` gauge of the oldest unfolded delta
-- (`leadrouter_rollup_deltas_oldest_age_seconds`, docs/insight.md): `at` is the history row's
-- time, which an import or a late event sets far in the past, so it cannot tell how long a delta
-- has waited for a fold. The transaction's start (`now()`); the rows present get the time of this
-- migration (a constant default: no table rewrite).
ALTER TABLE segment_rollup_deltas ADD COLUMN written_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE stage_rollup_deltas ADD COLUMN written_at timestamptz NOT NULL DEFAULT now();
