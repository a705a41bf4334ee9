import Essentials
import Foundation
import HTTPServer
import LeadStore
import Segmentation

/// The query of `GET /v1/leads` as a list, checked before anything reaches the database: every
/// problem is a 400 naming its parameter (`/query/<name>`), all of them at once.
enum LeadListRequest {
    /// Stage, status and segment names have the shape of `leadrouter_name` in the schema.
    static let namePattern = "^[a-z0-9][a-z0-9_.-]{0,127}$"

    static func decode(_ request: HTTPRequest, segments: Set<String>) throws -> LeadListQuery {
        var errors: [FieldError] = []
        func name(_ parameter: String) -> String? {
            guard let value = request.queryValue(parameter) else { return nil }
            guard value.range(of: namePattern, options: .regularExpression) != nil else {
                errors.append(.init(pointer: "/query/\(parameter)", detail: "must match \(namePattern)"))
                return nil
            }
            return value
        }
        var query = LeadListQuery()
        query.segment = name("segment")
        if let segment = query.segment, !segments.contains(segment) {
            errors.append(.init(pointer: "/query/segment", detail: "no segment named '\(segment)' in the active ruleset"))
        }
        query.stage = name("stage")
        query.status = name("status")
        if let owner = request.queryValue("owner_id") {
            if owner.isEmpty || owner.utf8.count > 256 || owner.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                errors.append(.init(pointer: "/query/owner_id", detail: "must be 1 to 256 bytes without control characters"))
            } else {
                query.ownerId = owner
            }
        }
        if let since = request.queryValue("updated_since") {
            if let at = Timestamp.parse(since) { query.updatedSince = at.date } else {
                errors.append(.init(pointer: "/query/updated_since", detail: "must be an RFC 3339 timestamp, e.g. 2026-11-24T10:00:00Z"))
            }
        }
        if let order = request.queryValue("order") {
            if let known = LeadListQuery.Order(rawValue: order) { query.order = known } else {
                errors.append(.init(pointer: "/query/order", detail: "must be one of score, updated_at"))
            }
        }
        guard errors.isEmpty else { throw HTTPError(.badRequest, detail: "the lead list query is not valid", errors: errors) }
        return query
    }

    /// `order` of `GET /v1/segments/{name}/members`: `entered_at` (the default) or `score`.
    static func memberOrder(_ request: HTTPRequest) throws -> MemberOrder {
        guard let text = request.queryValue("order") else { return .enteredAt }
        guard let order = MemberOrder(rawValue: text) else {
            throw HTTPError(.badRequest, detail: "order must be entered_at or score",
                            errors: [.init(pointer: "/query/order", detail: "must be one of entered_at, score")])
        }
        return order
    }
}
