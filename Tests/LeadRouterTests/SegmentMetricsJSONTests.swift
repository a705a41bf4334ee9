import Foundation
import HTTPServer
import Segmentation
import XCTest
@testable import HTTPAPI
@testable import Ingest
@testable import JSONCoding
@testable import LeadStore

/// `SegmentMetricsJSON` writes exactly the bytes the `Encodable` view it replaced gave through
/// `HTTPResponse.json` (`JSONEncoder`, sorted keys, slashes unescaped), for every optional part:
/// with and without owner, goal, exits, channels; steps of an hour, a day and a week.
final class SegmentMetricsJSONTests: XCTestCase {
    func report(_ interval: SegmentMetricsReads.Interval, steps: Int, quiet: Bool) -> SegmentMetricsReads.Report {
        let start = interval.floor(Date(timeIntervalSince1970: 1_793_000_000))
        let to = start.addingTimeInterval(Double(steps) * interval.seconds - 1800)
        var rows: [SegmentMetricsStep] = []
        if !quiet {
            for i in stride(from: 0, to: steps, by: 3) {
                var s = SegmentMetricsStep(start: start.addingTimeInterval(Double(i) * interval.seconds + (interval == .hour ? 0 : 3600)))
                s.entries = 7 * i % 13; s.exitsRule = i % 5; s.exitsTime = i % 3; s.exitsMerge = i % 2; s.exitsRuleset = i % 7 == 0 ? 1 : 0
                s.exitsErase = i % 11 == 0 ? 2 : 0; s.goalReached = s.entries / 3; s.dropOffs = i % 4
                rows.append(s)
            }
        }
        let (filled, totals) = SegmentMetricsReads.fill(rows, sizeAtStart: 40, from: start, to: to, interval: interval)
        let stay: [Int: Int] = quiet ? [:] : [4: 3, 9: 10, 17: 2, 30: 1]
        return .init(segment: "consideration.browser", from: start, to: to, interval: interval, steps: filled, totals: totals,
                     exitsMeasured: stay.values.reduce(0, +), medianSeconds: StayHistogram.percentile(0.5, of: stay),
                     p90Seconds: StayHistogram.percentile(0.9, of: stay),
                     channels: quiet ? ["first": [:], "last": [:]] : ["first": ["paid_search": 3, "direct": 12, "e/mail \"x\"": 1], "last": ["organic": 4]])
    }

    func testWritesTheBytesOfTheEncodableView() throws {
        let goal = try XCTUnwrap(Ruleset.load(yaml: SegmentMetricsTests.v1, fileName: "g.yaml").ruleset.segments.first?.goal)
        for interval in SegmentMetricsReads.Interval.allCases {
            for quiet in [false, true] {
                let r = report(interval, steps: interval == .hour ? 200 : 40, quiet: quiet)
                for (owner, g) in [("marketing", Optional(goal)), (nil, nil), ("team \"a\"/b", nil), (nil, Optional(goal))] as [(String?, Goal?)] {
                    let expected = HTTPResponse.json(EncodableSegmentMetricsView(r, owner: owner, goal: g)).body
                    let written = SegmentMetricsJSON.bytes(r, owner: owner, goal: g)
                    XCTAssertEqual(String(decoding: written, as: UTF8.self), String(decoding: expected, as: UTF8.self),
                                   "\(interval) quiet \(quiet) owner \(owner ?? "-") goal \(g != nil)")
                }
            }
        }
    }

    /// `JSONWriter.int` and `.timestamp` write digits and times straight into the buffer: the same
    /// text as `String(value)` and `Timestamp.description`.
    func testIntsAndTimestampsAsTheirText() {
        for value in [0, 7, 9, 10, -1, -9, -10, 42, 99_999, -123_456_789, Int.max, Int.min] {
            var w = JSONWriter()
            w.int(value)
            XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), String(value))
        }
        for ms: Int64 in [0, 1_765_065_600_000, 1_765_065_600_123, -1, -62_135_596_800_000, 253_402_300_799_999] {
            var w = JSONWriter()
            w.timestamp(Timestamp(milliseconds: ms))
            XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), "\"\(Timestamp(milliseconds: ms).description)\"")
        }
        var w = JSONWriter()
        w.timestamp(Timestamp(milliseconds: 1_765_065_600_123))
        XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), "\"2025-12-07T00:00:00.123Z\"")
    }

    /// Rows bin into the step holding their start, several per step when steps are longer (days
    /// into a week), and rows outside the range are dropped; sizes run from the start size.
    func testFillBinsRowsIntoSteps() {
        let monday = Date(timeIntervalSince1970: 1_793_059_200)  // 2026-10-26, a Monday
        func row(_ day: Double, entries: Int, exits: Int) -> SegmentMetricsStep {
            var s = SegmentMetricsStep(start: monday.addingTimeInterval(day * 86_400)); s.entries = entries; s.exitsRule = exits; return s
        }
        let rows = [row(9, entries: 1, exits: 0), row(0, entries: 2, exits: 1), row(6, entries: 3, exits: 0), row(7, entries: 4, exits: 2),
                    row(-1, entries: 100, exits: 0), row(21, entries: 100, exits: 0)]
        let (steps, totals) = SegmentMetricsReads.fill(rows, sizeAtStart: 10, from: monday, to: monday.addingTimeInterval(15 * 86_400), interval: .week)
        XCTAssertEqual(steps.map(\.start), [0, 7, 14].map { monday.addingTimeInterval(Double($0) * 86_400) })
        XCTAssertEqual(steps.map(\.counts.entries), [5, 5, 0])
        XCTAssertEqual(steps.map(\.size), [14, 17, 17])
        XCTAssertEqual(totals.entries, 10)
        XCTAssertEqual(totals.exits, 3)
    }
}

