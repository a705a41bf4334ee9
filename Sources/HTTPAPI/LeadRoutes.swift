import Foundation
import HTTPServer
import Ingest
import LeadStore
import Profiles
import Segmentation

/// The CRM-facing read API (scope `read`): leads by id or identity, lists of leads by segment,
/// stage, status, owner and update time, their segments with history, their decisions (cursor
/// paging, per-lead order); and CRM status changes (scope `write`).
public struct LeadRoutes: Sendable {
    let service: IngestService
    let reads: LeadReads
    /// The active ruleset names the segments a list may filter on.
    var engine: Engine { service.engine }

    /// Reads through `reads`; status changes through `service` (they re-evaluate the lead).
    package init(service: IngestService, reads: LeadReads) { self.service = service; self.reads = reads }

    package func install(into v1: inout RouterGroup<APIContext>, _ api: APIMiddleware) {
        v1.group("/leads", middleware: api.authenticated(.read)) { leads in
            leads.get { request, _ in try find(request) }
            leads.get("/{id}") { request, _ in try lead(request) }
            leads.get("/{id}/segments") { request, _ in try segments(request) }
            leads.get("/{id}/decisions") { request, _ in try decisions(request) }
        }
        // CRM changes need `write`: a read-only key (a dashboard, a BI export) cannot move a status.
        v1.group("/leads", middleware: api.authenticated(.write)) { leads in
            leads.patch("/{id}", maxBodyBytes: 16 * 1024) { request, _ in try patch(request) }
        }
    }

    func lead(_ request: HTTPRequest) throws -> HTTPResponse {
        guard let found = try reads.lead(try Self.leadId(request)) else { throw Self.notFound }
        return .json(LeadView(found))
    }

    /// `GET /v1/leads?email=|user_id=|anonymous_id=` finds one lead; without those, a list.
    func find(_ request: HTTPRequest) throws -> HTTPResponse {
        let key: IdentityKey
        if let email = request.queryValue("email") {
            guard let normalised = EmailAddress(email) else {
                throw HTTPError(.badRequest, detail: "not a valid email address", errors: [.init(pointer: "/query/email", detail: "is not a valid email address")])
            }
            key = IdentityKey(.email, normalised.value)
        } else if let user = request.queryValue("user_id") {
            key = IdentityKey(.userId, user)
        } else if let anonymous = request.queryValue("anonymous_id") {
            key = IdentityKey(.anonymousId, anonymous)
        } else {
            return try list(request)
        }
        guard let found = try reads.lead(for: key) else { throw Self.notFound }
        return .json(LeadView(found))
    }

    /// `GET /v1/leads?segment=&stage=&status=&owner_id=&updated_since=&order=score|updated_at`.
    func list(_ request: HTTPRequest) throws -> HTTPResponse {
        let query = try LeadListRequest.decode(request, segments: Set(engine.ruleset.segments.map(\.name)))
        let page = try reads.leads(query, limit: try Self.limit(request), cursor: request.queryValue("cursor"))
        return .json(PageView(data: page.items.map(LeadView.init), nextCursor: page.nextCursor))
    }

