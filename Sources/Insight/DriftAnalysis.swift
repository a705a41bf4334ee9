import Foundation
import LeadStore
import Segmentation

/// Turns the hourly counts into a `DriftReport`. Pure: every input, `now` included, is an
/// argument, so tests compare it with figures computed by hand.
///
/// The method (docs/insight.md#drift):
/// - **Volume.** The last complete UTC hour `[H−1h, H)` and the last 24 complete hours are
///   compared with the same hour, and the same 24 hours, of each of the `weeks` previous weeks;
///   the baseline is their mean. A week in which this service received no message at all in
///   that hour (or those 24 hours) is left out, so a new installation or an outage is not a
///   zero. An alert when the baseline is at least `minimumVolume` and the volume moved by
///   `threshold` or more of it (`volume_drop` or `volume_spike`).
/// - **Unmapped names.** Every name of the window mapping to no event type, with its count and
///   first and last receipt; the nearest alias name or event type by edit distance (the one
///   `rules check` uses for typos) is suggested. Each is an alert.
/// - **Key events.** A `key_events` type not received for longer than its silence (or never).
/// - **Capture rates.** Per watched field, the share of messages whose lead holds it: the last
///   24 hours against the 7 days before them; an alert when both have `minimumVolume` messages
///   and the rate fell by `threshold` or more of the baseline.
public enum DriftAnalysis {
    public struct Input: Sendable {
        public var counts: [InsightCount]
        /// Latest receipt per event type, whenever it was.
        public var lastSeen: [String: Date]
        public var rejected: [RejectedCount]
        public var ruleset: Ruleset
        public var lineage: Lineage
        public var settings: DriftSettings
        public var now: Date

        public init(counts: [InsightCount], lastSeen: [String: Date], rejected: [RejectedCount], ruleset: Ruleset, lineage: Lineage,
                    settings: DriftSettings, now: Date) {
            self.counts = counts; self.lastSeen = lastSeen; self.rejected = rejected; self.ruleset = ruleset; self.lineage = lineage
            self.settings = settings; self.now = now
        }
    }

    static let hourSeconds = 3600.0, week: Int64 = 168

    /// The earliest hour `report` reads: the start of the oldest baseline day.
    public static func since(now: Date, settings: DriftSettings) -> Date {
        Date(timeIntervalSince1970: Double(hourIndex(now) - 24 - Int64(settings.weeks) * week) * hourSeconds)
    }