/// The `Encodable` view `SegmentMetricsJSON` replaced (until 2026-12-07), kept here as the reference.
struct EncodableSegmentMetricsView: Encodable {
    struct Exits: Encodable {
        var rule: Int, timeBased: Int, merge: Int, rulesetChange: Int, erase: Int
        enum CodingKeys: String, CodingKey { case rule, timeBased = "time_based", merge, rulesetChange = "ruleset_change", erase }
        init(_ c: SegmentMetricsStep) {
            rule = c.exitsRule; timeBased = c.exitsTime; merge = c.exitsMerge; rulesetChange = c.exitsRuleset; erase = c.exitsErase
        }
    }
    /// Of a step's (or the range's) entrants, how many reached the goal in time; exits that had not.
    struct GoalCounts: Encodable {
        var reached: Int; var conversion: Double?; var dropOffs: Int
        enum CodingKeys: String, CodingKey { case reached, conversion, dropOffs = "drop_offs" }
        init(_ c: SegmentMetricsStep) {
            reached = c.goalReached; dropOffs = c.dropOffs
            conversion = c.entries > 0 ? (Double(c.goalReached) / Double(c.entries) * 10_000).rounded() / 10_000 : nil
        }
        func encode(to encoder: Encoder) throws {
            var k = encoder.container(keyedBy: CodingKeys.self)
            try k.encode(reached, forKey: .reached); try k.encode(conversion, forKey: .conversion); try k.encode(dropOffs, forKey: .dropOffs)
        }
    }
    struct Step: Encodable {
        var start: Timestamp; var size: Int; var entries: Int; var exits: Int; var exitsByReason: Exits; var goal: GoalCounts?
        enum CodingKeys: String, CodingKey { case start, size, entries, exits, exitsByReason = "exits_by_reason", goal }
    }
    struct Totals: Encodable {
        var entries: Int; var exits: Int; var exitsByReason: Exits; var goal: GoalCounts?
        enum CodingKeys: String, CodingKey { case entries, exits, exitsByReason = "exits_by_reason", goal }
    }
    struct Stay: Encodable {
        var exitsMeasured: Int; var medianSeconds: Double?; var p90Seconds: Double?; var relativeError: Double
        enum CodingKeys: String, CodingKey {
            case exitsMeasured = "exits_measured", medianSeconds = "median_seconds", p90Seconds = "p90_seconds", relativeError = "relative_error"
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(exitsMeasured, forKey: .exitsMeasured); try c.encode(medianSeconds, forKey: .medianSeconds)
            try c.encode(p90Seconds, forKey: .p90Seconds); try c.encode(relativeError, forKey: .relativeError)
        }
    }
    struct Channels: Encodable {
        var firstTouch: [String: Int]; var lastTouch: [String: Int]
        enum CodingKeys: String, CodingKey { case firstTouch = "first_touch", lastTouch = "last_touch" }
    }
    var segment: String; var owner: String?; var goal: SegmentRoutes.GoalView?; var from: Timestamp; var to: Timestamp; var interval: String
    var steps: [Step]; var totals: Totals; var timeInSegment: Stay; var entrantsByChannel: Channels
    enum CodingKeys: String, CodingKey {
        case segment, owner, goal, from, to, interval, steps, totals, timeInSegment = "time_in_segment", entrantsByChannel = "entrants_by_channel"
    }

    /// `goal` counts appear in steps and totals only when the segment has a goal.
    init(_ r: SegmentMetricsReads.Report, owner: String?, goal: Goal?) {
        segment = r.segment; self.owner = owner; self.goal = goal.map(SegmentRoutes.GoalView.init)
        from = Timestamp(r.from); to = Timestamp(r.to); interval = r.interval.rawValue
        let hasGoal = goal != nil
        steps = r.steps.map { Step(start: Timestamp($0.start), size: $0.size, entries: $0.counts.entries, exits: $0.counts.exits,
                                   exitsByReason: Exits($0.counts), goal: hasGoal ? GoalCounts($0.counts) : nil) }
        totals = Totals(entries: r.totals.entries, exits: r.totals.exits, exitsByReason: Exits(r.totals), goal: hasGoal ? GoalCounts(r.totals) : nil)
        timeInSegment = Stay(exitsMeasured: r.exitsMeasured, medianSeconds: r.medianSeconds.map { ($0 * 10).rounded() / 10 },
                             p90Seconds: r.p90Seconds.map { ($0 * 10).rounded() / 10 }, relativeError: 0.0905)
        entrantsByChannel = Channels(firstTouch: r.channels["first"] ?? [:], lastTouch: r.channels["last"] ?? [:])
    }
}
