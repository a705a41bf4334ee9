import Foundation
import Postgres

/// Daily counts of several segments at once, for the dashboard's overview.
package struct SegmentDailyCounts: Sendable {
    /// Members at `from`: entries minus exits of every day before it.
    package var sizeAtStart = 0
    /// Days with any entry or exit, oldest first (the caller fills the quiet ones).
    package var steps: [SegmentMetricsStep] = []
    package init() {}
}

extension Store {
    /// The daily rollups of every segment in `segments` for `[from, to)`, `from` a UTC midnight, in
    /// ONE statement: the overview showed one `segmentMetrics` pipeline per segment (23 statements
    /// for the sample ruleset), which grows with the ruleset. Whole days come from
    /// `segment_metrics_daily`, the partial last day from `segment_metrics_hourly`, as in
    /// `segmentMetrics`; the rows before `from` fold into one row per segment (`t` null) that
    /// carries its size at `from`.
    package func segmentDailyCounts(segments: [String], from: Date, to: Date) throws -> [String: SegmentDailyCounts] {
        // The guard first, in the same implicit transaction (rollupReadGuard); its result is dropped.
        let rows = try connection.pipeline([Self.rollupReadGuard, """
            WITH r AS (SELECT greatest(\(from)::timestamptz, date_bin('1 day', \(to)::timestamptz, timestamptz '2001-01-01 00:00:00Z')) AS split),
            rows AS (
                SELECT segment, bucket, entries, exits_rule, exits_time, exits_merge, exits_ruleset, exits_erase, goal_reached
                FROM segment_metrics_daily, r WHERE segment = ANY (\(segments)::text[]) AND bucket < r.split
                UNION ALL
                SELECT segment, bucket, entries, exits_rule, exits_time, exits_merge, exits_ruleset, exits_erase, goal_reached
                FROM segment_metrics_hourly, r WHERE segment = ANY (\(segments)::text[]) AND bucket >= r.split AND bucket < \(to))
            SELECT segment, CASE WHEN bucket < \(from) THEN NULL
                                 ELSE date_bin('1 day', bucket, timestamptz '2001-01-01 00:00:00Z') END AS t,
                   sum(entries)::int8 AS entries, sum(exits_rule)::int8 AS rule, sum(exits_time)::int8 AS time,
                   sum(exits_merge)::int8 AS merge, sum(exits_ruleset)::int8 AS ruleset, sum(exits_erase)::int8 AS erase,
                   sum(goal_reached)::int8 AS goal
            FROM rows GROUP BY 1, 2 ORDER BY 1, 2 NULLS FIRST
            """])[1]
        var out: [String: SegmentDailyCounts] = [:]
        for row in rows {
            let segment = try row.decode(String.self, "segment")
            let t = try row.decode(Date?.self, "t")
            var s = SegmentMetricsStep(start: t ?? from)
            s.entries = try row.decode(Int.self, "entries"); s.exitsRule = try row.decode(Int.self, "rule")
            s.exitsTime = try row.decode(Int.self, "time"); s.exitsMerge = try row.decode(Int.self, "merge")
            s.exitsRuleset = try row.decode(Int.self, "ruleset"); s.exitsErase = try row.decode(Int.self, "erase")
            s.goalReached = try row.decode(Int.self, "goal")
            if t == nil { out[segment, default: SegmentDailyCounts()].sizeAtStart = s.entries - s.exits } else {
                out[segment, default: SegmentDailyCounts()].steps.append(s)
            }
        }
        return out
    }
}
