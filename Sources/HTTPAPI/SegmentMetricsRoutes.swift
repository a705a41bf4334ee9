import Foundation
import HTTPServer
import Ingest
import LeadStore
import Segmentation

/// `GET /v1/segments/{name}/metrics?from=&to=&interval=hour|day|week`, scope `read`: decodes the
/// range, reads the rollups through `SegmentMetricsReads`, encodes (docs/insight.md).
struct SegmentMetricsRoutes: Sendable {
    let rules: ActiveEngine
    let metrics: SegmentMetricsReads
    let clock: @Sendable () -> Date

    /// More steps than this is a request for a chart nobody can read (an hour per step covers 416 days).
    static let maxSteps = 10_000

    struct Request {
        var from: Date, to: Date, interval: SegmentMetricsReads.Interval
    }

    /// `from` and `to` (RFC 3339, `to` defaults to now, `from` to 30 steps before `to`) and `interval` (default `day`).
    static func decode(_ request: HTTPRequest, now: Date) throws -> Request {
        var errors: [ProblemFieldError] = []
        var interval = SegmentMetricsReads.Interval.day
        if let text = request.queryValue("interval") {
            if let i = SegmentMetricsReads.Interval(rawValue: text) { interval = i } else {
                errors.append(.init(pointer: "/query/interval", detail: "must be hour, day or week"))
            }
        }
        func time(_ name: String) -> Date? {
            guard let text = request.queryValue(name) else { return nil }
            guard let t = Timestamp.parse(text) else {
                errors.append(.init(pointer: "/query/\(name)", detail: "must be an RFC 3339 date-time with a zone, e.g. 2026-11-01T00:00:00Z"))
                return nil
            }
            return t.date
        }
        let to = time("to") ?? now
        let from = time("from") ?? to.addingTimeInterval(-30 * interval.seconds)
        if errors.isEmpty, from >= to {
            errors.append(.init(pointer: "/query/from", detail: "must be before to"))
        } else if errors.isEmpty, to.timeIntervalSince(from) / interval.seconds > Double(maxSteps) {
            errors.append(.init(pointer: "/query/interval", detail: "the range holds more than \(maxSteps) steps of one \(interval.rawValue); choose a longer interval or a shorter range"))
        }
        guard errors.isEmpty else { throw HTTPError(.badRequest, detail: "invalid metrics range", errors: errors) }
        return Request(from: from, to: to, interval: interval)
    }

    func install(into segments: inout RouterGroup<APIContext>) {
        segments.get("/{name}/metrics") { request, _ in
            let name = request.pathParameters["name"] ?? ""
            guard let segment = rules.engine.ruleset.segments.first(where: { $0.name == name }) else {
                throw HTTPError(.notFound, detail: "no segment named '\(name)' in the active ruleset")
            }
            let r = try Self.decode(request, now: clock())
            let report = try metrics.report(segment: name, from: r.from, to: r.to, interval: r.interval)
            return .json(SegmentMetricsView(report, owner: segment.owner, goal: segment.goal))
        }
    }
}

/// The JSON of a segment's metrics; keys in snake case, times RFC 3339.
struct SegmentMetricsView: Encodable {
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
