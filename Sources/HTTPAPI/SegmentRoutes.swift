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
    let clock: @Sendable () -> Date

    /// Definitions from the active ruleset version (`rules`); sizes and members through `reads`;
    /// metrics through `metrics` (ranges ending now by `clock`).
    package init(rules: ActiveEngine, reads: LeadReads, metrics: SegmentMetricsReads, clock: @escaping @Sendable () -> Date) {
        self.rules = rules; self.reads = reads; self.clock = clock
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
        /// The member's score in the segment's own `score:`, decayed to now (segment-score ranking only).
        var segmentScore: Double?
        enum CodingKeys: String, CodingKey {
            case leadId = "lead_id", email, score, stage, enteredAt = "entered_at", segmentScore = "segment_score"
        }
        init(_ m: SegmentMember, halfLife: Int64? = nil, now: Date? = nil) {
            leadId = m.leadId.uuidString.lowercased(); email = m.email; score = round3(m.score); stage = m.stage
            enteredAt = Timestamp(m.enteredAt)
            if let rank = m.segmentRank, let now { segmentScore = round3(rank.score(at: Timestamp(now).milliseconds, halfLife: halfLife)) }
        }
        /// Absent values are `null`, never left out (`segment_score` is only in a segment-score ranking).
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(leadId, forKey: .leadId); try c.encode(email, forKey: .email); try c.encode(score, forKey: .score)
            try c.encode(stage, forKey: .stage); try c.encode(enteredAt, forKey: .enteredAt)
            try c.encodeIfPresent(segmentScore, forKey: .segmentScore)
        }
    }
    struct Members: Encodable {
        var segment: String; var order: String; var data: [Member]; var nextCursor: String?
        /// What `order=score` ranked by: `segment_score` (the segment has a `score:`) or `lead_score`.
        var rankedBy: String?
        enum CodingKeys: String, CodingKey { case segment, order, data, nextCursor = "next_cursor", rankedBy = "ranked_by" }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(segment, forKey: .segment); try c.encode(order, forKey: .order); try c.encode(data, forKey: .data)
            try c.encode(nextCursor, forKey: .nextCursor); try c.encodeIfPresent(rankedBy, forKey: .rankedBy)
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
                let ruleset = rules.engine.ruleset
                if order == .score, ruleset.hasSegmentScore(name) {
                    return .json(try rankedMembers(name, ruleset: ruleset, limit: limit, request))
                }
                let page = try reads.members(of: name, order: order, limit: limit, cursor: request.queryValue("cursor"))
                return .json(Members(segment: name, order: order.rawValue, data: page.items.map { Member($0) }, nextCursor: page.nextCursor,
                                     rankedBy: order == .score ? "lead_score" : nil))
            }
            metrics.install(into: &segments)
        }
    }

    /// `order=score` on a segment with its own `score:`: members by that score decayed to now
    /// (the stored rank key orders them at every `now`), paged by a (rank key, lead id) cursor.
    func rankedMembers(_ name: String, ruleset: Ruleset, limit: Int, _ request: HTTPRequest) throws -> Members {
        var cursor: MemberRankCursor?
        if let text = request.queryValue("cursor") {
            guard let parsed = MemberRankCursor(text: text) else {
                throw HTTPError(.badRequest, detail: "the cursor is not one this listing returned",
                                errors: [.init(pointer: "/query/cursor", detail: "must be a next_cursor of a score-ordered page of this segment")])
            }
            cursor = parsed
        }
        let page = try reads.membersByRank(of: name, limit: limit, after: cursor)
        let halfLife = ruleset.segmentScoreHalfLife(name), now = clock()
        return Members(segment: name, order: MemberOrder.score.rawValue, data: page.items.map { Member($0, halfLife: halfLife, now: now) },
                       nextCursor: page.next?.text, rankedBy: "segment_score")
    }
}
