import Foundation
import HTTPServer
import Ingest
import LeadStore
import Segmentation

/// `GET /v1/segments` (definitions and live sizes) and `GET /v1/segments/{name}/members`
/// (each member's email, score, stage and entry time; newest entry or highest score first,
/// cursor paging), scope `read`.
public struct SegmentRoutes: Sendable {
    let rules: ActiveEngine
    let reads: LeadReads
    let metrics: SegmentMetricsRoutes

    /// Definitions from the active ruleset version (`rules`); sizes and members through `reads`;
    /// metrics through `metrics` (ranges ending now by `clock`).
    package init(rules: ActiveEngine, reads: LeadReads, metrics: SegmentMetricsReads, clock: @escaping @Sendable () -> Date) {
        self.rules = rules; self.reads = reads
        self.metrics = SegmentMetricsRoutes(rules: rules, metrics: metrics, clock: clock)
    }

    struct Definition: Encodable {
        var name: String; var description: String?; var owner: String?; var priority: Int
        var enter: String; var exit: String?; var goal: GoalView?; var size: Int
    }
    /// A segment's `goal`: the rule's text and the horizon as written (`30d`).
    struct GoalView: Encodable {
        var when: String; var within: String
        init(_ g: Goal) { when = g.when.text; within = g.within.description }
    }
    struct Definitions: Encodable {
        var rulesetVersion: Int; var data: [Definition]
        enum CodingKeys: String, CodingKey { case rulesetVersion = "ruleset_version", data }
    }
    struct Member: Encodable {
        var leadId: String; var email: String?; var score: Double; var stage: String?; var enteredAt: Timestamp
        enum CodingKeys: String, CodingKey { case leadId = "lead_id", email, score, stage, enteredAt = "entered_at" }
        init(_ m: SegmentMember) {
            leadId = m.leadId.uuidString.lowercased(); email = m.email; score = round3(m.score); stage = m.stage
            enteredAt = Timestamp(m.enteredAt)
        }
        /// Absent values are `null`, never left out.
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(leadId, forKey: .leadId); try c.encode(email, forKey: .email); try c.encode(score, forKey: .score)
            try c.encode(stage, forKey: .stage); try c.encode(enteredAt, forKey: .enteredAt)
        }
    }
    struct Members: Encodable {
        var segment: String; var order: String; var data: [Member]; var nextCursor: String?
        enum CodingKeys: String, CodingKey { case segment, order, data, nextCursor = "next_cursor" }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(segment, forKey: .segment); try c.encode(order, forKey: .order); try c.encode(data, forKey: .data)
            try c.encode(nextCursor, forKey: .nextCursor)
        }
    }

    package func install(into v1: inout RouterGroup<APIContext>, _ api: APIMiddleware) {
        v1.group("/segments", middleware: api.authenticated(.read)) { segments in
            segments.get { _, _ in
                let sizes = try reads.segmentSizes(), engine = rules.engine
                let data = engine.ruleset.segments.map {
                    Definition(name: $0.name, description: $0.description, owner: $0.owner, priority: $0.priority,
                               enter: $0.enter.text, exit: $0.exit?.text, goal: $0.goal.map(GoalView.init), size: sizes[$0.name] ?? 0)
                }
                return .json(Definitions(rulesetVersion: engine.ruleset.version, data: data))
            }
            segments.get("/{name}/members") { request, _ in
                let name = request.pathParameters["name"] ?? ""
                guard rules.engine.ruleset.segments.contains(where: { $0.name == name }) else {
                    throw HTTPError(.notFound, detail: "no segment named '\(name)' in the active ruleset")
                }
                let limit = try LeadRoutes.limit(request)
                let order = try LeadListRequest.memberOrder(request)
                let page = try reads.members(of: name, order: order, limit: limit, cursor: request.queryValue("cursor"))
                return .json(Members(segment: name, order: order.rawValue, data: page.items.map(Member.init), nextCursor: page.nextCursor))
            }
            metrics.install(into: &segments)
        }
    }
}
