import Foundation
import LeadStore
import Postgres

extension SegmentMetricsReads {
    /// Daily steps and totals of every segment in `segments` over `[from, to)` (`from` moved back
    /// to its UTC midnight), read with one statement whatever the number of segments
    /// (`Store.segmentDailyCounts`). Stays and channels are left out: the overview shows neither.
    package func overview(segments: [String], from: Date, to: Date) throws -> [String: Report] {
        let start = Interval.day.floor(from)
        let counts = try reader.pool(forLead: nil).withConnection { try Store($0).segmentDailyCounts(segments: segments, from: start, to: to) }
        var out: [String: Report] = [:]
        for segment in segments {
            let c = counts[segment] ?? SegmentDailyCounts()
            let (steps, totals) = Self.fill(c.steps, sizeAtStart: c.sizeAtStart, from: start, to: to, interval: .day)
            out[segment] = Report(segment: segment, from: start, to: to, interval: .day, steps: steps, totals: totals,
                                  exitsMeasured: 0, medianSeconds: nil, p90Seconds: nil, channels: [:])
        }
        return out
    }
}
