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
    /// weeks from Monday). Reads only the rollup tables: at most one row per hour of the range
    /// (plus the hours before `from`, summed for the starting size); stays and channels are kept
    /// per day, so theirs cover the UTC days the range touches.
    package func segmentMetrics(segment: String, from: Date, to: Date, unit: String) throws -> SegmentMetricsRollup {
        let results = try connection.pipeline([
            """
            SELECT coalesce(sum(entries - exits_rule - exits_time - exits_merge - exits_ruleset - exits_erase), 0)::int8 AS n
            FROM segment_metrics_hourly WHERE segment = \(segment) AND bucket < \(from)
            """,
            """
            SELECT date_trunc(\(unit), bucket, 'UTC') AS t, sum(entries)::int8 AS entries, sum(exits_rule)::int8 AS rule,
                   sum(exits_time)::int8 AS time, sum(exits_merge)::int8 AS merge, sum(exits_ruleset)::int8 AS ruleset,
                   sum(exits_erase)::int8 AS erase, sum(goal_reached)::int8 AS goal, sum(drop_offs)::int8 AS drops
            FROM segment_metrics_hourly WHERE segment = \(segment) AND bucket >= \(from) AND bucket < \(to)
            GROUP BY 1 ORDER BY 1
            """,
            """
            SELECT k::int8 AS k, sum(exits)::int8 AS n FROM segment_stay_daily
            WHERE segment = \(segment) AND bucket >= date_trunc('day', \(from)::timestamptz, 'UTC') AND bucket < \(to) GROUP BY k
            """,
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
