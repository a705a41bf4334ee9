import Foundation
import LeadStore
import Postgres

/// `GET /v1/segments/{name}/metrics`: a segment's rollups over a range, one step per interval,
/// with the size at the end of each step, entries and exits by reason, time in segment and
/// entrants by channel (docs/insight.md).
package struct SegmentMetricsReads: Sendable {
    /// The primary, or a fresh enough read replica (`ReadRouting`): rollups are read by many leads.
    let reader: any ReadPoolChoosing
    package init(reader: any ReadPoolChoosing) { self.reader = reader }
    package init(pool: PostgresPool) { self.init(reader: pool) }

    /// The step of a metrics request.
    package enum Interval: String, Sendable, CaseIterable {
        case hour, day, week
        package var seconds: Double { switch self { case .hour: 3600; case .day: 86_400; case .week: 604_800 } }
        /// The start of the step holding `date` (UTC; weeks start on Monday, as `date_trunc` does).
        func floor(_ date: Date) -> Date {
            let t = date.timeIntervalSince1970
            // 1970-01-05 was a Monday: weeks are counted from there.
            let origin: Double = self == .week ? 4 * 86_400 : 0
            return Date(timeIntervalSince1970: ((t - origin) / seconds).rounded(.down) * seconds + origin)
        }
    }

    package struct Step: Sendable, Equatable {
        package var start: Date
        /// Members at the end of the step.
        package var size: Int
        package var counts: SegmentMetricsStep
    }

    package struct Report: Sendable {
        package var segment: String
        package var from: Date, to: Date, interval: Interval
        package var steps: [Step]
        package var totals: SegmentMetricsStep
        package var exitsMeasured: Int
        package var medianSeconds: Double?, p90Seconds: Double?
        package var channels: [String: [String: Int]]
    }

    /// The report of `segment` for `[from, to)`, `from` moved back to the start of its step.
    package func report(segment: String, from: Date, to: Date, interval: Interval) throws -> Report {
        let start = interval.floor(from)
        let rollup = try reader.pool(forLead: nil).withConnection { try Store($0).segmentMetrics(segment: segment, from: start, to: to, unit: interval.rawValue) }
        let (steps, totals) = Self.fill(rollup.steps, sizeAtStart: rollup.sizeAtStart, from: start, to: to, interval: interval)
        return Report(segment: segment, from: start, to: to, interval: interval, steps: steps, totals: totals,
                      exitsMeasured: rollup.stay.values.reduce(0, +),
                      medianSeconds: StayHistogram.percentile(0.5, of: rollup.stay),
                      p90Seconds: StayHistogram.percentile(0.9, of: rollup.stay), channels: rollup.channels)
    }

    /// One step per interval from `start` to `to` (quiet steps with zero counts), the size at the
    /// end of each, and the totals.
    static func fill(_ counted: [SegmentMetricsStep], sizeAtStart: Int, from start: Date, to: Date,
                     interval: Interval) -> (steps: [Step], totals: SegmentMetricsStep) {
        var byStart: [Date: SegmentMetricsStep] = [:]
        for s in counted { byStart[s.start] = s }
        var steps: [Step] = []
        var size = sizeAtStart
        var totals = SegmentMetricsStep(start: start)
        var t = start
        while t < to {
            let c = byStart[t] ?? SegmentMetricsStep(start: t)
            size += c.entries - c.exits
            steps.append(Step(start: t, size: size, counts: c))
            totals.entries += c.entries; totals.exitsRule += c.exitsRule; totals.exitsTime += c.exitsTime
            totals.exitsMerge += c.exitsMerge; totals.exitsRuleset += c.exitsRuleset; totals.exitsErase += c.exitsErase
            totals.goalReached += c.goalReached; totals.dropOffs += c.dropOffs
            t = t.addingTimeInterval(interval.seconds)
        }
        return (steps, totals)
    }
}