    static func hourIndex(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 / hourSeconds).rounded(.down)) }

    public static func report(_ input: Input) -> DriftReport {
        let settings = input.settings
        let current = hourIndex(input.now)  // the hour in progress; H
        var table: [String: [String: [Int64: Int]]] = [:]
        var unmapped: [String: DriftReport.Unmapped] = [:]
        for row in input.counts {
            table[row.kind, default: [:]][row.name, default: [:]][hourIndex(row.hour), default: 0] += row.count
            if row.kind == "unmapped_event" {
                if var u = unmapped[row.name] {
                    u.count += row.count; u.firstSeen = min(u.firstSeen, row.firstSeen); u.lastSeen = max(u.lastSeen, row.lastSeen)
                    unmapped[row.name] = u
                } else {
                    unmapped[row.name] = .init(name: row.name, count: row.count, firstSeen: row.firstSeen, lastSeen: row.lastSeen)
                }
            }
        }
        let messages = table["messages"]?["all"] ?? [:]
        func sum(_ series: [Int64: Int], _ range: Range<Int64>) -> Int { range.reduce(0) { $0 + (series[$1] ?? 0) } }
        /// Mean over the previous weeks with any message in the shifted range; nil when none had.
        func baseline(_ series: [Int64: Int], _ range: Range<Int64>) -> Double? {
            var total = 0, weeks = 0
            for k in 1...max(1, Int64(settings.weeks)) {
                let shifted = (range.lowerBound - k * week)..<(range.upperBound - k * week)
                guard sum(messages, shifted) > 0 else { continue }
                total += sum(series, shifted); weeks += 1
            }
            return weeks == 0 ? nil : Double(total) / Double(weeks)
        }

        var report = DriftReport(generatedAt: input.now, hourEnding: Date(timeIntervalSince1970: Double(current) * hourSeconds))
        let hour = (current - 1)..<current, day = (current - 24)..<current
        let types = Set(input.ruleset.knownEventTypes).union((table["event_type"] ?? [:]).keys).sorted()
        for type in types {
            let series = table["event_type"]?[type] ?? [:]
            let volume = DriftReport.Volume(eventType: type, lastHour: sum(series, hour), hourBaseline: baseline(series, hour),
                                            lastDay: sum(series, day), dayBaseline: baseline(series, day))
            report.volumes.append(volume)
            for (window, now, base) in [("hour", volume.lastHour, volume.hourBaseline), ("day", volume.lastDay, volume.dayBaseline)] {
                guard let base, base >= Double(settings.minimumVolume) else { continue }
                let change = (Double(now) - base) / base
                guard abs(change) >= settings.threshold else { continue }
                report.alerts.append(.init(
                    kind: change < 0 ? .volumeDrop : .volumeSpike, subject: type, window: window, current: Double(now), baseline: base,
                    change: rounded(change),
                    detail: "\(type): \(now) in the last \(window), \(Int((abs(change) * 100).rounded()))% \(change < 0 ? "below" : "above") "
                        + "the same \(window) of previous weeks (\(rounded(base)))",
                    readers: input.lineage.readers(ofEventType: type)))
            }
        }

        let candidates = Array(input.ruleset.aliases.keys) + input.ruleset.knownEventTypes
        for var entry in unmapped.values.sorted(by: { $0.name < $1.name }) {
            if let near = suggestion(for: entry.name, among: candidates) {
                entry.suggestedName = near
                entry.suggestedType = input.ruleset.aliases[near] ?? near
            }
            report.unmapped.append(entry)
            let hint = entry.suggestedType.map { ", maybe `\($0)`" + (entry.suggestedName != $0 ? " (like `\(entry.suggestedName!)`)" : "") } ?? ""
            report.alerts.append(.init(
                kind: .unmappedEvent, subject: entry.name, window: nil, current: Double(entry.count), baseline: nil, change: nil,
                detail: "`\(entry.name)` maps to no event type: \(entry.count) received\(hint)",
                readers: entry.suggestedType.map { input.lineage.readers(ofEventType: $0) } ?? Lineage.Readers()))
        }

        for key in input.ruleset.keyEvents {
            let silence = Double(key.silence.milliseconds) / 1000
            let last = input.lastSeen[key.type]
            let silent = last.map { input.now.timeIntervalSince($0) > silence } ?? true
            report.keyEvents.append(.init(eventType: key.type, silenceSeconds: silence, lastSeen: last, silent: silent))
            guard silent else { continue }
            report.alerts.append(.init(
                kind: .keyEventSilent, subject: key.type, window: nil, current: nil, baseline: nil, change: nil,
                detail: last == nil ? "key event \(key.type) has never been received"
                    : "key event \(key.type) not received for more than \(key.silence) (last \(Timestamp(last!)))",
                readers: input.lineage.readers(ofEventType: key.type)))
        }

        let previousWeek = (current - 24 - 7 * 24)..<(current - 24)
        for watched in FieldCaptures.watched {
            let series = table["capture"]?[watched.name] ?? [:]
            func rate(_ range: Range<Int64>) -> Double? {
                let total = sum(messages, range)
                return total == 0 ? nil : Double(sum(series, range)) / Double(total)
            }
            let daily = (0..<7).reversed().map { d -> Double? in rate((current - 24 * Int64(d + 1))..<(current - 24 * Int64(d))).map(rounded) }
            let capture = DriftReport.Capture(field: watched.name, lastDay: rate(day).map(rounded), baseline: rate(previousWeek).map(rounded),
                                              daily: daily)
            report.captures.append(capture)
            guard sum(messages, day) >= settings.minimumVolume, sum(messages, previousWeek) >= settings.minimumVolume,
                  let now = rate(day), let base = rate(previousWeek), base > 0, (base - now) / base >= settings.threshold else { continue }
            report.alerts.append(.init(
                kind: .captureDrop, subject: watched.name, window: "day", current: rounded(now), baseline: rounded(base),
                change: rounded((now - base) / base),
                detail: "\(watched.name) captured on \(Int((now * 100).rounded()))% of messages in the last day, "
                    + "\(Int((base * 100).rounded()))% in the 7 days before",
                readers: input.lineage.readers(ofField: watched.leadField)))
        }

        for row in input.rejected { report.rejected[row.reason, default: 0] += row.count }
        return report
    }

    static func rounded(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
}
