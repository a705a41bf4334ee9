import Foundation
import Postgres

/// One step of a segment's metrics: entries and exits by reason in `[start, start + interval)`.
package struct SegmentMetricsStep: Sendable, Equatable {
    package var start: Date
    package var entries = 0
    package var exitsRule = 0, exitsTime = 0, exitsMerge = 0, exitsRuleset = 0, exitsErase = 0
    /// Entrants of the step that reached the segment's goal within its horizon (so far).
    package var goalReached = 0
    /// Exits of the step whose membership had not reached the goal.
    package var dropOffs = 0
    package var exits: Int { exitsRule + exitsTime + exitsMerge + exitsRuleset + exitsErase }
    package init(start: Date) { self.start = start }
}

/// What the rollups hold for one segment over a range (see migration 0021).
package struct SegmentMetricsRollup: Sendable {
    /// Members at `from`: entries minus exits of every hour before it.
    package var sizeAtStart: Int
    /// Steps with any entry or exit, oldest first (the caller fills the quiet ones).
    package var steps: [SegmentMetricsStep]
    /// Exits of the range by time-in-segment log bucket (`k`, see `StayHistogram`).
    package var stay: [Int: Int]
    /// Entrants of the range by touch (`first`, `last`) and channel.
    package var channels: [String: [String: Int]]
}

extension Store {
    /// The rollups of `segment` for `[from, to)` in steps of `unit` (`hour`, `day`, `week`; UTC,
    /// weeks from Monday; for `day` and `week`, `from` must be a UTC midnight). Reads only the
    /// rollup tables: whole UTC days from `segment_metrics_daily` (migration 0022; 366 rows for a
    /// year instead of 8 784), the hours of a last partial day, and every hour for `hour` steps;
    /// the size at `from` sums the days before it and the hours of its day. Stays and channels are
    /// kept per day, so theirs cover the UTC days the range touches. `date_bin` from a Monday
    /// (2001-01-01) rather than `date_trunc(…, 'UTC')`: arithmetic, no time zone lookup per row.
    package func segmentMetrics(segment: String, from: Date, to: Date, unit: String) throws -> SegmentMetricsRollup {
        let step = unit == "week" ? "7 days" : "1 \(unit)"
        let results = try connection.pipeline([
            """
            SELECT coalesce(sum(n), 0)::int8 AS n FROM (
                SELECT entries - exits_rule - exits_time - exits_merge - exits_ruleset - exits_erase AS n FROM segment_metrics_daily
                WHERE segment = \(segment) AND bucket < date_bin('1 day', \(from)::timestamptz, timestamptz '2001-01-01 00:00:00Z')
                UNION ALL
                SELECT entries - exits_rule - exits_time - exits_merge - exits_ruleset - exits_erase FROM segment_metrics_hourly
                WHERE segment = \(segment) AND bucket >= date_bin('1 day', \(from)::timestamptz, timestamptz '2001-01-01 00:00:00Z')
                  AND bucket < \(from)) AS before
            """,
            """
            WITH r AS (SELECT CASE WHEN \(unit) = 'hour' THEN \(from)::timestamptz
                                   ELSE greatest(\(from)::timestamptz, date_bin('1 day', \(to)::timestamptz, timestamptz '2001-01-01 00:00:00Z')) END AS split)
            SELECT date_bin(\(step)::interval, bucket, timestamptz '2001-01-01 00:00:00Z') AS t, sum(entries)::int8 AS entries,
                   sum(exits_rule)::int8 AS rule, sum(exits_time)::int8 AS time, sum(exits_merge)::int8 AS merge,
                   sum(exits_ruleset)::int8 AS ruleset, sum(exits_erase)::int8 AS erase, sum(goal_reached)::int8 AS goal,
                   sum(drop_offs)::int8 AS drops
            FROM (SELECT bucket, entries, exits_rule, exits_time, exits_merge, exits_ruleset, exits_erase, goal_reached, drop_offs
                  FROM segment_metrics_daily, r WHERE segment = \(segment) AND bucket >= \(from) AND bucket < r.split
                  UNION ALL
                  SELECT bucket, entries, exits_rule, exits_time, exits_merge, exits_ruleset, exits_erase, goal_reached, drop_offs
                  FROM segment_metrics_hourly, r WHERE segment = \(segment) AND bucket >= r.split AND bucket < \(to)) AS rows
            GROUP BY 1 ORDER BY 1
            """,
            Self.stayHistogramQuery(table: "segment", segment: segment, from: from, to: to),
            """
            SELECT touch, channel, sum(entrants)::int8 AS n FROM segment_entrant_channels_daily
            WHERE segment = \(segment) AND bucket >= date_trunc('day', \(from)::timestamptz, 'UTC') AND bucket < \(to) GROUP BY touch, channel
            """,
        ])
        let steps = try results[1].map { row in
            var s = SegmentMetricsStep(start: try row.decode(Date.self, "t"))
            s.entries = try row.decode(Int.self, "entries"); s.exitsRule = try row.decode(Int.self, "rule")
            s.exitsTime = try row.decode(Int.self, "time"); s.exitsMerge = try row.decode(Int.self, "merge")
            s.exitsRuleset = try row.decode(Int.self, "ruleset"); s.exitsErase = try row.decode(Int.self, "erase")
            s.goalReached = try row.decode(Int.self, "goal"); s.dropOffs = try row.decode(Int.self, "drops")
            return s
        }
        var stay: [Int: Int] = [:]
        for row in results[2] { stay[try row.decode(Int.self, "k")] = try row.decode(Int.self, "n") }
        var channels: [String: [String: Int]] = ["first": [:], "last": [:]]
        for row in results[3] {
            channels[try row.decode(String.self, "touch"), default: [:]][try row.decode(String.self, "channel")] = try row.decode(Int.self, "n")
        }
        return SegmentMetricsRollup(sizeAtStart: try results[0].scalar(Int.self), steps: steps, stay: stay, channels: channels)
    }
}