    struct SegmentsView: Encodable {
        struct Current: Encodable { var segment: String; var enteredAt: Timestamp
            enum CodingKeys: String, CodingKey { case segment, enteredAt = "entered_at" } }
        struct History: Encodable {
            var segment: String; var change: String; var reason: PostgresJSONValue?; var rulesetVersion: Int
            var eventId: String?; var occurredAt: Timestamp
            enum CodingKeys: String, CodingKey {
                case segment, change, reason, rulesetVersion = "ruleset_version", eventId = "event_id", occurredAt = "occurred_at"
            }
            func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(segment, forKey: .segment); try c.encode(change, forKey: .change); try c.encode(reason, forKey: .reason)
                try c.encode(rulesetVersion, forKey: .rulesetVersion); try c.encode(eventId, forKey: .eventId)
                try c.encode(occurredAt, forKey: .occurredAt)
            }
        }
        var leadId: String; var primarySegment: String?; var current: [Current]; var history: [History]
        enum CodingKeys: String, CodingKey { case leadId = "lead_id", primarySegment = "primary_segment", current, history }
        /// `primary_segment` is `null` when the lead is in no segment, never left out.
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(leadId, forKey: .leadId); try c.encode(primarySegment, forKey: .primarySegment)
            try c.encode(current, forKey: .current); try c.encode(history, forKey: .history)
        }
    }

    func segments(_ request: HTTPRequest) throws -> HTTPResponse {
        guard let found = try reads.segments(of: try Self.leadId(request)) else { throw Self.notFound }
        let current = found.current.map { SegmentsView.Current(segment: $0.segment, enteredAt: Timestamp($0.enteredAt)) }
        let history = try found.history.map {
            SegmentsView.History(segment: $0.segment, change: $0.change, reason: try $0.reason.map(PostgresJSONValue.init),
                                 rulesetVersion: $0.rulesetVersion, eventId: $0.eventId?.uuidString.lowercased(),
                                 occurredAt: Timestamp($0.occurredAt))
        }
        return .json(SegmentsView(leadId: found.lead.id.uuidString.lowercased(), primarySegment: found.lead.primarySegment,
                                  current: current, history: history))
    }

    /// A page of a list: `data` and `next_cursor` (`null` on the last page).
    struct PageView<Item: Encodable>: Encodable {
        var data: [Item]
        var nextCursor: String?
        enum CodingKeys: String, CodingKey { case data, nextCursor = "next_cursor" }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(data, forKey: .data)
            try c.encode(nextCursor, forKey: .nextCursor)
        }
    }

    func decisions(_ request: HTTPRequest) throws -> HTTPResponse {
        let limit = try Self.limit(request)
        let id = try Self.leadId(request)
        guard let page = try reads.decisions(of: id, limit: limit, cursor: request.queryValue("cursor")) else { throw Self.notFound }
        return .json(PageView(data: try page.items.map { try PostgresJSONValue($0.document) }, nextCursor: page.nextCursor))
    }

    struct StatusPatch: Decodable { var status: String? }

    func patch(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try Self.leadId(request)
        try reads.refuseErased(id)
        guard let patch = try? JSONDecoder().decode(StatusPatch.self, from: Data(request.body)) else {
            throw HTTPError(.badRequest, detail: "the body must be a JSON object", errors: [.init(pointer: "", detail: "must be a JSON object")])
        }
        guard let status = patch.status else {
            throw HTTPError(.unprocessableContent, detail: "status is required", errors: [.init(pointer: "/status", detail: "is required")])
        }
        guard status.range(of: "^[a-z0-9][a-z0-9_.-]{0,127}$", options: .regularExpression) != nil else {
            throw HTTPError(.unprocessableContent, detail: "status must be a lowercase name",
                            errors: [.init(pointer: "/status", detail: "must match ^[a-z0-9][a-z0-9_.-]{0,127}$")])
        }
        guard let result = try service.setStatus(status, lead: id),
              let found = try reads.storedLead(result.leadId) else { throw Self.notFound }
        return .json(LeadView(found))
    }

    static let notFound = HTTPError(.notFound, detail: "no such lead")

    static func leadId(_ request: HTTPRequest) throws -> UUID {
        guard let text = request.pathParameters["id"], let id = UUID(uuidString: text) else {
            throw HTTPError(.notFound, detail: "no such lead (ids are UUIDs)")
        }
        return id
    }

    static func limit(_ request: HTTPRequest) throws -> Int {
        guard let text = request.queryValue("limit") else { return 50 }
        guard let n = Int(text), (1...500).contains(n) else {
            throw HTTPError(.badRequest, detail: "limit must be 1…500", errors: [.init(pointer: "/query/limit", detail: "must be an integer from 1 to 500")])
        }
        return n
    }
}

