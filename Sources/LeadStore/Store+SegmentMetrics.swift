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

    /// Adds the counts of `o` (its `start` is not used).
    package mutating func add(_ o: SegmentMetricsStep) {
        entries += o.entries; exitsRule += o.exitsRule; exitsTime += o.exitsTime; exitsMerge += o.exitsMerge
        exitsRuleset += o.exitsRuleset; exitsErase += o.exitsErase; goalReached += o.goalReached; dropOffs += o.dropOffs
    }
}

/// What the rollups hold for one segment over a range (see migration 0021).
package struct SegmentMetricsRollup: Sendable {
    /// Members at `from`: entries minus exits of every hour before it.
    package var sizeAtStart: Int
    /// The rollup rows of the range as stored, in no order: a whole UTC day or one hour each
    /// (`start` is the row's bucket). The caller bins them into its steps and fills the quiet ones.
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
    /// kept per day, so theirs cover the UTC days the range touches. The counts come back as the
    /// stored rows, not grouped into steps: a year by hour is one row per step already, and
    /// grouping and sorting 8 784 rows cost PostgreSQL twice the scan (docs/benchmarks/insight.md);
    /// the caller bins rows into steps by arithmetic. Bucket times as epoch seconds (`int8`), read
    /// with `PostgresRow.int(at:)`: no timestamp text to write or parse per row.
    package func segmentMetrics(segment: String, from: Date, to: Date, unit: String) throws -> SegmentMetricsRollup {
        // Where the daily rows stop and the hourly ones start: at `from` for hours, else at the
        // UTC midnight before `to` (the hours of a partial last day).
        let split = unit == "hour" ? from : max(from, Date(timeIntervalSince1970: (to.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400))
        // The guard's empty result first (rollupReadGuard): dropped, so the reads are 0…3.
        let results = Array(try connection.pipeline([
            Self.rollupReadGuard,
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
            SELECT date_part('epoch', bucket)::int8 AS t, entries, exits_rule, exits_time, exits_merge, exits_ruleset, exits_erase, goal_reached, drop_offs
            FROM segment_metrics_daily WHERE segment = \(segment) AND bucket >= \(from) AND bucket < \(split)
            UNION ALL
            SELECT date_part('epoch', bucket)::int8, entries, exits_rule, exits_time, exits_merge, exits_ruleset, exits_erase, goal_reached, drop_offs
            FROM segment_metrics_hourly WHERE segment = \(segment) AND bucket >= \(split) AND bucket < \(to)
            """,
            Self.stayHistogramQuery(table: "segment", segment: segment, from: from, to: to),
            """
            SELECT touch, channel, sum(entrants)::int8 AS n FROM segment_entrant_channels_daily
            WHERE segment = \(segment) AND bucket >= date_trunc('day', \(from)::timestamptz, 'UTC') AND bucket < \(to) GROUP BY touch, channel
            """,
        ]).dropFirst())
        let steps = try results[1].map { row in
            var s = SegmentMetricsStep(start: Date(timeIntervalSince1970: Double(try row.int(at: 0))))
            s.entries = try row.int(at: 1); s.exitsRule = try row.int(at: 2); s.exitsTime = try row.int(at: 3)
            s.exitsMerge = try row.int(at: 4); s.exitsRuleset = try row.int(at: 5); s.exitsErase = try row.int(at: 6)
            s.goalReached = try row.int(at: 7); s.dropOffs = try row.int(at: 8)
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
