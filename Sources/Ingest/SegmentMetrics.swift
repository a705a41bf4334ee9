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
        /// The number of steps from `start` that cover `[start, to)`.
        func stepCount(from start: Date, to: Date) -> Int {
            max(0, Int(((to.timeIntervalSince1970 - start.timeIntervalSince1970) / seconds).rounded(.up)))
        }
        /// The index of the step from `start` holding `date`, by arithmetic; nil outside the `count` steps.
        func step(of date: Date, from start: Date, count: Int) -> Int? {
            let i = ((date.timeIntervalSince1970 - start.timeIntervalSince1970) / seconds).rounded(.down)
            return i >= 0 && i < Double(count) ? Int(i) : nil
        }
        /// The start of step `k` from `start`.
        func start(ofStep k: Int, from start: Date) -> Date {
            Date(timeIntervalSince1970: start.timeIntervalSince1970 + Double(k) * seconds)
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
    /// end of each, and the totals. `counted` are rollup rows in any order, several per step when
    /// steps are longer than rows (days in a week) or a step has more than one row: each is added
    /// to the step holding its start, found by arithmetic (no dictionary of 8 784 dates for a year
    /// by hour); rows outside `[start, to)` are ignored.
    static func fill(_ counted: [SegmentMetricsStep], sizeAtStart: Int, from start: Date, to: Date,
                     interval: Interval) -> (steps: [Step], totals: SegmentMetricsStep) {
        let count = interval.stepCount(from: start, to: to)
        var byStep = (0..<count).map { SegmentMetricsStep(start: interval.start(ofStep: $0, from: start)) }
        for row in counted {
            if let i = interval.step(of: row.start, from: start, count: count) { byStep[i].add(row) }
        }
        var steps: [Step] = []
        steps.reserveCapacity(count)
        var size = sizeAtStart
        var totals = SegmentMetricsStep(start: start)
        for c in byStep {
            size += c.entries - c.exits
            steps.append(Step(start: c.start, size: size, counts: c))
            totals.add(c)
        }
        return (steps, totals)
    }
}
