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

    /// The route, its answers gzip-compressed for clients that ask (`CompressResponses`).
    func install(into segments: inout RouterGroup<APIContext>) {
        segments.group(middleware: [CompressResponses()]) { segments in
            segments.get("/{name}/metrics") { request, _ in
                let name = request.pathParameters["name"] ?? ""
                guard let segment = rules.engine.ruleset.segments.first(where: { $0.name == name }) else {
                    throw HTTPError(.notFound, detail: "no segment named '\(name)' in the active ruleset")
                }
                let r = try Self.decode(request, now: clock())
                let report = try metrics.report(segment: name, from: r.from, to: r.to, interval: r.interval)
                return SegmentMetricsJSON.response(report, owner: segment.owner, goal: segment.goal)
            }
        }
    }
}
