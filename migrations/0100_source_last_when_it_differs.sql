-- Issue 23, target 7 (bytes stored per event): a lead's `source_last` is NULL when it is the same
-- touch as `source_first` (docs/benchmarks/storage.md, 2026-12-07 entry of branch storage-slim3).
--
-- A new lead's first and last touch are one touch, stored twice: ~60 B of jsonb a row, and every
-- lead of the storage benchmark is one (most leads are written once). The service now writes
-- `source_last` only when it differs from `source_first` (a later touch) and reads a NULL as the
-- first touch (LeadRecord; the privacy export fills it in). Rows written before keep both; an
-- erased lead has neither. The one SQL reader, the segment deltas' entrant channel, reads it the
-- same way: the function is redefined from migration 0080's text with that one change
-- (`coalesce(l.source_last, l.source_first)`), by 0080's generator, repeated here unchanged.

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

-- The segment deltas, as in migration 0080 but for the last touch's channel.
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
            SELECT coalesce(l.source_first ->> 'channel', '(none)') AS first, coalesce(coalesce(l.source_last, l.source_first) ->> 'channel', '(none)') AS last
            FROM leads l WHERE x.change = 'entered' AND l.id = x.lead_id AND l.id = ANY (p_leads)) c ON true
    $q$);

DROP FUNCTION pg_temp.leadrouter_define_delta_function(text, text, text, text);
